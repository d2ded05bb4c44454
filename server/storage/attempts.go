package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateAttempt stores a freshly drawn attempt.
func (s *Storage) CreateAttempt(ctx context.Context, a *model.Attempt) error {
	_, err := s.c(colAttempts).InsertOne(ctx, a)
	return wrap("create attempt", err)
}

// Attempt returns the attempt with id.
func (s *Storage) Attempt(ctx context.Context, id string) (*model.Attempt, error) {
	var a model.Attempt
	if err := s.c(colAttempts).FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		return nil, wrap("attempt", err)
	}
	return &a, nil
}

// SubmitAttempt stores the graded result only if the attempt is still open,
// and reports whether this call was the one that stored it. Concurrent
// submits of one attempt therefore grade it exactly once.
func (s *Storage) SubmitAttempt(ctx context.Context, a *model.Attempt) (bool, error) {
	res, err := s.c(colAttempts).UpdateOne(ctx,
		bson.M{"_id": a.ID, "submitted": false},
		bson.M{"$set": bson.M{
			"submitted": true, "at": a.At, "answers": a.Answers,
			"score": a.Score, "pass_mark": a.PassMark, "passed": a.Passed,
		}})
	if err != nil {
		return false, wrap("submit attempt", err)
	}
	return res.ModifiedCount == 1, nil
}

// UserAttempts returns a user's attempts at a lesson, oldest first.
func (s *Storage) UserAttempts(ctx context.Context, userID, slug string) ([]model.Attempt, error) {
	cur, err := s.c(colAttempts).Find(ctx, bson.M{"user_id": userID, "lesson": slug},
		options.Find().SetSort(bson.D{{Key: "started", Value: 1}}))
	if err != nil {
		return nil, wrap("user attempts", err)
	}
	var out []model.Attempt
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("user attempts", err)
	}
	return out, nil
}
