package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Throttle returns the failure count of key; none gives a zero Throttle.
func (s *Storage) Throttle(ctx context.Context, key string) (*model.Throttle, error) {
	t := model.Throttle{Key: key}
	err := s.c(colThrottles).FindOne(ctx, bson.M{"_id": key}).Decode(&t)
	if err != nil && !isNotFound(err) {
		return nil, wrap("throttle", err)
	}
	return &t, nil
}

// SaveThrottle stores a failure count.
func (s *Storage) SaveThrottle(ctx context.Context, t *model.Throttle) error {
	_, err := s.c(colThrottles).ReplaceOne(ctx, bson.M{"_id": t.Key}, t, options.Replace().SetUpsert(true))
	return wrap("save throttle", err)
}

// DeleteThrottle forgets the failures of key.
func (s *Storage) DeleteThrottle(ctx context.Context, key string) error {
	_, err := s.c(colThrottles).DeleteOne(ctx, bson.M{"_id": key})
	return wrap("delete throttle", err)
}
