package storage

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// metaDemo is the _id of the document that marks a database filled by
// "portal demo": every page then says the data are samples.
const metaDemo = "demo"

// MarkDemo records that the database holds the sample company.
func (s *Storage) MarkDemo(ctx context.Context, at time.Time) error {
	_, err := s.c(colMeta).UpdateOne(ctx, bson.M{"_id": metaDemo},
		bson.M{"$set": bson.M{"value": true, "at": at.UTC()}}, options.UpdateOne().SetUpsert(true))
	return wrap("mark demo", err)
}

// IsDemo reports whether the database holds the sample company (one read
// by _id).
func (s *Storage) IsDemo(ctx context.Context) (bool, error) {
	var doc struct {
		Value bool `bson:"value"`
	}
	err := s.c(colMeta).FindOne(ctx, bson.M{"_id": metaDemo}).Decode(&doc)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap("demo flag", err)
	}
	return doc.Value, nil
}
