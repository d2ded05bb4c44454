package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Channels returns every channel, by department and name. There are few:
// one read of the whole collection.
func (s *Storage) Channels(ctx context.Context) ([]model.Channel, error) {
	cur, err := s.c(colChannels).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "department", Value: 1}, {Key: "name", Value: 1}}))
	if err != nil {
		return nil, wrap("channels", err)
	}
	var out []model.Channel
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("channels", err)
	}
	return out, nil
}

// Channel returns the channel with id.
func (s *Storage) Channel(ctx context.Context, id string) (*model.Channel, error) {
	var ch model.Channel
	if err := s.c(colChannels).FindOne(ctx, bson.M{"_id": id}).Decode(&ch); err != nil {
		return nil, wrap("channel", err)
	}
	return &ch, nil
}

// SaveChannel inserts or replaces ch.
func (s *Storage) SaveChannel(ctx context.Context, ch *model.Channel) error {
	_, err := s.c(colChannels).ReplaceOne(ctx, bson.M{"_id": ch.ID}, ch, options.Replace().SetUpsert(true))
	return wrap("save channel", err)
}

// DeleteChannel removes the channel with id.
func (s *Storage) DeleteChannel(ctx context.Context, id string) error {
	res, err := s.c(colChannels).DeleteOne(ctx, bson.M{"_id": id})
	if err != nil {
		return wrap("delete channel", err)
	}
	if res.DeletedCount == 0 {
		return wrap("delete channel", model.ErrNotFound)
	}
	return nil
}
