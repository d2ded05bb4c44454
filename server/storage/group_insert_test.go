package storage

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"conductportal/server/database"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Inserts queued behind one in flight go out as one command, and each
// caller is told its own outcome: a taken _id fails only its document, the
// others are stored.
func TestGroupInsertAnswersEachCaller(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: filepath.Join(t.TempDir(), "data"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	coll := db.Database.Collection("group_test")
	if _, err := coll.InsertOne(ctx, bson.M{"_id": "taken"}); err != nil {
		t.Fatal(err)
	}
	g := newInserter(coll)
	// As if a command were in flight: the callers queue behind it.
	g.mu.Lock()
	g.running = true
	g.mu.Unlock()
	ids := []string{"a", "taken", "b", "twice", "c", "twice", "d"}
	errs := make([]chan error, len(ids))
	for i, id := range ids {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- g.insert(ctx, bson.M{"_id": id, "n": i}) }()
	}
	for {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == len(ids) {
			break
		}
		runtime.Gosched()
	}
	g.run() // the command in flight is answered: the queue goes out
	if g.commands != 1 {
		t.Fatalf("%d insert commands for %d queued inserts, want 1", g.commands, len(ids))
	}
	twiceStored := 0
	for i, id := range ids {
		err := <-errs[i]
		switch {
		case id == "taken":
			if !mongo.IsDuplicateKeyError(err) {
				t.Errorf("insert of a taken _id: %v, want a duplicate key error", err)
			}
		case id == "twice":
			if err == nil {
				twiceStored++
			} else if !mongo.IsDuplicateKeyError(err) {
				t.Errorf("the second insert of one _id: %v, want a duplicate key error", err)
			}
		case err != nil:
			t.Errorf("insert of %q: %v", id, err)
		}
	}
	if twiceStored != 1 {
		t.Errorf("an _id inserted twice in one command was stored %d times, want 1", twiceStored)
	}
	n, err := coll.CountDocuments(ctx, bson.M{})
	if err != nil || n != 6 { // taken, a, b, c, d, twice
		t.Fatalf("%d documents stored (%v), want 6", n, err)
	}
	// Nothing queued: the next insert goes out alone, at once.
	err = g.insert(ctx, bson.M{"_id": "e"})
	g.mu.Lock()
	commands := g.commands
	g.mu.Unlock()
	if err != nil || commands != 2 {
		t.Fatalf("a lone insert: %v, %d commands", err, commands)
	}
}
