package storage

import (
	"context"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The item sums held in memory by a sole writer: see item_stats.go.

func newItemBuffer(s *Storage) *itemBuffer {
	return &itemBuffer{incs: map[string]bson.M{}, lessons: map[string]string{}, pending: pendingMarker{id: metaItemStatsPending},
		due: flushDue{every: itemFlushEvery, failed: "item statistics not written yet; trying again", flush: s.FlushItemStats}}
}

// markItemsPending stores the marker before the first sum is held only in
// memory, so a crash from then on is seen by the next start.
func (s *Storage) markItemsPending(ctx context.Context) error {
	return s.items.pending.ensure(ctx, s, "mark item statistics pending", sinceNow("$set"))
}

// FlushItemStats writes the item sums held in memory (a sole writer's; a
// no-op otherwise). On failure they stay held, to be written next time.
func (s *Storage) FlushItemStats(ctx context.Context) error {
	b := s.items
	if b == nil {
		return nil
	}
	b.flush.Lock()
	defer b.flush.Unlock()
	b.mu.Lock()
	incs, lessons := b.incs, b.lessons
	b.incs, b.lessons, b.due.scheduled = map[string]bson.M{}, map[string]string{}, false
	b.mu.Unlock()
	// A command per document: the embedded database runs one write
	// command at a time, and one command of every document (a hundred
	// updates, each its own transaction) held the requests' writes back
	// for a second or more under load.
	var err error
	for id, inc := range incs {
		if err == nil {
			err = s.writeItemIncs(ctx, map[string]bson.M{id: inc}, lessons)
			if err == nil {
				delete(lessons, id)
				continue
			}
		}
		// Not written: held again, added to what came meanwhile. A
		// command whose answer was lost may have applied, so the marker
		// now stays even at a clean stop: the next start rebuilds exactly.
		b.mu.Lock()
		b.unsure = true
		addIncs(b.incs, id, inc)
		if l, ok := lessons[id]; ok {
			b.lessons[id] = l
		}
		b.mu.Unlock()
	}
	if err != nil {
		b.mu.Lock()
		b.due.soon(s) // tried again after another itemFlushEvery
		b.mu.Unlock()
	}
	return err
}

// SettleItemStats writes the sums held and then removes the marker: the
// statistics are whole, and the next start need not rebuild them. Call it
// at a clean stop, once requests are done, and after a rebuild.
func (s *Storage) SettleItemStats(ctx context.Context) error {
	b := s.items
	if b == nil {
		return removeMarker(ctx, s, "settle item statistics", metaItemStatsPending)
	}
	return b.pending.settle(ctx, s, "settle item statistics", s.FlushItemStats, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.unsure {
			s.logger().Warn("an item statistics write failed earlier: the next start rebuilds them")
		}
		return b.unsure
	})
}

// ItemStatsPending reports whether sums may have been lost: the marker of a
// process that did not stop cleanly. Rebuild the item statistics from the
// attempts, then SettleItemStats.
func (s *Storage) ItemStatsPending(ctx context.Context) (bool, error) {
	err := s.c(colMeta).FindOne(ctx, bson.M{"_id": metaItemStatsPending}).Err()
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, wrap("item statistics pending", err)
}

// SetLogger gives storage the process's logger, for what it does in the
// background (the item sums' writes).
func (s *Storage) SetLogger(log *slog.Logger) { s.log = log }

func (s *Storage) logger() *slog.Logger {
	if s.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.log
}
