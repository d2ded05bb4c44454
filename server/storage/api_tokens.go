package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateAPIToken stores a token (its hash, never the token), and keeps it.
func (s *Storage) CreateAPIToken(ctx context.Context, t *model.APIToken) error {
	if _, err := s.c(colAPITokens).InsertOne(ctx, t); err != nil {
		return wrap("create api token", err)
	}
	s.tokens.set(t.ID, copyToken(t))
	return nil
}

// APIToken returns the token whose hash is id, from memory when kept (as
// sessions are: see accessCache); a revocation drops the kept copy.
func (s *Storage) APIToken(ctx context.Context, id string) (*model.APIToken, error) {
	if t, ok := s.tokens.get(id); ok {
		return copyToken(t), nil
	}
	at, drops := s.tokens.begin()
	var t model.APIToken
	if err := s.c(colAPITokens).FindOne(ctx, bson.M{"_id": id}).Decode(&t); err != nil {
		return nil, wrap("api token", err)
	}
	s.tokens.put(id, copyToken(&t), at, drops)
	return &t, nil
}

// TouchAPIToken records the token's last use; the kept copy takes the new
// time once the database has it.
func (s *Storage) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.c(colAPITokens).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"last_used": at}})
	if err != nil || res.MatchedCount == 0 {
		s.tokens.drop(id)
		return wrap("touch api token", err)
	}
	s.tokens.change(id, func(t *model.APIToken) *model.APIToken {
		c := copyToken(t)
		c.LastUsed = at
		return c
	})
	return nil // no word to other instances: their copies only lag in last_used
}

// APITokens returns the tokens of one user, or of everyone when userID is
// empty, newest first. Tokens are few: a scan is fine.
func (s *Storage) APITokens(ctx context.Context, userID string) ([]model.APIToken, error) {
	q := bson.M{}
	if userID != "" {
		q["user_id"] = userID
	}
	cur, err := s.c(colAPITokens).Find(ctx, q, options.Find().SetSort(bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("api tokens", err)
	}
	out := []model.APIToken{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("api tokens", err)
	}
	return out, nil
}

// RevokeAPIToken marks a token revoked; revoking twice keeps the first time.
func (s *Storage) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.c(colAPITokens).UpdateOne(ctx, bson.M{"_id": id, "revoked": bson.M{"$ne": true}},
		bson.M{"$set": bson.M{"revoked": true, "revoked_at": at}})
	s.tokens.drop(id) // whatever the outcome: the next use reads it
	s.changed(ctx, changeToken, id)
	return wrap("revoke api token", err)
}
