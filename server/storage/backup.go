package storage

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Whole-database copies, for backup and restore. Documents travel as
// canonical extended JSON, which keeps every BSON type (dates, int32 or
// int64) exactly, and is readable by any MongoDB tool.

// CollectionNames returns the database's collections, sorted.
func (s *Storage) CollectionNames(ctx context.Context) ([]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return nil, wrap("collection names", err)
	}
	slices.Sort(names)
	return names, nil
}

// DocumentCount returns how many documents a collection holds.
func (s *Storage) DocumentCount(ctx context.Context, collection string) (int64, error) {
	n, err := s.c(collection).CountDocuments(ctx, bson.M{})
	return n, wrap("count "+collection, err)
}

// ExportCollection calls fn with every document of a collection, by _id,
// as canonical extended JSON.
func (s *Storage) ExportCollection(ctx context.Context, collection string, fn func(doc []byte) error) error {
	cur, err := s.c(collection).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return wrap("export "+collection, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		doc, err := bson.MarshalExtJSON(cur.Current, true, false)
		if err != nil {
			return fmt.Errorf("storage: export %s: %w", collection, err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return wrap("export "+collection, cur.Err())
}

// ImportDocuments inserts documents given as extended JSON into a
// collection, as they are.
func (s *Storage) ImportDocuments(ctx context.Context, collection string, docs [][]byte) error {
	if len(docs) == 0 {
		return nil
	}
	batch := make([]any, 0, len(docs))
	for i, d := range docs {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(d, true, &raw); err != nil {
			return fmt.Errorf("storage: import %s: document %d: %w", collection, i+1, err)
		}
		batch = append(batch, raw)
	}
	_, err := s.c(collection).InsertMany(ctx, batch, options.InsertMany().SetOrdered(true))
	s.DropCaches()
	s.changed(ctx, changeAll, "")
	return wrap("import "+collection, err)
}
