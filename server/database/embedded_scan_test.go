package database

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// everyType is a document with each BSON type FerretDB v1 stores, nested
// in objects and arrays, strings that JSON escapes, extreme numbers.
func everyType(id string, n int) bson.D {
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "user_id", Value: fmt.Sprintf("u%d", n%3)},
		{Key: "s", Value: "quote \" backslash \\ tab \t 中文 <tag> & \u2028"},
		{Key: "empty", Value: ""},
		{Key: "i32", Value: int32(-7 * n)},
		{Key: "i64", Value: int64(math.MaxInt64 - int64(n))},
		{Key: "min", Value: int64(math.MinInt64)},
		{Key: "f", Value: 0.1 + float64(n)},
		{Key: "big", Value: 1e300},
		{Key: "whole", Value: 3.0},
		{Key: "neg0", Value: math.Copysign(0, -1)},
		{Key: "t", Value: true},
		{Key: "no", Value: false},
		{Key: "null", Value: nil},
		{Key: "at", Value: bson.NewDateTimeFromTime(time.Date(2026, 12, 7, 1, 2, 3, 4_000_000, time.UTC))},
		{Key: "before1970", Value: bson.DateTime(-86_400_123)},
		{Key: "oid", Value: bson.ObjectID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, byte(n)}},
		{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{7}, 16)}},
		{Key: "re", Value: bson.Regex{Pattern: "^a.*b$", Options: "i"}},
		{Key: "ts", Value: bson.Timestamp{T: 1_700_000_000, I: 9}},
		{Key: "obj", Value: bson.D{
			{Key: "z", Value: 1}, {Key: "a", Value: "first after z"},
			{Key: "deep", Value: bson.D{{Key: "m", Value: bson.A{int32(1), "two", bson.D{{Key: "x", Value: nil}}}}}},
			{Key: "none", Value: bson.D{}},
			{Key: "key \" \\ é", Value: bson.A{"]}\"{[", bson.D{{Key: "}", Value: "{"}}}},
		}},
		{Key: "arr", Value: bson.A{"a", int64(2), 3.5, bson.D{{Key: "in", Value: bson.D{{Key: "b", Value: true}}}}, nil, bson.NewDateTimeFromTime(time.Unix(1, 0))}},
		{Key: "emptyArr", Value: bson.A{}},
		{Key: "lessons", Value: bson.M{"attendance": bson.M{"version": 2, "fails": bson.M{"q1": 3}}}},
	}
}

// TestScanEmbeddedAgreesWithDriver: reading FerretDB's SQLite file gives,
// byte for byte, the BSON the driver's find returns: whole documents,
// projections (with _id) and a match on a string field, documents written,
// updated and deleted.
func TestScanEmbeddedAgreesWithDriver(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	col := db.Database.Collection("things")
	for n := range 30 {
		if _, err := col.InsertOne(ctx, everyType(fmt.Sprintf("id%02d", n), n)); err != nil {
			t.Fatal(err)
		}
	}
	// A field of another type under a name the match reads, updated and
	// deleted documents, one with fields unset.
	if _, err := col.InsertOne(ctx, bson.D{{Key: "_id", Value: "odd"}, {Key: "user_id", Value: int32(0)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := col.UpdateOne(ctx, bson.M{"_id": "id03"}, bson.M{"$set": bson.M{"s": "changed", "added": 1.5}, "$unset": bson.M{"f": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := col.DeleteOne(ctx, bson.M{"_id": "id04"}); err != nil {
		t.Fatal(err)
	}

	driver := func(filter bson.M, projection bson.M) map[string]string {
		t.Helper()
		opts := options.Find()
		if projection != nil {
			opts.SetProjection(projection)
		}
		cur, err := col.Find(ctx, filter, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for cur.Next(ctx) {
			out[cur.Current.Lookup("_id").StringValue()] = cur.Current.String()
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	scan := func(fields []string, field string, in []string) map[string]string {
		t.Helper()
		out := map[string]string{}
		err := db.ScanEmbedded(ctx, "things", fields, field, in, func(doc bson.Raw) error {
			if err := doc.Validate(); err != nil {
				return err
			}
			out[doc.Lookup("_id").StringValue()] = doc.String()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	same := func(what string, got, want map[string]string) {
		t.Helper()
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%s: %d documents, the driver %d", what, len(got), len(want))
		}
		for id, w := range want {
			if got[id] != w {
				t.Fatalf("%s: document %s:\n got %s\nwant %s", what, id, got[id], w)
			}
		}
	}
	same("whole", scan(nil, "", nil), driver(bson.M{}, nil))
	fields := []string{"user_id", "at", "i32", "obj", "arr", "f", "missing"}
	proj := bson.M{}
	for _, f := range fields {
		proj[f] = 1
	}
	same("projection", scan(fields, "", nil), driver(bson.M{}, proj))
	same("match", scan(nil, "user_id", []string{"u1", "u2"}), driver(bson.M{"user_id": bson.M{"$in": []string{"u1", "u2"}}}, nil))
	same("match and projection", scan([]string{"at"}, "user_id", []string{"u0"}),
		driver(bson.M{"user_id": bson.M{"$in": []string{"u0"}}}, bson.M{"at": 1}))
	if got := scan(nil, "user_id", []string{"nobody"}); len(got) != 0 {
		t.Fatalf("a match of no one gave %d documents", len(got))
	}
	if got := scan([]string{"at"}, "user_id", nil); len(got) != 0 {
		t.Fatalf("a match of an empty list gave %d documents", len(got))
	}

	// A collection never written has no table: no documents, no error.
	n := 0
	if err := db.ScanEmbedded(ctx, "never", nil, "", nil, func(bson.Raw) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("never written: %d %v", n, err)
	}
	if !slices.Equal(fields, []string{"user_id", "at", "i32", "obj", "arr", "f", "missing"}) {
		t.Fatalf("the caller's fields changed: %v", fields)
	}
}
