package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// AuditPage returns at most limit entries matching f, newest first, that
// come after the cursor (all from the newest when it is zero), and whether
// more follow.
//
// FerretDB v1 answers a query on anything but _id with a scan of the
// collection, and the audit log only grows. So a sole writer keeps the
// log's keys (time, _id, actor, action, subject) in memory, filters and places the
// cursor there, and reads the page's rows by _id. Instances sharing a
// database ask it, with the (at, _id) index a real MongoDB has.
func (s *Storage) AuditPage(ctx context.Context, f model.AuditFilter, after model.Cursor, limit int) ([]model.AuditEntry, bool, error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("storage: audit page: limit %d", limit)
	}
	if s.auditIdx != nil {
		return s.auditPageIndexed(ctx, f, after, limit)
	}
	return s.auditPageQuery(ctx, f, after, limit)
}

// auditPageQuery is the page as one query: the filter and "after the
// cursor" in (at desc, _id asc) order.
func (s *Storage) auditPageQuery(ctx context.Context, f model.AuditFilter, after model.Cursor, limit int) ([]model.AuditEntry, bool, error) {
	q := auditQuery(f)
	if after.ID != "" {
		q = bson.M{"$and": bson.A{q, bson.M{"$or": bson.A{
			bson.M{"at": bson.M{"$lt": after.At}},
			bson.M{"at": after.At, "_id": bson.M{"$gt": after.ID}},
		}}}}
	}
	cur, err := s.c(colAudit).Find(ctx, q, options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, false, wrap("audit page", err)
	}
	var out []model.AuditEntry
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, wrap("audit page", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// auditIndex is the audit log's keys in memory, for a sole writer: sorted
// oldest first (time up, then _id down), so that a new entry, nearly
// always the newest, is appended, and a page is read from the end.
type auditIndex struct {
	mu      sync.RWMutex
	state   int        // auditUnloaded, auditLoading or auditLoaded
	keys    []auditKey // loaded: the log; see the type's comment for the order
	at      map[string]int64
	pending []auditKey // loading: written since the scan began
	gen     int        // counts forgets: a load that one overtook is not kept
	// names holds one copy of each actor and action: the log repeats a
	// few hundred actions and one login per person, so the keys share them.
	names map[string]string
	// actors holds each actor once, for the log's filter to offer;
	// subjects each subject (see auditKey).
	actors, subjects map[string]bool
	loadMu           sync.Mutex // one load at a time
}

const (
	auditUnloaded = iota
	auditLoading
	auditLoaded
)

// auditKey is what a page filters on; the rest of a row is read by _id.
type auditKey struct {
	at      int64 // milliseconds, as stored
	id      string
	actor   string
	action  string
	subject string // who or what was acted on: the target up to its first "/"
}

func keyOf(e *model.AuditEntry) auditKey {
	return auditKey{at: e.At.UnixMilli(), id: e.ID, actor: e.Actor, action: e.Action, subject: auditSubject(e.Target)}
}

// auditSubject is the person (or lesson, channel...) a target names: a
// target "login/lesson" (a person's exception) is about the person.
func auditSubject(target string) string {
	subject, _, _ := strings.Cut(target, "/")
	return subject
}

// cmpKeys orders keys oldest first: time up, then _id down (the reverse of
// the pages' order).
func cmpKeys(a, b auditKey) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return -strings.Compare(a.id, b.id)
}

// put adds k to the index, or moves it to its new time (a counted row's
// time is its latest try).
func (x *auditIndex) put(k auditKey) {
	x.mu.Lock()
	defer x.mu.Unlock()
	switch x.state {
	case auditLoading:
		x.pending = append(x.pending, k)
	case auditLoaded:
		x.insert(k)
	}
}

// intern returns the index's copy of s; x.mu is held.
func (x *auditIndex) intern(s string) string {
	if v, ok := x.names[s]; ok {
		return v
	}
	x.names[s] = s
	return s
}

// insert places k; x.mu is held.
func (x *auditIndex) insert(k auditKey) {
	k.actor, k.action, k.subject = x.intern(k.actor), x.intern(k.action), x.intern(k.subject)
	x.actors[k.actor], x.subjects[k.subject] = true, true
	if old, ok := x.at[k.id]; ok {
		if old == k.at {
			return
		}
		if i, found := slices.BinarySearchFunc(x.keys, auditKey{at: old, id: k.id}, cmpKeys); found {
			x.keys = slices.Delete(x.keys, i, i+1)
		}
	}
	x.at[k.id] = k.at
	if n := len(x.keys); n == 0 || cmpKeys(x.keys[n-1], k) < 0 {
		x.keys = append(x.keys, k)
		return
	}
	i, _ := slices.BinarySearchFunc(x.keys, k, cmpKeys)
	x.keys = slices.Insert(x.keys, i, k)
}

// forget makes the next page load the index again (after a restore).
func (x *auditIndex) forget() {
	x.mu.Lock()
	x.state, x.keys, x.at, x.pending, x.names, x.actors, x.subjects = auditUnloaded, nil, nil, nil, nil, nil, nil
	x.gen++
	x.mu.Unlock()
}

// auditWritten tells a sole writer's index of an entry written (or, for a
// counted row, moved to e.At); after a failed write, whose row may or may
// not be stored, the index is read again on next use.
func (s *Storage) auditWritten(e *model.AuditEntry, err error) {
	switch {
	case s.auditIdx == nil:
	case err == nil:
		s.auditIdx.put(keyOf(e))
	default:
		s.auditIdx.forget()
	}
}

// loadAudit reads the log's keys in one scan, unless loaded. Entries
// written during the scan are kept aside and applied after it, so writers
// never wait for the scan.
func (s *Storage) loadAudit(ctx context.Context) error {
	x := s.auditIdx
	x.loadMu.Lock()
	defer x.loadMu.Unlock()
	x.mu.Lock()
	if x.state == auditLoaded {
		x.mu.Unlock()
		return nil
	}
	x.state, x.pending = auditLoading, nil
	gen := x.gen
	x.mu.Unlock()
	keys, err := s.auditKeys(ctx)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err == nil && gen != x.gen {
		err = errors.New("storage: load audit keys: a write failed during the load; try again")
	}
	if err != nil {
		x.state, x.pending = auditUnloaded, nil
		return err
	}
	slices.SortFunc(keys, cmpKeys)
	x.keys, x.at, x.names, x.actors, x.subjects = keys, make(map[string]int64, len(keys)), map[string]string{}, map[string]bool{}, map[string]bool{}
	for i := range keys {
		k := &keys[i]
		k.actor, k.action, k.subject = x.intern(k.actor), x.intern(k.action), x.intern(k.subject)
		x.actors[k.actor], x.subjects[k.subject] = true, true
		x.at[k.id] = k.at
	}
	for _, k := range x.pending {
		x.insert(k)
	}
	x.state, x.pending = auditLoaded, nil
	return nil
}

// LoadAudit reads a sole writer's audit keys now (beside serving, so the
// first audit page after a start finds them in memory) and says how many
// it holds; without the index it does nothing.
func (s *Storage) LoadAudit(ctx context.Context) (int, error) {
	if s.auditIdx == nil {
		return 0, nil
	}
	if err := s.loadAudit(ctx); err != nil {
		return 0, err
	}
	s.auditIdx.mu.RLock()
	defer s.auditIdx.mu.RUnlock()
	return len(s.auditIdx.keys), nil
}

// AuditActors returns everyone who appears as an actor in the log, sorted:
// a sole writer has them in memory; instances sharing a database ask it.
func (s *Storage) AuditActors(ctx context.Context) ([]string, error) {
	if s.auditIdx == nil {
		// A $group, not distinct: FerretDB v1 refuses the maxTimeMS the
		// driver adds to distinct under a deadline.
		cur, err := s.c(colAudit).Aggregate(ctx, bson.A{bson.M{"$group": bson.M{"_id": "$actor"}}})
		if err != nil {
			return nil, wrap("audit actors", err)
		}
		var groups []struct {
			Actor string `bson:"_id"`
		}
		if err := cur.All(ctx, &groups); err != nil {
			return nil, wrap("audit actors", err)
		}
		out := make([]string, 0, len(groups))
		for _, g := range groups {
			out = append(out, g.Actor)
		}
		slices.Sort(out)
		return slices.DeleteFunc(out, func(a string) bool { return a == "" }), nil
	}
	if err := s.loadAudit(ctx); err != nil {
		return nil, err
	}
	x := s.auditIdx
	x.mu.RLock()
	out := make([]string, 0, len(x.actors))
	for a := range x.actors {
		if a != "" {
			out = append(out, a)
		}
	}
	x.mu.RUnlock()
	slices.Sort(out)
	return out, nil
}

// AuditSubjects returns every subject of the log (the target up to its
// first "/": a login, a lesson's slug...), sorted, as AuditActors does.
func (s *Storage) AuditSubjects(ctx context.Context) ([]string, error) {
	if s.auditIdx == nil {
		cur, err := s.c(colAudit).Aggregate(ctx, bson.A{bson.M{"$group": bson.M{"_id": "$target"}}})
		if err != nil {
			return nil, wrap("audit subjects", err)
		}
		var groups []struct {
			Target string `bson:"_id"`
		}
		if err := cur.All(ctx, &groups); err != nil {
			return nil, wrap("audit subjects", err)
		}
		seen := map[string]bool{}
		for _, g := range groups {
			seen[auditSubject(g.Target)] = true
		}
		return sortedNames(seen), nil
	}
	if err := s.loadAudit(ctx); err != nil {
		return nil, err
	}
	x := s.auditIdx
	x.mu.RLock()
	defer x.mu.RUnlock()
	return sortedNames(x.subjects), nil
}

// sortedNames is the set's non-empty names, sorted.
func sortedNames(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for n := range set {
		if n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// auditKeys reads every entry's key, in the database's order.
func (s *Storage) auditKeys(ctx context.Context) ([]auditKey, error) {
	cur, err := s.c(colAudit).Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"at": 1, "actor": 1, "action": 1, "target": 1}))
	if err != nil {
		return nil, wrap("load audit keys", err)
	}
	defer cur.Close(ctx)
	var keys []auditKey
	for cur.Next(ctx) {
		var e model.AuditEntry
		if err := cur.Decode(&e); err != nil {
			return nil, wrap("load audit keys", err)
		}
		keys = append(keys, keyOf(&e))
	}
	return keys, wrap("load audit keys", cur.Err())
}

// matches says whether k passes f (the same rules as auditQuery).
func auditMatches(f model.AuditFilter, k auditKey) bool {
	switch {
	case f.Actor != "" && k.actor != f.Actor:
		return false
	case f.Target != "" && k.subject != f.Target:
		return false
	case f.Action != "" && strings.HasSuffix(f.Action, ".") && !strings.HasPrefix(k.action, f.Action):
		return false
	case f.Action != "" && !strings.HasSuffix(f.Action, ".") && k.action != f.Action:
		return false
	case !f.From.IsZero() && k.at < f.From.UnixMilli():
		return false
	case !f.To.IsZero() && k.at >= f.To.UnixMilli():
		return false
	}
	return true
}

// auditPageIndexed picks the page's keys in memory and reads its rows by
// _id.
func (s *Storage) auditPageIndexed(ctx context.Context, f model.AuditFilter, after model.Cursor, limit int) ([]model.AuditEntry, bool, error) {
	x := s.auditIdx
	x.mu.RLock()
	loaded := x.state == auditLoaded
	x.mu.RUnlock()
	if !loaded {
		if err := s.loadAudit(ctx); err != nil {
			return nil, false, err
		}
	}
	x.mu.RLock()
	end := len(x.keys) // the page reads from end-1 down
	if after.ID != "" {
		end, _ = slices.BinarySearchFunc(x.keys, auditKey{at: after.At.UnixMilli(), id: after.ID}, cmpKeys)
	}
	var ids []string
	more := false
	for i := end - 1; i >= 0; i-- {
		if !auditMatches(f, x.keys[i]) {
			continue
		}
		if len(ids) == limit {
			more = true
			break
		}
		ids = append(ids, x.keys[i].id)
	}
	x.mu.RUnlock()
	out, err := s.auditRows(ctx, ids)
	return out, more, err
}

// auditRows reads the rows ids names, by _id, in that order.
func (s *Storage) auditRows(ctx context.Context, ids []string) ([]model.AuditEntry, error) {
	out := make([]model.AuditEntry, len(ids))
	for i, id := range ids {
		if err := s.c(colAudit).FindOne(ctx, bson.M{"_id": id}).Decode(&out[i]); err != nil {
			return nil, wrap("audit page", err)
		}
	}
	return out, nil
}
