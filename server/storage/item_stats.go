package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Item statistics are a projection of the graded attempts: one document
// of running sums per question (and one count per lesson), each updated
// with $inc as an attempt is graded and read by _id. HR's analytics then
// cost one read per question of the pool however many attempts exist:
// FerretDB v1 would scan the attempts for any other read. On the
// embedded database a write command runs alone (database/serial.go), so
// the read-modify-write FerretDB makes of $inc loses nothing; MongoDB
// applies $inc atomically. RebuildItemStats recomputes them.

// AddItemTallies counts one graded attempt into its lesson's statistics,
// in one write command.
func (s *Storage) AddItemTallies(ctx context.Context, slug string, passed bool, ts []model.ItemTally) error {
	pass := 0
	if passed {
		pass = 1
	}
	models := []mongo.WriteModel{mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": slug}).SetUpsert(true).
		SetUpdate(bson.M{"$inc": bson.M{"attempts": 1, "passed": pass}})}
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
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": t.Key}).SetUpsert(true).
			SetUpdate(bson.M{"$inc": inc, "$set": bson.M{"lesson": slug}}))
	}
	_, err := s.c(colItemStats).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return wrap("add item tallies", err)
}

// ItemStats returns the statistics of the questions with keys, each read
// by _id; a question never answered is missing from the map.
func (s *Storage) ItemStats(ctx context.Context, keys []string) (map[string]model.ItemStat, error) {
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
