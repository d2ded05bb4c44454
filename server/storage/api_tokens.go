package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CreateAPIToken stores a token (its hash, never the token).
func (s *Storage) CreateAPIToken(ctx context.Context, t *model.APIToken) error {
	_, err := s.c(colAPITokens).InsertOne(ctx, t)
	return wrap("create api token", err)
}

// APIToken returns the token whose hash is id.
func (s *Storage) APIToken(ctx context.Context, id string) (*model.APIToken, error) {
	var t model.APIToken
	if err := s.c(colAPITokens).FindOne(ctx, bson.M{"_id": id}).Decode(&t); err != nil {
		return nil, wrap("api token", err)
	}
	return &t, nil
}

// TouchAPIToken records the token's last use.
func (s *Storage) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.c(colAPITokens).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"last_used": at}})
	return wrap("touch api token", err)
}
