package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Item statistics are a projection of the graded attempts: one document
// of running sums per question (and one count per lesson), each updated
// with $inc and read by _id. HR's analytics then cost one read per
// question of the pool however many attempts exist: FerretDB v1 would scan
// the attempts for any other read. On the embedded database a write command
// runs alone (database/serial.go), so the read-modify-write FerretDB makes
// of $inc loses nothing; MongoDB applies $inc atomically.
// RebuildItemStats recomputes them.
//
// Where this process is the database's only writer the sums are added in
// memory and written every itemFlushEvery, one update per question for
// all the attempts graded meanwhile: FerretDB commits each updated
// document in its own transaction (an fsync), and a submit's seven
// updates were most of its cost. A crash may lose the sums not yet
// written, never an attempt: before the first sum is held only in memory,
// a marker (meta "item_stats_pending") is stored, and it is removed only
// once everything is written at a clean stop (SettleItemStats). A start that
// finds it rebuilds the statistics from the attempts first
// (ItemStatsPending; cli does). Reads write the sums held first, so they
// see every graded attempt.

// itemFlushEvery is how long item sums wait in memory at most.
const itemFlushEvery = 2 * time.Second

// metaItemStatsPending is the meta document of sums not yet written.
const metaItemStatsPending = "item_stats_pending"

// itemBuffer holds the item sums not yet written.
type itemBuffer struct {
	pending pendingMarker // meta item_stats_pending
	flush   sync.Mutex    // one write of the sums at a time

	mu      sync.Mutex // guards the fields below
	incs    map[string]bson.M
	lessons map[string]string // a question's document: its lesson, for $set
	due     flushDue          // the timed flush
	unsure  bool              // a write failed: it may have applied, so only a rebuild is exact
}

// AddItemTallies counts one graded attempt into its lesson's statistics:
// in memory when this process is the sole writer (see above), else in one
// write command.
func (s *Storage) AddItemTallies(ctx context.Context, slug string, passed bool, ts []model.ItemTally) error {
	incs := tallyIncs(slug, passed, ts)
	if b := s.items; b != nil {
		if err := s.markItemsPending(ctx); err != nil {
			return err
		}
		b.mu.Lock()
		for id, inc := range incs {
			addIncs(b.incs, id, inc)
			if id != slug {
				b.lessons[id] = slug
			}
		}
		b.due.soon(s)
		b.mu.Unlock()
		return nil
	}
	lessons := make(map[string]string, len(incs))
	for id := range incs {
		if id != slug {
			lessons[id] = slug
		}
	}
	return s.writeItemIncs(ctx, incs, lessons)
}

// tallyIncs is one attempt's increments, by item statistics document.
func tallyIncs(slug string, passed bool, ts []model.ItemTally) map[string]bson.M {
	pass := 0
	if passed {
		pass = 1
	}
	out := map[string]bson.M{slug: {"attempts": 1, "passed": pass}}
	for _, t := range ts {
		inc := bson.M{"n": 1}
		if t.Right {
			inc["right"] = 1
		}
		if t.Rest >= 0 {
			inc["nd"], inc["sy"], inc["syy"] = 1, t.Rest, t.Rest*t.Rest
			if t.Right {
				inc["rd"], inc["sxy"] = 1, t.Rest
			}
		}
		if len(t.Chosen) == 0 {
			inc["blank"] = 1
		}
		for _, c := range t.Chosen {
			inc["chosen."+c] = 1 // option ids are letters, digits, '-' and '_' (quiz.Parse)
		}
		addIncs(out, t.Key, inc)
	}
	return out
}

// addIncs adds the increments inc of document id into all.
func addIncs(all map[string]bson.M, id string, inc bson.M) {
	to := all[id]
	if to == nil {
		to = bson.M{}
		all[id] = to
	}
	for f, v := range inc {
		to[f] = addNumbers(to[f], v)
	}
}

// addNumbers is a + b for the increments' types: counts are int, sums of
// rest scores float64 (as the separate $inc each would have stored); a nil
// a is 0.
func addNumbers(a, b any) any {
	switch x := b.(type) {
	case int:
		n, _ := a.(int)
		return n + x
	case float64:
		f, _ := a.(float64)
		return f + x
	}
	panic(fmt.Sprintf("storage: an item increment of type %T", b))
}

// writeItemIncs applies increments in one write command (an upsert per
// document); lessons names each question document's lesson.
func (s *Storage) writeItemIncs(ctx context.Context, incs map[string]bson.M, lessons map[string]string) error {
	models := make([]mongo.WriteModel, 0, len(incs))
	for id, inc := range incs {
		up := bson.M{"$inc": inc}
		if l, ok := lessons[id]; ok { // a question's document; the lesson's count has none
			up["$set"] = bson.M{"lesson": l}
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id}).SetUpsert(true).SetUpdate(up))
	}
	if len(models) == 0 {
		return nil
	}
	_, err := s.c(colItemStats).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return wrap("add item tallies", err)
}

// ItemStats returns the statistics of the questions with keys, each read
// by _id; a question never answered is missing from the map.
func (s *Storage) ItemStats(ctx context.Context, keys []string) (map[string]model.ItemStat, error) {
	if err := s.FlushItemStats(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]model.ItemStat, len(keys))
	for _, k := range keys {
		var st model.ItemStat
		err := s.c(colItemStats).FindOne(ctx, bson.M{"_id": k}).Decode(&st)
		switch {
		case err == nil:
			out[k] = st
		case !isNotFound(err):
			return nil, wrap("item stats", err)
		}
	}
	return out, nil
}

// LessonTally returns how many attempts at a lesson were graded and passed.
func (s *Storage) LessonTally(ctx context.Context, slug string) (model.LessonTally, error) {
	t := model.LessonTally{Slug: slug}
	if err := s.FlushItemStats(ctx); err != nil {
		return t, err
	}
	err := s.c(colItemStats).FindOne(ctx, bson.M{"_id": slug}).Decode(&t)
	if err != nil && !isNotFound(err) {
		return t, wrap("lesson tally", err)
	}
	return t, nil
}

// ReplaceItemStats stores recomputed statistics of a lesson in place of
// the stored ones. Run it while nobody submits that lesson's quiz: an
// attempt graded meanwhile could be counted twice or not at all.
func (s *Storage) ReplaceItemStats(ctx context.Context, t model.LessonTally, stats []model.ItemStat) error {
	// Sums held in memory were counted from attempts the rebuild has read.
	if err := s.FlushItemStats(ctx); err != nil {
		return err
	}
	if _, err := s.c(colItemStats).DeleteMany(ctx, bson.M{"lesson": t.Slug}); err != nil {
		return wrap("replace item stats", err)
	}
	docs := []any{}
	for _, st := range stats {
		docs = append(docs, st)
	}
	if len(docs) > 0 {
		if _, err := s.c(colItemStats).InsertMany(ctx, docs); err != nil {
			return wrap("replace item stats", err)
		}
	}
	_, err := s.c(colItemStats).ReplaceOne(ctx, bson.M{"_id": t.Slug}, t, options.Replace().SetUpsert(true))
	return wrap("replace item stats", err)
}

// EachLessonResult calls fn with every graded attempt at a lesson (id,
// version, answers, passed), streaming: the lesson's attempt ids first,
// then one pass over the results. Memory grows with the lesson's attempt
// ids only.
func (s *Storage) EachLessonResult(ctx context.Context, slug string, fn func(*model.Attempt) error) error {
	cur, err := s.c(colAttempts).Find(ctx, bson.M{"lesson": slug}, options.Find().SetProjection(bson.M{"_id": 1, "version": 1}))
	if err != nil {
		return wrap("lesson results", err)
	}
	versions := map[string]int{}
	for cur.Next(ctx) {
		var a struct {
			ID      string `bson:"_id"`
			Version int    `bson:"version"`
		}
		if err := cur.Decode(&a); err != nil {
			_ = cur.Close(ctx)
			return wrap("lesson results", err)
		}
		versions[a.ID] = a.Version
	}
	if err := cur.Err(); err != nil {
		return wrap("lesson results", err)
	}
	_ = cur.Close(ctx)
	if len(versions) == 0 {
		return nil
	}
	rc, err := s.c(colAttemptResults).Find(ctx, bson.M{})
	if err != nil {
		return wrap("lesson results", err)
	}
	defer rc.Close(ctx)
	for rc.Next(ctx) {
		var r attemptResult
		if err := rc.Decode(&r); err != nil {
			return wrap("lesson results", err)
		}
		v, ok := versions[r.ID]
		if !ok {
			continue
		}
		a := model.Attempt{ID: r.ID, Lesson: slug, Version: v, Submitted: true, At: r.At, Answers: r.Answers,
			Score: r.Score, PassMark: r.PassMark, Passed: r.Passed}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return wrap("lesson results", rc.Err())
}
