package storage

import (
	"context"
	"maps"
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
	docs   map[string]model.Progress
	dirty  map[string]struct{}

	shared   bool
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
	s.dir = &dirIndex{}
	s.auditIdx = &auditIndex{}
	s.items = newItemBuffer()
	s.attempts = newAttemptCache()
	s.sole = true
}

// SetShared tells storage that other instances write to the database too:
// the progress cache then also fetches their changes. Call it before serving.
func (s *Storage) SetShared() {
	s.progress = &progressCache{dirty: map[string]struct{}{}, shared: true}
}

// SoleWriter reports whether this process is the database's only writer.
func (s *Storage) SoleWriter() bool { return s.sole }

// progressChanged marks a user's cached progress stale, after the write.
func (s *Storage) progressChanged(userID string) {
	if pc := s.progress; pc != nil {
		pc.mu.Lock()
		pc.dirty[userID] = struct{}{}
		pc.mu.Unlock()
	}
}

// refresh loads the cache, or reloads its dirty users.
func (s *Storage) refresh(ctx context.Context) error {
	pc := s.progress
	pc.reload.Lock()
	defer pc.reload.Unlock()
	pc.mu.Lock()
	loaded, dirty := pc.loaded, pc.dirty
	pc.dirty = map[string]struct{}{}
	pc.mu.Unlock()
	if !loaded {
		started := time.Now()
		docs, err := s.progressWhere(ctx, bson.M{}, map[string]model.Progress{})
		if err != nil {
			s.requeue(dirty)
			return err
		}
		pc.mu.Lock()
		pc.docs, pc.loaded, pc.fetched = docs, true, started
		for _, p := range docs {
			if p.Updated.After(pc.since) {
				pc.since = p.Updated
			}
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
			pc.docs[id] = p
		} else {
			delete(pc.docs, id)
		}
	}
	pc.mu.Unlock()
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
	for id, p := range fresh {
		if old, ok := pc.docs[id]; !ok || !p.Updated.Before(old.Updated) {
			pc.docs[id] = p
		}
		if p.Updated.After(pc.since) {
			pc.since = p.Updated
		}
	}
	pc.fetched = started
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
	return s.refresh(ctx)
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
		return maps.Clone(pc.docs), nil
	}
	out := make(map[string]model.Progress, len(ids))
	for _, id := range ids {
		if p, ok := pc.docs[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}
