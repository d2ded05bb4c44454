package storage

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Scanner reads every document of a collection without the database
// server, as database.DB.ScanEmbedded does for the embedded database: the
// whole documents or only fields (with _id), those whose string field
// matchField is one of matchIn when it is set. fn's document is valid
// during the call only.
type Scanner func(ctx context.Context, collection string, fields []string, matchField string, matchIn []string, fn func(bson.Raw) error) error

// SetScanner makes the start's bulk loads read through scan (set for the
// embedded database, whose FerretDB spends most of a scan, and most of
// its garbage, decoding its own format); unset, they are finds.
func (s *Storage) SetScanner(scan Scanner) { s.scanner = scan }

// scan calls fn with every document of col, or those whose matchField is
// one of matchIn, whole or only fields: by the scanner when set, else by
// a find with that filter and projection.
func (s *Storage) scan(ctx context.Context, col string, fields []string, matchField string, matchIn []string, fn func(bson.Raw) error) error {
	if s.scanner != nil {
		return s.scanner(ctx, col, fields, matchField, matchIn, fn)
	}
	filter := bson.M{}
	if matchField != "" {
		filter[matchField] = bson.M{"$in": matchIn}
	}
	opts := options.Find().SetBatchSize(scanBatch)
	if fields != nil {
		p := bson.M{}
		for _, f := range fields {
			p[f] = 1
		}
		opts.SetProjection(p)
	}
	cur, err := s.c(col).Find(ctx, filter, opts)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if err := fn(cur.Current); err != nil {
			return err
		}
	}
	return cur.Err()
}

// scanEach is scan decoding each document into a T for fn, the shape of
// most of scan's callers.
func scanEach[T any](ctx context.Context, s *Storage, col string, fields []string, matchField string, matchIn []string, fn func(*T) error) error {
	return s.scan(ctx, col, fields, matchField, matchIn, func(doc bson.Raw) error {
		var v T
		if err := bson.Unmarshal(doc, &v); err != nil {
			return err
		}
		return fn(&v)
	})
}
