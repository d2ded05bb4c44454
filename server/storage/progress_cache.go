package storage

import (
	"context"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// progressCache keeps every user's progress in memory for the reports.
// FerretDB v1 answers a read of many users by scanning the whole
// collection (about 4 s for 10,000 users); the cache is loaded by one
// scan, then each write of this process marks its user dirty and the next
// read reloads only the dirty users, by _id. When other instances share
// the database (SetShared), a read also starts, at most every
// sharedRefresh, a fetch of the documents updated since the last one (by
// the index on updated), so their writes show within about a second plus
// the fetch's time. Readers do not wait for it: on FerretDB the fetch is a
// scan of the collection.
type progressCache struct {
	mu     sync.Mutex // guards docs, dirty, loaded, since, fetched
	reload sync.Mutex // one refresh at a time, so an older read never overwrites a newer one
	loaded bool
	docs   map[string]packed
	dirty  map[string]struct{}
	// pending are the dirty users a refresh is reloading: not yet true in
	// docs either (see reportsProgress).
	pending map[string]struct{}

	shared   bool
	base     time.Time   // shared: when the change log last forgot what this instance held (see sharedCopy)
	since    time.Time   // the latest updated time seen
	fetched  time.Time   // when the changes were last fetched
	fetching atomic.Bool // a fetch is running
}

// Shared refreshes: how often, and how far back before the latest time
// seen (writes are stamped with the writing instance's clock, so the
// instances' clocks must agree within sharedSkew).
const (
	sharedRefresh = time.Second
	sharedSkew    = 5 * time.Second
)

// SetSoleWriter tells storage that no other process writes to the
// database, so what it caches stays true. Call it before serving.
func (s *Storage) SetSoleWriter() {
	s.progress = &progressCache{dirty: map[string]struct{}{}}
	s.progGen.Add(1)
	s.dir = &dirIndex{}
	s.auditIdx = &auditIndex{}
	s.items = newItemBuffer(s)
	s.rcpts = &receiptIndex{}
	s.behind = newProgressBehind(s)
	s.sole = true
	s.keepCaches(func(time.Time) bool { return true })
	s.tokens.keep(func(time.Time) bool { return true }, maxKeptPeople)
}

// SetShared tells storage that other instances write to the database too:
// the progress cache then also fetches their changes. Call it before serving.
func (s *Storage) SetShared() {
	s.progress = &progressCache{dirty: map[string]struct{}{}, shared: true}
	s.progGen.Add(1)
	s.feed = &changeFeed{self: model.NewID()}
	s.sharedReceipts()
	s.keepCaches(func(at time.Time) bool { return s.feed.fresh(at, s) })
	s.settleCaches(func(ctx context.Context, at time.Time) bool { return s.feed.settle(ctx, at, s) })
}

// ProgressGeneration returns a number that changes whenever the cached
// progress may change, so callers can keep what they computed from
// AllProgress until it does; ok is false without a cache (then every read
// goes to the database). Read it before AllProgress: a write counted in
// it is in what AllProgress returns next. With other instances it also
// starts, as a read would, the fetch of their changes (a merge moves it).
func (s *Storage) ProgressGeneration() (gen uint64, ok bool) {
	pc := s.progress
	if pc == nil {
		return 0, false
	}
	pc.mu.Lock()
	loaded := pc.loaded
	pc.mu.Unlock()
	if pc.shared && loaded {
		s.startFetch()
	}
	return s.progGen.Load(), true
}

// SoleWriter reports whether this process is the database's only writer.
func (s *Storage) SoleWriter() bool { return s.sole }

// progressChanged marks a user's cached progress stale, after the write.
func (s *Storage) progressChanged(ctx context.Context, userID string) {
	s.progressDirty(userID)
	s.changed(ctx, changeProgress, userID)
}

// progressDirty is progressChanged without the word to other instances.
func (s *Storage) progressDirty(userID string) {
	s.progs.drop(userID)
	if pc := s.progress; pc != nil {
		pc.mu.Lock()
		pc.dirty[userID] = struct{}{}
		pc.mu.Unlock()
		s.progGen.Add(1)
	}
}

// reportsProgress is a sole writer's copy of the user's progress from the
// reports' cache, once that is loaded and while the user is not marked
// dirty: every person's progress is then in memory once, not twice
// (BenchmarkCacheMemory: 180 MB for 100,000 people). A shared instance
// answers from it too, within the change log's bound (see sharedCopy).
func (s *Storage) reportsProgress(userID string) (*model.Progress, bool) {
	pc := s.progress
	if pc == nil || !s.sole && s.feed == nil {
		return nil, false
	}
	pc.mu.Lock()
	_, dirty := pc.dirty[userID]
	_, pending := pc.pending[userID]
	loaded, fetched, base := pc.loaded, pc.fetched, pc.base
	k, has := pc.docs[userID]
	pc.mu.Unlock()
	if !loaded || dirty || pending || !s.sole && !s.sharedCopy(fetched, base) {
		return nil, false
	}
	if has {
		return k.own(userID), true
	}
	// Loaded (and, on a shared instance, fetched since) without one: none stored.
	return &model.Progress{UserID: userID, Lessons: map[string]model.LessonProgress{}}, true
}

// sharedCopy tells whether a shared instance's reports' copy, last fetched
// (every document updated since the one before) at fetched, may answer for
// a user the change log has not named since (applyChange marks them
// dirty): only when it was fetched after the log's latest forgetting
// (base: entries were skipped then) and while fresh says so, as any kept
// entry. The log keeps it true; a fetch (after a forgetting, and every
// sharedMaxAge/2) bounds a write whose entry was lost. Pages do not ask
// for one a second: on FerretDB a fetch scans the collection.
func (s *Storage) sharedCopy(fetched, base time.Time) bool {
	if !fetched.After(base) || time.Since(fetched) >= sharedMaxAge/2 {
		s.startFetch()
	}
	return fetched.After(base) && s.feed.fresh(fetched, s)
}

// progressNamed marks a user another instance changed (the change log
// named them) dirty in the reports' copy: it says nothing of them until
// reloaded by _id.
func (s *Storage) progressNamed(userID string) {
	if pc := s.progress; pc != nil {
		pc.mu.Lock()
		pc.dirty[userID] = struct{}{}
		pc.mu.Unlock()
		s.progGen.Add(1)
	}
}

// rebaseProgress makes a shared instance's reports' copy say nothing for
// the first visits until its next fetch (the change log skipped entries);
// with all, until it is loaded again (the database was replaced: a fetch by
// updated time would not see it).
func (s *Storage) rebaseProgress(all bool) {
	pc := s.progress
	if pc == nil || !pc.shared {
		return
	}
	pc.mu.Lock()
	pc.base = time.Now()
	if all {
		pc.loaded = false
	}
	pc.mu.Unlock()
	s.progGen.Add(1)
}

// refresh loads the cache, or reloads its dirty users.
func (s *Storage) refresh(ctx context.Context) error {
	pc := s.progress
	pc.reload.Lock()
	defer pc.reload.Unlock()
	pc.mu.Lock()
	loaded, dirty := pc.loaded, pc.dirty
	pc.dirty, pc.pending = map[string]struct{}{}, dirty
	pc.mu.Unlock()
	defer func() {
		pc.mu.Lock()
		pc.pending = nil
		pc.mu.Unlock()
	}()
	if !loaded {
		started := time.Now()
		// Packed as they come: the whole documents are never all held.
		docs := map[string]packed{}
		var since time.Time
		err := s.eachProgress(ctx, func(p model.Progress) {
			docs[p.UserID] = pack(p)
			if p.Updated.After(since) {
				since = p.Updated
			}
		})
		if err != nil {
			s.requeue(dirty)
			return err
		}
		pc.mu.Lock()
		s.overlayHeld(docs) // what the database does not hold yet
		pc.docs, pc.loaded, pc.fetched = docs, true, started
		if since.After(pc.since) {
			pc.since = since
		}
		pc.mu.Unlock()
		return nil
	}
	if pc.shared {
		s.startFetch()
	}
	if len(dirty) == 0 {
		return nil
	}
	fresh, err := s.progressByID(ctx, keys(dirty))
	if err != nil {
		s.requeue(dirty)
		return err
	}
	pc.mu.Lock()
	for id := range dirty {
		if p, ok := fresh[id]; ok {
			pc.docs[id] = pack(p)
		} else {
			delete(pc.docs, id)
		}
	}
	s.overlayHeld(pc.docs)
	pc.mu.Unlock()
	if s.sole { // reportsProgress answers for them again
		for id := range dirty {
			s.progs.drop(id)
		}
	}
	return nil
}

// startFetch starts fetchChanged in the background when the last fetch
// is sharedRefresh old and none is running.
func (s *Storage) startFetch() {
	pc := s.progress
	pc.mu.Lock()
	due := time.Since(pc.fetched) >= sharedRefresh
	pc.mu.Unlock()
	if !due || !pc.fetching.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer pc.fetching.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.fetchChanged(ctx) // a failed fetch is tried again on the next read
	}()
}

// fetchChanged merges the progress documents updated since the latest
// time seen (less sharedSkew) into the cache. A document never replaces
// a newer one: a reload by _id may have merged a later state meanwhile.
func (s *Storage) fetchChanged(ctx context.Context) error {
	pc := s.progress
	pc.mu.Lock()
	since := pc.since.Add(-sharedSkew)
	pc.mu.Unlock()
	started := time.Now()
	fresh, err := s.progressWhere(ctx, bson.M{"updated": bson.M{"$gte": since}}, map[string]model.Progress{})
	if err != nil {
		return err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	changed := false
	for id, p := range fresh {
		// The window looks sharedSkew back, so most of it was merged before.
		if old, ok := pc.docs[id]; !ok || !p.Updated.Before(old.updatedAt()) {
			changed = changed || !ok || !reflect.DeepEqual(p, old.unpack(id))
			pc.docs[id] = pack(p)
		}
		if p.Updated.After(pc.since) {
			pc.since = p.Updated
		}
	}
	pc.fetched = started
	if changed {
		s.progGen.Add(1) // after the merge, under mu
	}
	return nil
}

func (s *Storage) requeue(dirty map[string]struct{}) {
	s.progress.mu.Lock()
	maps.Copy(s.progress.dirty, dirty)
	s.progress.mu.Unlock()
}

func keys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// WarmProgress loads the progress cache ahead of the first report.
func (s *Storage) WarmProgress(ctx context.Context) error {
	if s.progress == nil {
		return nil
	}
	ctx, cancel := bulkDeadline(ctx)
	defer cancel()
	return s.refresh(ctx)
}

// ProgressLookup returns everyone's progress one user at a time, as of
// now: for a report over every user, which then never holds all of it
// unpacked at once (AllProgress at 100,000 people is about 150 MB of
// maps). A user without progress gets the zero Progress. Read only.
func (s *Storage) ProgressLookup(ctx context.Context) (func(userID string) model.Progress, error) {
	if s.progress == nil {
		all, err := s.AllProgress(ctx)
		if err != nil {
			return nil, err
		}
		return func(id string) model.Progress { return all[id] }, nil
	}
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	pc := s.progress
	pc.mu.Lock()
	docs := maps.Clone(pc.docs) // entries are replaced, never changed: a shallow copy is a snapshot
	pc.mu.Unlock()
	return func(id string) model.Progress {
		if k, ok := docs[id]; ok {
			return k.unpack(id)
		}
		return model.Progress{}
	}, nil
}

// cachedProgress returns the cached progress of ids, or of everyone when
// ids is nil.
func (s *Storage) cachedProgress(ctx context.Context, ids []string) (map[string]model.Progress, error) {
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	pc := s.progress
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if ids == nil {
		out := make(map[string]model.Progress, len(pc.docs))
		for id, k := range pc.docs {
			out[id] = k.unpack(id)
		}
		return out, nil
	}
	out := make(map[string]model.Progress, len(ids))
	for _, id := range ids {
		if k, ok := pc.docs[id]; ok {
			out[id] = k.unpack(id)
		}
	}
	return out, nil
}
