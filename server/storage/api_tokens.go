package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateAPIToken stores a token (its hash, never the token).
func (s *Storage) CreateAPIToken(ctx context.Context, t *model.APIToken) error {
	_, err := s.c(colAPITokens).InsertOne(ctx, t)
	return wrap("create api token", err)
}

// APIToken returns the token whose hash is id. Every API call asks: a
// sole writer keeps the tokens it read (each of its writes of one changes
// or drops the kept copy); instances sharing a database read each time, so
// a token revoked by another is refused at once.
func (s *Storage) APIToken(ctx context.Context, id string) (*model.APIToken, error) {
	if !s.sole {
		return s.readAPIToken(ctx, id)
	}
	if t, ok := s.tokens.get(id); ok {
		c := *t
		return &c, nil
	}
	at, drops := s.tokens.begin()
	t, err := s.readAPIToken(ctx, id)
	if err != nil {
		return nil, err
	}
	c := *t
	s.tokens.put(id, &c, at, drops)
	return t, nil
}

func (s *Storage) readAPIToken(ctx context.Context, id string) (*model.APIToken, error) {
	var t model.APIToken
	if err := s.c(colAPITokens).FindOne(ctx, bson.M{"_id": id}).Decode(&t); err != nil {
		return nil, wrap("api token", err)
	}
	return &t, nil
}

// TouchAPIToken records the token's last use.
func (s *Storage) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := s.c(colAPITokens).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"last_used": at}})
	if err != nil {
		s.tokens.drop(id)
		return wrap("touch api token", err)
	}
	s.tokens.change(id, func(t *model.APIToken) *model.APIToken {
		c := *t
		c.LastUsed = at
		return &c
	})
	return nil
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
	s.tokens.drop(id) // stored or not: read it once more
	return wrap("revoke api token", err)
}
