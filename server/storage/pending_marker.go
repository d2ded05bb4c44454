package storage

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// pendingMarker is the meta document that says some writes are held in
// memory only (item statistics, a sole writer's progress): stored before
// the first is held and removed once all are written, so that a start
// after a crash knows what to rebuild.
type pendingMarker struct {
	id     string     // its meta document's _id
	mark   sync.Mutex // held while the marker is written or removed
	marked atomic.Bool
}

// ensure stores the marker, once, before anything is held; update writes
// its "since" ($set, or $min to keep a crashed process's earlier time).
func (m *pendingMarker) ensure(ctx context.Context, s *Storage, op string, update bson.M) error {
	if m.marked.Load() {
		return nil
	}
	m.mark.Lock()
	defer m.mark.Unlock()
	if m.marked.Load() {
		return nil
	}
	if _, err := s.c(colMeta).UpdateOne(ctx, bson.M{"_id": m.id}, update, options.UpdateOne().SetUpsert(true)); err != nil {
		return wrap(op, err)
	}
	m.marked.Store(true)
	return nil
}

// settle writes what is held (flush) and then removes the marker, unless
// keep says the next start must still rebuild; holding the marker's lock
// meanwhile, so nothing is held between the flush and the removal
// without marking again.
func (m *pendingMarker) settle(ctx context.Context, s *Storage, op string, flush func(context.Context) error, keep func() bool) error {
	m.mark.Lock()
	defer m.mark.Unlock()
	if err := flush(ctx); err != nil {
		return err
	}
	if keep != nil && keep() {
		return nil
	}
	m.marked.Store(false) // what is held from now on stores the marker again
	return removeMarker(ctx, s, op, m.id)
}

// removeMarker deletes a marker document (also where nothing is held in
// this process: a tool settling what a crashed server left).
func removeMarker(ctx context.Context, s *Storage, op, id string) error {
	_, err := s.c(colMeta).DeleteOne(ctx, bson.M{"_id": id})
	return wrap(op, err)
}

// sinceNow is a marker's "since" as now, by op ($set or $min).
func sinceNow(op string) bson.M { return bson.M{op: bson.M{"since": time.Now().UTC()}} }
