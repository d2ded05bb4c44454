package storage

import (
	"context"
	"sync"
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
	s.attempts.put(a)
	return nil
}

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
	if a, ok := s.attempts.get(id); ok {
		return a, nil
	}
	var a model.Attempt
	if err := s.c(colAttempts).FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		return nil, wrap("attempt", err)
	}
	var r attemptResult
	err := s.c(colAttemptResults).FindOne(ctx, bson.M{"_id": id}).Decode(&r)
	switch {
	case err == nil:
		a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
		s.attempts.put(&a) // graded: final
	case !isNotFound(err):
		return nil, wrap("attempt result", err)
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
		return false, wrap("submit attempt", err)
	}
	graded := *a
	graded.Submitted = true
	s.attempts.put(&graded)
	return true, nil
}

// attemptCache keeps a sole writer's recent attempts, so that grading one
// reads nothing: those this process drew (not graded, which only this
// process can change, through SubmitAttempt) and those graded (final). An
// attempt read from the database ungraded is not kept: a submit may have
// overtaken that read. Bounded: the oldest go first, and are read again.
type attemptCache struct {
	mu   sync.Mutex
	byID map[string]*model.Attempt
	ring []string // ids in the order kept; ring[next] goes next
	next int
}

const maxCachedAttempts = 8192

func newAttemptCache() *attemptCache {
	return &attemptCache{byID: map[string]*model.Attempt{}, ring: make([]string, 0, maxCachedAttempts)}
}

// get returns a copy of the kept attempt (its slices shared: nobody
// changes them in place).
func (c *attemptCache) get(id string) (*model.Attempt, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	cp := *a
	return &cp, true
}

func (c *attemptCache) put(a *model.Attempt) {
	if c == nil {
		return
	}
	cp := *a
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[a.ID]; !ok {
		if len(c.ring) < maxCachedAttempts {
			c.ring = append(c.ring, a.ID)
		} else {
			delete(c.byID, c.ring[c.next])
			c.ring[c.next] = a.ID
			c.next = (c.next + 1) % maxCachedAttempts
		}
	}
	c.byID[a.ID] = &cp
}

// drop forgets an attempt (its ring slot stays until reused).
func (c *attemptCache) drop(id string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.byID, id)
	c.mu.Unlock()
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
