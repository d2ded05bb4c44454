package storage

import (
	"context"
	"hash/fnv"
	"maps"
	"slices"
	"sync"
	"time"

	"conductportal/server/model"
)

// AccessCacheTTL is how long a process that has not said how it shares
// the database (neither SetSoleWriter nor SetShared: a tool, a test)
// trusts a document it read.
const AccessCacheTTL = 2 * time.Second

// accessCache keeps documents read by _id (sessions, users, progress,
// receipts, attempts) so the hot pages ask the database nothing. How long
// an entry is believed depends on who else writes:
//
//   - a sole writer (SetSoleWriter): until this process writes it. Every
//     write goes to the database first (and is fsynced there); only once
//     it succeeded is the entry dropped (drop, then the next read loads it
//     once) or replaced (set). No TTL.
//   - instances sharing a database (SetShared): the same, and an entry is
//     also dropped when another instance's write shows in the change log
//     (changes.go); while the log has not been read for SharedStaleness,
//     trust says no and every read goes to the database.
//   - otherwise: AccessCacheTTL.
type accessCache[T any] struct {
	mu      sync.Mutex
	entries map[string]accessEntry[T]
	drops   uint64 // counts drops: a read that began before one is not kept
	// trust, when set, replaces the TTL: entries are believed while it
	// says yes (see above).
	trust func(at time.Time) bool
	// settle, when set, is asked when trust says no to an entry kept since
	// at: it waits for what would make trust say yes again (the change
	// log's read under way) and reports whether to ask trust once more.
	settle func(ctx context.Context, at time.Time) bool
	limit  int // at most this many entries (0: maxAccessEntries)
	// loading, while a bulk load runs (startLoad), names the ids written
	// or dropped since it began: the load does not keep those. spoiled: a
	// drop of many (dropIf, dropAll) happened, and it keeps nothing.
	loading map[string]struct{}
	spoiled bool
}

type accessEntry[T any] struct {
	v  T
	at time.Time
}

// maxAccessEntries bounds a cache with a TTL between sweeps of expired
// entries.
const maxAccessEntries = 4096

// What a sole writer or a shared instance keeps at most (see keepCaches
// for what they cost).
const (
	maxKeptPeople   = 250_000 // sessions, users and progress, each
	maxKeptReceipts = 100_000 // receipts by id, and users' lists of them
	maxKeptAttempts = 100_000
)

// keepCaches makes the caches of sessions, users, progress, receipts,
// attempts and the lesson list believe their entries while trust says yes,
// without a TTL. Entries are kept from the first read (a miss reads the
// database once); users and sessions are also loaded at start, beside
// serving (LoadKept), the other collections are not. Measured
// (BenchmarkCacheMemory): 100,000 people with a session each cost about
// 100 MB in sessions and users, and 180 MB in progress of six lessons,
// which a sole writer holds once (reportsProgress) when the reports have
// loaded theirs.
func (s *Storage) keepCaches(trust func(at time.Time) bool) {
	s.sessions.keep(trust, maxKeptPeople)
	s.users.keep(trust, maxKeptPeople)
	s.progs.keep(trust, maxKeptPeople)
	s.receipts.keep(trust, maxKeptReceipts)
	s.chains.keep(trust, maxKeptReceipts)
	s.attempts.keep(trust, maxKeptAttempts)
	s.tokens.keep(trust, maxKeptPeople)
	s.lessons.keep(trust, 1)
}

// settleCaches gives the kept caches settle (see accessCache).
func (s *Storage) settleCaches(settle func(ctx context.Context, at time.Time) bool) {
	s.sessions.settleWith(settle)
	s.users.settleWith(settle)
	s.progs.settleWith(settle)
	s.receipts.settleWith(settle)
	s.chains.settleWith(settle)
	s.attempts.settleWith(settle)
	s.lessons.settleWith(settle)
}

// keep makes c believe its entries while trust says yes, up to limit of
// them (see SetSoleWriter and SetShared).
func (c *accessCache[T]) keep(trust func(at time.Time) bool, limit int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trust, c.limit = trust, limit
}

func (c *accessCache[T]) settleWith(settle func(ctx context.Context, at time.Time) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settle = settle
}

// keeps reports whether c keeps its entries without a TTL (see keep).
func (c *accessCache[T]) keeps() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trust != nil
}

// startLoad marks the start of a bulk load, for endLoad; it reports false
// when c keeps nothing without a TTL (nothing to load).
func (c *accessCache[T]) startLoad() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trust == nil {
		return false
	}
	c.loading, c.spoiled = map[string]struct{}{}, false
	return true
}

// endLoad keeps what a bulk load read, but for the ids written or dropped
// meanwhile (their entry, if any, is newer) and nothing at all when many
// were dropped; it returns how many it kept.
func (c *accessCache[T]) endLoad(all map[string]T, at time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	touched, spoiled := c.loading, c.spoiled
	c.loading, c.spoiled = nil, false
	if spoiled || all == nil {
		return 0
	}
	n := 0
	for id, v := range all {
		if _, ok := touched[id]; ok {
			continue
		}
		if _, ok := c.entries[id]; ok {
			continue
		}
		c.store(id, v, at.Add(-loadSpread(id)))
		n++
	}
	return n
}

// loadSpread is how much older than its load an entry of a bulk load is
// taken to be: up to half of sharedMaxAge, by its id. Older is always
// safe to assume, and so the entries of one load do not all pass
// sharedMaxAge, and are read again, in the same moment.
func loadSpread(id string) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return time.Duration(uint64(h.Sum32()) * uint64(sharedMaxAge/2) >> 32)
}

// touch records a write or drop of id for a running bulk load; c.mu is
// held.
func (c *accessCache[T]) touch(id string) {
	if c.loading != nil {
		c.loading[id] = struct{}{}
	}
}

func (c *accessCache[T]) get(id string) (T, bool) {
	v, ok, _, _ := c.lookup(id)
	return v, ok
}

// getSettled is get that, when trust doubts a kept entry and settle is
// set, waits on settle (not the database) and asks trust again: while
// the change log's read is late, readers wait for that one read instead
// of each reading the database.
func (c *accessCache[T]) getSettled(ctx context.Context, id string) (T, bool) {
	v, ok, doubted, at := c.lookup(id)
	if ok || !doubted {
		return v, ok
	}
	c.mu.Lock()
	settle := c.settle
	c.mu.Unlock()
	if settle == nil || !settle(ctx, at) {
		return v, false
	}
	v, ok, _, _ = c.lookup(id)
	return v, ok
}

// lookup is id's entry if believed; doubted means one is kept (since at)
// but trust said no.
func (c *accessCache[T]) lookup(id string) (v T, ok, doubted bool, at time.Time) {
	var zero T
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	switch {
	case !ok:
		return zero, false, false, at
	case c.trust != nil:
		if !c.trust(e.at) {
			return zero, false, true, e.at
		}
	case time.Since(e.at) >= AccessCacheTTL:
		return zero, false, false, at
	}
	return e.v, true, false, e.at
}

// begin marks the start of a read, for put.
func (c *accessCache[T]) begin() (time.Time, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now(), c.drops
}

// put keeps v, read from the time and drop count begin returned: a read
// that a write (and its drop) overtook is not kept, and with a TTL an
// entry never outlives it counted from before the database answered.
func (c *accessCache[T]) put(id string, v T, at time.Time, drops uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if drops != c.drops {
		return
	}
	c.store(id, v, at)
}

// set replaces id's entry by v after a write of this process succeeded
// (v is what the database now holds); a write whose outcome is unknown
// drops instead.
func (c *accessCache[T]) set(id string, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++ // a read begun before this write must not overwrite v
	c.touch(id)
	c.store(id, v, time.Now())
}

// store adds an entry, making room first; c.mu is held.
func (c *accessCache[T]) store(id string, v T, at time.Time) {
	if c.entries == nil {
		c.entries = map[string]accessEntry[T]{}
	}
	limit := c.limit
	if limit == 0 {
		limit = maxAccessEntries
	}
	if _, ok := c.entries[id]; !ok && len(c.entries) >= limit {
		if c.trust == nil {
			for k, e := range c.entries {
				if time.Since(e.at) >= AccessCacheTTL {
					delete(c.entries, k)
				}
			}
		}
		// Still full: forget about an eighth, chosen by the map's random
		// order, so a cache at its bound keeps most of what it holds.
		for k := range c.entries {
			if len(c.entries) < limit-limit/8 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[id] = accessEntry[T]{v: v, at: at}
}

// change replaces id's entry by fn of it after a write of this process
// succeeded; an id not kept stays so.
func (c *accessCache[T]) change(id string, fn func(T) T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++
	c.touch(id)
	if e, ok := c.entries[id]; ok {
		c.entries[id] = accessEntry[T]{v: fn(e.v), at: e.at}
	}
}

func (c *accessCache[T]) drop(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.drops++
	c.touch(id)
	c.mu.Unlock()
}

// dropIf removes the entries whose value matches.
func (c *accessCache[T]) dropIf(match func(T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++
	c.spoiled = c.loading != nil
	for k, e := range c.entries {
		if match(e.v) {
			delete(c.entries, k)
		}
	}
}

// dropAll forgets every entry.
func (c *accessCache[T]) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops++
	c.spoiled = c.loading != nil
	clear(c.entries)
}

// copyUser is a copy of u that shares nothing a caller could change.
func copyUser(u *model.User) *model.User {
	c := *u
	c.Roles = slices.Clone(u.Roles)
	c.FormerLogins = slices.Clone(u.FormerLogins)
	c.MFA.Recovery = slices.Clone(u.MFA.Recovery)
	c.Exceptions = maps.Clone(u.Exceptions)
	return &c
}

func copyToken(t *model.APIToken) *model.APIToken {
	c := *t
	c.Scopes = slices.Clone(t.Scopes)
	return &c
}

func copySession(s *model.Session) *model.Session {
	c := *s
	return &c
}

func copyProgress(p *model.Progress) *model.Progress {
	c := *p
	c.Lessons = make(map[string]model.LessonProgress, len(p.Lessons))
	for k, lp := range p.Lessons {
		lp.Fails = maps.Clone(lp.Fails)
		c.Lessons[k] = lp
	}
	return &c
}

func copyAttempt(a *model.Attempt) *model.Attempt {
	c := *a
	c.Questions = slices.Clone(a.Questions)
	for i := range c.Questions {
		c.Questions[i].Options = slices.Clone(c.Questions[i].Options)
	}
	c.Answers = slices.Clone(a.Answers)
	for i := range c.Answers {
		c.Answers[i].Chosen = slices.Clone(c.Answers[i].Chosen)
	}
	return &c
}

func copyReceipts(rs []model.Receipt) []model.Receipt { return slices.Clone(rs) }

// Kept counts what LoadKept loaded.
type Kept struct{ Users, Sessions, Tokens, Receipts int }

// LoadKept reads every user, session and API token once, and a sole
// writer's index of every receipt (receipt_index.go), in the background
// at start, so that with thousands of people the first page of each asks
// nothing either (measured by make bench: a scan of 10,000 users takes
// about 40 ms, against a read by _id of 0.5 ms for each person's first
// page). It loads nothing into a process that keeps nothing (see
// keepCaches).
func (s *Storage) LoadKept(ctx context.Context) (Kept, error) {
	var k Kept
	ctx, cancel := bulkDeadline(ctx)
	defer cancel()
	// A shared instance's first read of the change log forgets what it
	// holds (it does not know which writes it missed): done first, so
	// that it cannot spoil the load when a page comes before the load ends.
	if s.feed != nil {
		if err := s.readChanges(ctx); err != nil {
			return k, err
		}
	}
	if err := s.loadKeptUsers(ctx, &k); err != nil {
		return k, err
	}
	var err error
	if k.Sessions, err = loadKept(ctx, s, &s.sessions, colSessions, func(sess *model.Session) string { return sess.ID }, s.shareSessionStrings); err != nil {
		return k, err
	}
	if k.Tokens, err = loadKept(ctx, s, &s.tokens, colAPITokens, func(t *model.APIToken) string { return t.ID }, nil); err != nil {
		return k, err
	}
	k.Receipts, err = s.loadReceiptIndex(ctx)
	return k, err
}

// loadKept loads every document of a collection into c, when c keeps;
// loaded (nil: nothing) sees them first.
func loadKept[T any](ctx context.Context, s *Storage, c *accessCache[*T], col string, id func(*T) string, loaded func(map[string]*T)) (int, error) {
	if !c.startLoad() {
		return 0, nil
	}
	at := time.Now()
	all, err := loadAll[T](ctx, s, col, id)
	if err != nil {
		c.endLoad(nil, at)
		return 0, wrap("load "+col, err)
	}
	if loaded != nil {
		loaded(all)
	}
	return c.endLoad(all, at), nil
}

// loadAll reads every document of a collection, by its id (s.scan: the
// embedded database's are read from its file).
func loadAll[T any](ctx context.Context, s *Storage, col string, id func(*T) string) (map[string]*T, error) {
	out := map[string]*T{}
	err := scanEach(ctx, s, col, nil, "", nil, func(v *T) error {
		out[id(v)] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bulkTimeout bounds a background scan of a whole collection. Without a
// deadline of its own a scan gets the driver's 10 s, which a scan of
// 10,000 users through FerretDB on PostgreSQL outlasts on a busy machine
// (measured 5-14 s): the load then failed, and every first read went to
// the database.
const bulkTimeout = 5 * time.Minute

// bulkDeadline gives ctx bulkTimeout when it has no deadline.
func bulkDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, bulkTimeout)
}

// loadKeptUsers loads every user: a sole writer's into its directory
// (loadIndex: one scan, one copy), others' into the users cache.
func (s *Storage) loadKeptUsers(ctx context.Context, k *Kept) error {
	if s.dir != nil {
		n, err := s.usersKept(ctx)
		k.Users = n
		return err
	}
	n, err := loadKept(ctx, s, &s.users, colUsers, func(u *model.User) string { return u.ID }, func(all map[string]*model.User) {
		for _, u := range all {
			s.loginIDs.Store(u.Login, u.ID)
		}
	})
	k.Users = n
	return err
}

// shareSessionStrings points each session's user id at the directory's.
func (s *Storage) shareSessionStrings(all map[string]*model.Session) {
	d := s.dir
	if d == nil {
		return
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, sess := range all {
		if e := d.byID[sess.UserID]; e != nil {
			sess.UserID = e.u.ID
		}
	}
}
