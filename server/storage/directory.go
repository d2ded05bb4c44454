package storage

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// dirIndex holds every user's directory fields (no secrets) in memory, by
// login and by _id. FerretDB v1 answers any query but by _id with a scan of
// the whole collection, so matching a sync's logins, a department filter
// or a people search against the database costs a scan each, growing with
// the company. While this process is the database's only writer
// (SetSoleWriter), every user write goes through writeUser, which applies
// it to the index too, so the index is authoritative: loaded by one scan
// at start, then never read from the database again. Instances that
// share a database (SetShared) have no index and ask the database, whose
// indexes (login, department) a real MongoDB uses.
type dirIndex struct {
	// write is held across a user write and its application here (and
	// across a load), so the index applies writes in the database's order.
	// Embedded writes are queued one at a time anyway (database/serial.go).
	write sync.Mutex

	mu      sync.RWMutex // guards the fields below
	loaded  bool
	byLogin map[string]*dirEntry // entries are never changed, only replaced
	byID    map[string]*dirEntry
	order   []string // the logins, sorted; nil when a login came or went since
	strs    *dirStrings

	// loading, while a load runs, names the users written since it began:
	// their secrets as the load read them may be old, so it keeps none.
	loading map[string]struct{}
}

// dirEntry is one user in the index. At 100,000 people every byte of it
// counts (BenchmarkDirectoryMemory): the values many people share are
// interned (see dirStrings), the secrets of most are one shared empty
// value, and the lower-case search text is kept only when it differs from
// the fields.
type dirEntry struct {
	u *model.User // shared, read only: its strings and role list may be interned
	// key, when not empty, is login, name, department and manager in lower
	// case, 0-separated, for a user whose fields are not all lower case
	// already; empty, a people search matches the fields themselves.
	key string
	// sec, when set, is what the user's document held beside u when the
	// index was loaded, so that User needs no second copy of everyone
	// (keptUser); dropped at the user's first write since (the next User
	// reads the document, and the users cache keeps that).
	sec *userSecrets
}

// userSecrets are the fields of a user the directory does not give out.
type userSecrets struct {
	passwordHash       string
	mfa                *model.MFA // nil: none (the zero MFA)
	unread             int
	mustChangePassword bool
}

// noSecrets is the secrets of everyone who has none (no password, as
// people invited or signing on through a provider, no second factor, no
// unread notice): one value for them all.
var noSecrets = &userSecrets{}

// secretsOf is u's secrets, noSecrets when they are all empty.
func secretsOf(u *model.User) *userSecrets {
	m := u.MFA
	if !m.Enabled && m.Secret == "" && m.Pending == "" && m.LastStep == 0 && m.Recovery == nil && m.Since.IsZero() {
		if u.PasswordHash == "" && !u.MustChangePassword && u.Unread == 0 {
			return noSecrets
		}
		return &userSecrets{passwordHash: u.PasswordHash, unread: u.Unread, mustChangePassword: u.MustChangePassword}
	}
	return &userSecrets{passwordHash: u.PasswordHash, mfa: &m, unread: u.Unread, mustChangePassword: u.MustChangePassword}
}

// dirStrings interns what many users share: departments, managers,
// languages and role lists (100,000 people name 50 departments and a few
// thousand managers), so each is held once, not once a person. Its
// owner's lock guards it; the values it gives are read only.
type dirStrings struct {
	strs  map[string]string
	roles map[string][]string
}

func newDirStrings() *dirStrings {
	return &dirStrings{strs: map[string]string{}, roles: map[string][]string{}}
}

func (in *dirStrings) str(v string) string {
	if v == "" {
		return ""
	}
	if c, ok := in.strs[v]; ok {
		return c
	}
	in.strs[v] = v
	return v
}

func (in *dirStrings) roleList(r []string) []string {
	if len(r) == 0 {
		return r
	}
	k := strings.Join(r, "\x00")
	if c, ok := in.roles[k]; ok {
		return c
	}
	c := slices.Clip(slices.Clone(r)) // no append may reach past it
	in.roles[k] = c
	return c
}

// newEntry makes the entry of u, a user without secrets the index keeps
// from now on: it interns u's shared values in place.
func newEntry(u *model.User, in *dirStrings) *dirEntry {
	u.Department, u.Manager, u.Manages, u.Lang = in.str(u.Department), in.str(u.Manager), in.str(u.Manages), in.str(u.Lang)
	u.Roles = in.roleList(u.Roles)
	e := &dirEntry{u: u}
	if strings.ToLower(u.Login) != u.Login || strings.ToLower(u.Name) != u.Name ||
		strings.ToLower(u.Department) != u.Department || strings.ToLower(u.Manager) != u.Manager {
		e.key = strings.ToLower(u.Login + "\x00" + u.Name + "\x00" + u.Department + "\x00" + u.Manager)
	}
	return e
}

// matches reports whether t, a lower-case term, is in e's search text.
func (e *dirEntry) matches(t string) bool {
	if e.key != "" {
		return strings.Contains(e.key, t)
	}
	u := e.u
	if strings.Contains(t, "\x00") { // as the joined text would match it
		return strings.Contains(u.Login+"\x00"+u.Name+"\x00"+u.Department+"\x00"+u.Manager, t)
	}
	return strings.Contains(u.Login, t) || strings.Contains(u.Name, t) || strings.Contains(u.Department, t) || strings.Contains(u.Manager, t)
}

// indexed returns the loaded index, loading it first, or nil when this
// process is not the database's only writer.
func (s *Storage) indexed(ctx context.Context) (*dirIndex, error) {
	d := s.dir
	if d == nil {
		return nil, nil
	}
	d.mu.RLock()
	loaded := d.loaded
	d.mu.RUnlock()
	if loaded {
		return d, nil
	}
	d.write.Lock()
	defer d.write.Unlock()
	return d, s.loadIndex(ctx)
}

// LoadDirectory fills the in-memory directory of a sole writer in one scan
// of the users (at start, so the first sync or search does not wait for
// it) and logs what it took.
func (s *Storage) LoadDirectory(ctx context.Context, log *slog.Logger) error {
	d := s.dir
	if d == nil {
		return nil
	}
	t0 := time.Now()
	d.write.Lock()
	defer d.write.Unlock()
	if err := s.loadIndex(ctx); err != nil {
		return err
	}
	d.mu.RLock()
	n := len(d.byID)
	d.mu.RUnlock()
	log.Info("directory loaded", "users", n, "took", time.Since(t0).Round(time.Millisecond).String())
	return nil
}

// loadIndex reads every user once, unless loaded; d.write is held. For a
// sole writer (whose users cache keeps) the same scan reads the whole
// documents and keeps each user's secrets on its entry, so the start scans
// the users once, not again in LoadKept, and holds one copy of each user,
// not a second in the users cache (User answers from the entry).
func (s *Storage) loadIndex(ctx context.Context) error {
	d := s.dir
	d.mu.Lock()
	loaded := d.loaded
	if !loaded {
		d.loading = map[string]struct{}{}
	}
	d.mu.Unlock()
	if loaded {
		return nil
	}
	byLogin, byID, strs, err := s.scanDirectory(ctx, s.users.keeps())
	d.mu.Lock()
	defer d.mu.Unlock()
	written := d.loading
	d.loading = nil
	if err != nil {
		return err
	}
	for id := range written {
		if e := byID[id]; e != nil {
			e.sec = nil
		}
	}
	d.byLogin, d.byID, d.strs, d.order, d.loaded = byLogin, byID, strs, nil, true
	return nil
}

// scanDirectory reads every user into directory entries, by login and by
// _id; with secrets, the whole documents, each entry with its secrets.
func (s *Storage) scanDirectory(ctx context.Context, secrets bool) (byLogin, byID map[string]*dirEntry, strs *dirStrings, err error) {
	var fields []string
	if !secrets {
		fields = slices.Collect(maps.Keys(directoryFields))
	}
	l := newDirLoad()
	err = s.scan(ctx, colUsers, fields, "", nil, func(doc bson.Raw) error {
		u := &model.User{}
		if err := bson.Unmarshal(doc, u); err != nil {
			return err
		}
		l.add(u, secrets)
		return nil
	})
	if err != nil {
		return nil, nil, nil, wrap("load directory", err)
	}
	return l.byLogin, l.byID, l.strs, nil
}

// dirLoad is a directory being built by a load.
type dirLoad struct {
	byLogin, byID map[string]*dirEntry
	strs          *dirStrings
}

func newDirLoad() *dirLoad {
	return &dirLoad{byLogin: map[string]*dirEntry{}, byID: map[string]*dirEntry{}, strs: newDirStrings()}
}

// add keeps u, a user as decoded from the database, which the directory
// then owns; with secrets, u is the whole document and its entry keeps
// its secrets.
func (l *dirLoad) add(u *model.User, secrets bool) {
	var sec *userSecrets
	if secrets {
		sec = secretsOf(u)
		stripSecrets(u)
	}
	e := newEntry(u, l.strs)
	e.sec = sec
	l.byLogin[u.Login], l.byID[u.ID] = e, e
}

// stripSecrets empties what the directory never holds: the password,
// second factor and unread count.
func stripSecrets(u *model.User) {
	u.PasswordHash, u.MustChangePassword, u.MFA, u.Unread = "", false, model.MFA{}, 0
}

// keptUser is user id as its document was when the index was loaded, if
// the index holds their secrets from then (no write of them since).
func (d *dirIndex) keptUser(id string) (*model.User, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e := d.byID[id]
	if e == nil || e.sec == nil {
		return nil, false
	}
	u := copyUser(e.u)
	u.PasswordHash, u.MustChangePassword, u.Unread = e.sec.passwordHash, e.sec.mustChangePassword, e.sec.unread
	if m := e.sec.mfa; m != nil {
		u.MFA = *m
		u.MFA.Recovery = slices.Clone(m.Recovery)
	}
	return u, true
}

// written forgets the secrets kept for user id after a write of them (a
// running load keeps none of theirs).
func (d *dirIndex) written(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loading != nil {
		d.loading[id] = struct{}{}
	}
	if e := d.byID[id]; e != nil && e.sec != nil {
		d.replaceWithoutSecrets(id, e)
	}
}

// forgetSecrets makes every User read the user's document again (after
// a change behind storage's back), keeping the index.
func (d *dirIndex) forgetSecrets() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, e := range d.byID {
		if e.sec != nil {
			d.replaceWithoutSecrets(id, e)
		}
	}
}

// replaceWithoutSecrets replaces e, user id's entry, by a copy without
// its secrets (entries are replaced, never changed); d.mu is held.
func (d *dirIndex) replaceWithoutSecrets(id string, e *dirEntry) {
	c := *e
	c.sec = nil
	d.byID[id], d.byLogin[e.u.Login] = &c, &c
}

// usersKept is how many users the directory holds with their secrets,
// loading it first when it is not (LoadKept).
func (s *Storage) usersKept(ctx context.Context) (int, error) {
	d := s.dir
	d.write.Lock()
	err := s.loadIndex(ctx)
	d.write.Unlock()
	if err != nil {
		return 0, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := 0
	for _, e := range d.byID {
		if e.sec != nil {
			n++
		}
	}
	return n, nil
}

// forget makes the next use of the index load it again: after a write
// whose outcome is unknown, or a change behind storage's back (restore).
func (d *dirIndex) forget() {
	d.mu.Lock()
	d.loaded, d.byLogin, d.byID, d.strs, d.order = false, nil, nil, nil, nil
	d.mu.Unlock()
}

// writeUser runs write, a write of users, and then apply on the index (when
// there is one and it is loaded), both under d.write. apply changes the
// index through the indexWriter. A failed write that is known to have
// changed nothing (model.ErrNotFound, model.ErrDuplicate of one document) leaves the
// index as it is when clean is true; any other failure makes the index
// load again on its next use.
func (s *Storage) writeUser(write func() error, clean bool, apply func(w indexWriter)) error {
	d := s.dir
	if d == nil {
		return write()
	}
	d.write.Lock()
	defer d.write.Unlock()
	err := write()
	if err != nil {
		if !clean || !(errors.Is(err, model.ErrNotFound) || errors.Is(err, model.ErrDuplicate)) {
			d.forget()
		}
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded && apply != nil {
		apply(indexWriter{d})
	}
	return nil
}

// indexWriter changes the index; d.mu is held.
type indexWriter struct{ d *dirIndex }

// put adds or replaces u (a copy without secrets is kept).
func (w indexWriter) put(u *model.User) {
	c := copyUser(u)
	stripSecrets(c)
	old := w.d.byID[c.ID]
	if old == nil || old.u.Login != c.Login {
		w.d.order = nil
	}
	if old != nil && old.u.Login != c.Login {
		delete(w.d.byLogin, old.u.Login)
	}
	e := newEntry(c, w.d.strs)
	w.d.byLogin[c.Login], w.d.byID[c.ID] = e, e
}

// change replaces user id's entry by a copy that fn changed; an id the
// index does not hold (the write matched nothing) is left alone.
func (w indexWriter) change(id string, fn func(u *model.User)) {
	old := w.d.byID[id]
	if old == nil {
		return
	}
	c := copyUser(old.u)
	fn(c)
	w.put(c)
}

// readSorted calls fn with the logins in order, under the read lock (so
// fn may read byLogin), sorting them first when a login came or went.
func (d *dirIndex) readSorted(fn func(order []string)) {
	for {
		d.mu.RLock()
		if d.order != nil || len(d.byLogin) == 0 {
			defer d.mu.RUnlock()
			fn(d.order)
			return
		}
		d.mu.RUnlock()
		d.mu.Lock()
		if d.order == nil {
			order := make([]string, 0, len(d.byLogin))
			for l := range d.byLogin {
				order = append(order, l)
			}
			slices.Sort(order)
			d.order = order
		}
		d.mu.Unlock()
	}
}

// UsersByLogin returns the users with the given logins, without secrets,
// by login; a login nobody has is missing from the map. The index answers
// when there is one; otherwise one query by the login index.
func (s *Storage) UsersByLogin(ctx context.Context, logins []string) (map[string]*model.User, error) {
	out := make(map[string]*model.User, len(logins))
	d, err := s.indexed(ctx)
	if err != nil {
		return nil, err
	}
	if d != nil {
		d.mu.RLock()
		defer d.mu.RUnlock()
		for _, l := range logins {
			if e := d.byLogin[l]; e != nil {
				out[l] = copyUser(e.u)
			}
		}
		return out, nil
	}
	if len(logins) == 0 {
		return out, nil
	}
	cur, err := s.c(colUsers).Find(ctx, bson.M{"login": bson.M{"$in": logins}}, options.Find().SetProjection(directoryFields))
	if err != nil {
		return nil, wrap("users by login", err)
	}
	var users []model.User
	if err := cur.All(ctx, &users); err != nil {
		return nil, wrap("users by login", err)
	}
	for i := range users {
		out[users[i].Login] = &users[i]
	}
	return out, nil
}

// SearchUsers returns a page of the people s selects, by login, without
// secrets, and whether more follow.
func (s *Storage) SearchUsers(ctx context.Context, q model.UserSearch) ([]model.User, bool, error) {
	limit := q.Limit
	switch {
	case limit == model.SearchAll:
		limit = math.MaxInt - 1
	case limit <= 0 || limit > model.MaxSearchLimit:
		limit = 50
	}
	terms := strings.Fields(strings.ToLower(q.Q))
	d, err := s.indexed(ctx)
	if err != nil {
		return nil, false, err
	}
	if d == nil {
		return s.searchDatabase(ctx, q, terms, limit)
	}
	var out []model.User
	more := false
	d.readSorted(func(order []string) {
		i, _ := slices.BinarySearch(order, q.After)
		out = make([]model.User, 0, min(limit, 1024))
		for ; i < len(order); i++ {
			e := d.byLogin[order[i]]
			if order[i] == q.After || !selects(q, e, terms) {
				continue
			}
			if len(out) == limit {
				more = true
				return
			}
			out = append(out, *copyUser(e.u))
		}
	})
	return out, more, nil
}

// selects reports whether e passes q's filters, terms being q.Q's words
// in lower case. A term matches anywhere in a field, not only at a word's
// start: Chinese names have no spaces between words.
func selects(q model.UserSearch, e *dirEntry, terms []string) bool {
	if q.Department != "" && e.u.Department != q.Department {
		return false
	}
	if q.Active != nil && e.u.Active != *q.Active {
		return false
	}
	for _, t := range terms {
		if !e.matches(t) {
			return false
		}
	}
	return true
}

// searchDatabase answers SearchUsers from a shared database: by the login
// index in order, after the cursor, each term a case-insensitive pattern.
func (s *Storage) searchDatabase(ctx context.Context, q model.UserSearch, terms []string, limit int) ([]model.User, bool, error) {
	filter := bson.M{}
	if q.After != "" {
		filter["login"] = bson.M{"$gt": q.After}
	}
	if q.Department != "" {
		filter["department"] = q.Department
	}
	if q.Active != nil {
		filter["active"] = *q.Active
	}
	var and bson.A
	for _, t := range terms {
		re := bson.Regex{Pattern: regexp.QuoteMeta(t), Options: "i"}
		and = append(and, bson.M{"$or": bson.A{bson.M{"login": re}, bson.M{"name": re}, bson.M{"department": re}, bson.M{"manager": re}}})
	}
	if len(and) > 0 {
		filter["$and"] = and
	}
	opts := options.Find().SetProjection(directoryFields).SetSort(bson.D{{Key: "login", Value: 1}})
	if q.Limit != model.SearchAll {
		opts.SetLimit(int64(limit + 1))
	}
	cur, err := s.c(colUsers).Find(ctx, filter, opts)
	if err != nil {
		return nil, false, wrap("search users", err)
	}
	var out []model.User
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, wrap("search users", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
