package database

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestEmbeddedLockMigrateAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if !db.Embedded {
		t.Fatal("no URI must start the embedded database")
	}
	// A second process (or opener) on the same folder is refused cleanly.
	if _, err := Open(ctx, Options{DataDir: dir, Logger: quiet()}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if n, err := db.Migrate(ctx, quiet()); err != nil || n != SchemaVersion() {
		t.Fatalf("migrate: %d %v", n, err)
	}
	if n, err := db.Migrate(ctx, quiet()); err != nil || n != SchemaVersion() {
		t.Fatalf("migrate again: %d %v", n, err)
	}
	if _, err := db.Database.Collection("users").InsertOne(ctx, bson.M{"_id": "u1", "login": "a"}); err != nil {
		t.Fatal(err)
	}
	// The unique login index of step 1 is in force.
	if _, err := db.Database.Collection("users").InsertOne(ctx, bson.M{"_id": "u2", "login": "a"}); err == nil {
		t.Fatal("duplicate login accepted")
	}
	if err := db.Close(ctx); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, Options{DataDir: dir, Logger: quiet()})
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	defer db.Close(ctx)
	var doc schemaDoc
	if err := db.Database.Collection("schema").FindOne(ctx, bson.M{"_id": "schema"}).Decode(&doc); err != nil || doc.Version != SchemaVersion() {
		t.Fatalf("recorded schema version: %+v %v", doc, err)
	}
	if n, _ := db.Database.Collection("users").CountDocuments(ctx, bson.M{}); n != 1 {
		t.Fatalf("%d users after reopening, want 1", n)
	}
	// A database newer than this build is refused, not "downgraded".
	if _, err := db.Database.Collection("schema").UpdateOne(ctx, bson.M{"_id": "schema"}, bson.M{"$set": bson.M{"version": 99}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, quiet()); err == nil || !strings.Contains(err.Error(), "a downgrade is refused") {
		t.Fatalf("a newer schema must stop the start with a clear message: %v", err)
	}
	if err := db.Database.Collection("schema").FindOne(ctx, bson.M{"_id": "schema"}).Decode(&doc); err != nil || doc.Version != 99 {
		t.Fatalf("the refused downgrade changed the schema record: %+v %v", doc, err)
	}
}

func TestURIDatabase(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb://h:27017":                         "",
		"mongodb://h:27017/":                        "",
		"mongodb://u:p@h1,h2/portal?replicaSet=rs0": "portal",
		"mongodb+srv://cluster.example/hr":          "hr",
	} {
		if got := uriDatabase(uri); got != want {
			t.Errorf("uriDatabase(%q) = %q, want %q", uri, got, want)
		}
	}
}

// Step 9 removes the chosen: null of item statistics stored before it
// (they refused every later $inc of an option), leaving counts alone.
func TestItemStatsWithoutChoicesMigrated(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Options{DataDir: t.TempDir(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Migrate(ctx, quiet()); err != nil {
		t.Fatal(err)
	}
	stats := db.Database.Collection("item_stats")
	if _, err := stats.InsertMany(ctx, []any{
		bson.M{"_id": "dress/q1", "lesson": "dress", "n": 1, "blank": 1, "chosen": nil},
		bson.M{"_id": "dress/q2", "lesson": "dress", "n": 1, "chosen": bson.M{"a": 1}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Database.Collection("schema").UpdateOne(ctx, bson.M{"_id": "schema"}, bson.M{"$set": bson.M{"version": 8}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, quiet()); err != nil {
		t.Fatal(err)
	}
	var q1 bson.M
	var q2 struct {
		Chosen map[string]int `bson:"chosen"`
	}
	if err := stats.FindOne(ctx, bson.M{"_id": "dress/q1"}).Decode(&q1); err != nil {
		t.Fatal(err)
	}
	if err := stats.FindOne(ctx, bson.M{"_id": "dress/q2"}).Decode(&q2); err != nil {
		t.Fatal(err)
	}
	if _, ok := q1["chosen"]; ok || q1["n"] != int32(1) {
		t.Fatalf("after step 9: %v", q1)
	}
	if q2.Chosen["a"] != 1 {
		t.Fatalf("a question with choices after step 9: %v", q2)
	}
	if _, err := stats.UpdateOne(ctx, bson.M{"_id": "dress/q1"}, bson.M{"$inc": bson.M{"chosen.false": 1}}); err != nil {
		t.Fatalf("an option counted after step 9: %v", err)
	}
}
