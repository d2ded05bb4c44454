package database

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestIndexEmbeddedIDs: FerretDB's reads by _id scan the table until the
// portal adds the index they can use; after it, SQLite searches by it, and
// the documents read and write as before.
func TestIndexEmbeddedIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	col := db.Database.Collection("progress")
	for _, id := range []string{"a", "b", "c"} {
		if _, err := col.InsertOne(ctx, bson.M{"_id": id, "n": 1}); err != nil {
			t.Fatal(err)
		}
	}
	raw, table := sqliteTable(t, dir, "progress")
	// The query FerretDB sends for {_id: "b"} (backends/sqlite: IDColumn).
	plan := func() string {
		var id, parent, unused int
		var detail string
		if err := raw.QueryRow(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "`+table+`" WHERE _ferretdb_sjson->'$._id' = ?`, `"b"`).
			Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		return detail
	}
	if p := plan(); !strings.HasPrefix(p, "SCAN") {
		t.Fatalf("before: %q; FerretDB's own _id index is usable after all, and this index is not needed", p)
	}
	for range 2 { // again: nothing changes
		if n, err := db.IndexEmbeddedIDs(ctx); err != nil || n == 0 {
			t.Fatalf("index: %d %v", n, err)
		}
	}
	raw.SetMaxIdleConns(0) // a fresh connection: it reads the new schema
	if p := plan(); !strings.Contains(p, "USING INDEX") || !strings.Contains(p, "__id_path") {
		t.Fatalf("after: %q, want a search by the new index", p)
	}
	if _, err := col.UpdateOne(ctx, bson.M{"_id": "b"}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	var doc struct{ N int }
	if err := col.FindOne(ctx, bson.M{"_id": "b"}).Decode(&doc); err != nil || doc.N != 2 {
		t.Fatalf("read by _id after the index: %+v %v", doc, err)
	}
	if _, err := col.InsertOne(ctx, bson.M{"_id": "b"}); err == nil {
		t.Fatal("a duplicate _id was accepted")
	}
	if err := col.Drop(ctx); err != nil {
		t.Fatalf("drop a collection with the extra index: %v", err)
	}
}

// TestIndexEmbeddedIDsMakesNamedCollections: a collection the portal names
// but has not written yet is made at start with its index, so its first
// reads by _id do not scan until the next start.
func TestIndexEmbeddedIDsMakesNamedCollections(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for range 2 { // again: the collection exists now, nothing changes
		if _, err := db.IndexEmbeddedIDs(ctx, "attempt_results"); err != nil {
			t.Fatal(err)
		}
	}
	raw, table := sqliteTable(t, dir, "attempt_results")
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, table+"__id_path").Scan(&n); err != nil || n != 1 {
		t.Fatalf("index of the new collection: %d %v", n, err)
	}
	col := db.Database.Collection("attempt_results")
	if _, err := col.InsertOne(ctx, bson.M{"_id": "a", "n": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := col.InsertOne(ctx, bson.M{"_id": "a"}); err == nil {
		t.Fatal("a duplicate _id was accepted")
	}
}

// sqliteTable opens the embedded database's SQLite file read-only, beside
// FerretDB, and names the table of collection (failing if there is none).
func sqliteTable(t *testing.T, dir, collection string) (*sql.DB, string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DefaultName+".sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	var table string
	if err := raw.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table); err != nil {
		t.Fatalf("no table for collection %s: %v", collection, err)
	}
	return raw, table
}

// TestCountEmbedded: SQLite's count of an embedded collection is the one
// FerretDB gives (documents inserted, deleted, a collection never
// written), without FerretDB reading them.
func TestCountEmbedded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	same := func(name string, want int64) {
		t.Helper()
		got, err := db.CountEmbedded(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ferret, err := db.Database.Collection(name).CountDocuments(ctx, bson.M{})
		if err != nil {
			t.Fatal(err)
		}
		if got != want || ferret != want {
			t.Errorf("%s: counted %d, FerretDB %d, want %d", name, got, ferret, want)
		}
	}
	same("sessions", 0)
	col := db.Database.Collection("sessions")
	for i := range 25 {
		if _, err := col.InsertOne(ctx, bson.M{"_id": string(rune('a' + i)), "user_id": "u"}); err != nil {
			t.Fatal(err)
		}
	}
	same("sessions", 25)
	if _, err := col.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": []string{"a", "b", "c"}}}); err != nil {
		t.Fatal(err)
	}
	same("sessions", 22)
	same("never_written", 0)
}
