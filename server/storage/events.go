package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Reads over whole collections, for verification and for rebuilding the
// progress projection. They stream, so memory stays flat.

// EachReceipt calls fn with every receipt, by user and then chain position.
func (s *Storage) EachReceipt(ctx context.Context, fn func(*model.Receipt) error) error {
	cur, err := s.c(colReceipts).Find(ctx, bson.M{},
		options.Find().SetSort(bson.D{{Key: "user_id", Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		return wrap("each receipt", err)
	}
	return each(ctx, cur, "each receipt", fn)
}

// EachProgress calls fn with every user's progress.
func (s *Storage) EachProgress(ctx context.Context, fn func(*model.Progress) error) error {
	cur, err := s.c(colProgress).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return wrap("each progress", err)
	}
	return each(ctx, cur, "each progress", func(p *model.Progress) error {
		if p.Lessons == nil {
			p.Lessons = map[string]model.LessonProgress{}
		}
		return fn(p)
	})
}

func each[T any](ctx context.Context, cur *mongo.Cursor, op string, fn func(*T) error) error {
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return wrap(op, err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return wrap(op, cur.Err())
}

// UserIDs returns the id of every user.
func (s *Storage) UserIDs(ctx context.Context) ([]string, error) {
	return s.ids(ctx, colUsers, bson.M{}, "_id", nil, 0)
}

// AttemptsOfUser returns every attempt of a user, at every lesson, with
// its result when graded.
func (s *Storage) AttemptsOfUser(ctx context.Context, userID string) ([]model.Attempt, error) {
	cur, err := s.c(colAttempts).Find(ctx, bson.M{"user_id": userID},
		options.Find().SetSort(bson.D{{Key: "started", Value: 1}}))
	if err != nil {
		return nil, wrap("attempts of user", err)
	}
	var out []model.Attempt
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("attempts of user", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, a := range out {
		ids[i] = a.ID
	}
	rcur, err := s.c(colAttemptResults).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, wrap("attempt results of user", err)
	}
	var results []attemptResult
	if err := rcur.All(ctx, &results); err != nil {
		return nil, wrap("attempt results of user", err)
	}
	byID := make(map[string]attemptResult, len(results))
	for _, r := range results {
		byID[r.ID] = r
	}
	for i := range out {
		if r, ok := byID[out[i].ID]; ok {
			a := &out[i]
			a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
		}
	}
	return out, nil
}

// RecentEventUsers returns the users of the latest n receipts, attempts and
// graded results: the ones whose progress a crash may have left behind.
func (s *Storage) RecentEventUsers(ctx context.Context, n int64) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	fromReceipts, err := s.ids(ctx, colReceipts, bson.M{}, "user_id", bson.D{{Key: "at", Value: -1}}, n)
	if err != nil {
		return nil, err
	}
	add(fromReceipts)
	fromAttempts, err := s.ids(ctx, colAttempts, bson.M{}, "user_id", bson.D{{Key: "started", Value: -1}}, n)
	if err != nil {
		return nil, err
	}
	add(fromAttempts)
	graded, err := s.ids(ctx, colAttemptResults, bson.M{}, "_id", bson.D{{Key: "at", Value: -1}}, n)
	if err != nil {
		return nil, err
	}
	if len(graded) > 0 {
		ofGraded, err := s.ids(ctx, colAttempts, bson.M{"_id": bson.M{"$in": graded}}, "user_id", nil, 0)
		if err != nil {
			return nil, err
		}
		add(ofGraded)
	}
	return out, nil
}

// ids returns one string field of the documents matching filter.
func (s *Storage) ids(ctx context.Context, col string, filter bson.M, field string, sort bson.D, limit int64) ([]string, error) {
	opts := options.Find().SetProjection(bson.M{field: 1})
	if sort != nil {
		opts.SetSort(sort)
	}
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := s.c(col).Find(ctx, filter, opts)
	if err != nil {
		return nil, wrap("ids of "+col, err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("ids of "+col, err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if v, ok := d[field].(string); ok {
			out = append(out, v)
		}
	}
	return out, nil
}
