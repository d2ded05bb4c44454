package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateAttempt stores a freshly drawn attempt (with other requests'
// attempts in one command when they come together: group_insert.go).
func (s *Storage) CreateAttempt(ctx context.Context, a *model.Attempt) error {
	if err := s.attemptsIns.insert(ctx, a); err != nil {
		return wrap("create attempt", err)
	}
	if s.keepAttempt(a) { // grading it then reads nothing
		s.attempts.set(a.ID, copyAttempt(a))
	}
	return nil
}

// keepAttempt tells whether a read attempt may be kept: a graded one never
// changes; an open one only while no other instance can grade it.
func (s *Storage) keepAttempt(a *model.Attempt) bool { return a.Submitted || s.sole }

// attemptResult is the graded half of an attempt, stored apart with the
// attempt's id as its _id. Inserting it is the one atomic step of grading:
// FerretDB v1 does not run a conditional update atomically (measured: 20
// concurrent "set if not yet submitted" updates let 2 to 4 through), but it
// never stores two documents with one _id.
type attemptResult struct {
	ID       string                `bson:"_id"`
	At       time.Time             `bson:"at"`
	Answers  []model.AttemptAnswer `bson:"answers"`
	Score    int                   `bson:"score"`
	PassMark int                   `bson:"pass_mark"`
	Passed   bool                  `bson:"passed"`
}

// Attempt returns the attempt with id, with its result when submitted.
func (s *Storage) Attempt(ctx context.Context, id string) (*model.Attempt, error) {
	if a, ok := s.attempts.getSettled(ctx, id); ok {
		return copyAttempt(a), nil
	}
	at, drops := s.attempts.begin()
	var a model.Attempt
	if err := s.c(colAttempts).FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		return nil, wrap("attempt", err)
	}
	var r attemptResult
	err := s.c(colAttemptResults).FindOne(ctx, bson.M{"_id": id}).Decode(&r)
	switch {
	case err == nil:
		a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
	case !isNotFound(err):
		return nil, wrap("attempt result", err)
	}
	if s.keepAttempt(&a) {
		s.attempts.put(id, copyAttempt(&a), at, drops)
	}
	return &a, nil
}

// SubmitAttempt stores the graded result unless one is stored already, and
// reports whether this call stored it. Concurrent submits of one attempt
// therefore grade it exactly once. Results submitted together are stored
// in one command, each told its own outcome (group_insert.go).
func (s *Storage) SubmitAttempt(ctx context.Context, a *model.Attempt) (bool, error) {
	err := s.resultsIns.insert(ctx, attemptResult{
		ID: a.ID, At: a.At, Answers: a.Answers, Score: a.Score, PassMark: a.PassMark, Passed: a.Passed,
	})
	if mongo.IsDuplicateKeyError(err) {
		s.attempts.drop(a.ID) // graded by another request: read it
		return false, nil
	}
	if err != nil {
		s.attempts.drop(a.ID) // stored or not: read it once more
		return false, wrap("submit attempt", err)
	}
	graded := copyAttempt(a)
	graded.Submitted = true
	s.attempts.set(a.ID, graded) // graded: final
	return true, nil
}

// LessonAttempts returns every submitted attempt at a lesson's quizzes, with
// its result, oldest first. HR's analytics read the item statistics
// instead (item_stats.go); this is the benchmark's baseline of reading the
// attempts themselves.
func (s *Storage) LessonAttempts(ctx context.Context, slug string) ([]model.Attempt, error) {
	cur, err := s.c(colAttempts).Find(ctx, bson.M{"lesson": slug}, options.Find().SetSort(bson.D{{Key: "started", Value: 1}}))
	if err != nil {
		return nil, wrap("lesson attempts", err)
	}
	var all []model.Attempt
	if err := cur.All(ctx, &all); err != nil {
		return nil, wrap("lesson attempts", err)
	}
	ids := make([]string, len(all))
	for i := range all {
		ids[i] = all[i].ID
	}
	results := map[string]attemptResult{}
	if len(ids) > 0 {
		rc, err := s.c(colAttemptResults).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
		if err != nil {
			return nil, wrap("lesson attempt results", err)
		}
		var rs []attemptResult
		if err := rc.All(ctx, &rs); err != nil {
			return nil, wrap("lesson attempt results", err)
		}
		for _, r := range rs {
			results[r.ID] = r
		}
	}
	var out []model.Attempt
	for _, a := range all {
		r, ok := results[a.ID]
		if !ok {
			continue
		}
		a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
		out = append(out, a)
	}
	return out, nil
}

// ImportAttempts inserts many graded attempts at once, each with its
// result (seeding and benchmarks).
func (s *Storage) ImportAttempts(ctx context.Context, as []model.Attempt) error {
	docs, results := make([]any, len(as)), make([]any, len(as))
	for i := range as {
		a := &as[i]
		docs[i] = a
		results[i] = attemptResult{ID: a.ID, At: a.At, Answers: a.Answers, Score: a.Score, PassMark: a.PassMark, Passed: a.Passed}
	}
	if _, err := s.c(colAttempts).InsertMany(ctx, docs); err != nil {
		return wrap("import attempts", err)
	}
	_, err := s.c(colAttemptResults).InsertMany(ctx, results)
	return wrap("import attempts", err)
}
