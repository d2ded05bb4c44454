package storage_test

import (
	"context"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A sole writer keeps the API tokens it read, and its own writes show at
// once: a touch moves the kept last use, a revocation is refused on the
// next call. What it keeps is its own: a caller's change stays the caller's.
// The kept copy is what answers: a change made behind storage's back (here,
// straight in the database) is not seen until the process writes it.
func TestAPITokenKept(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	tok := &model.APIToken{ID: model.NewID(), UserID: "u1", Name: "n", Created: testkit.Epoch}
	if err := k.Store.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	read := func() *model.APIToken {
		t.Helper()
		got, err := k.Store.APIToken(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	read().Name = "changed by a caller"
	if got := read(); got.Name != "n" {
		t.Fatalf("a caller's change reached the kept copy: %q", got.Name)
	}
	// Kept: the database alone changing is not read again.
	if _, err := k.DB.Database.Collection("api_tokens").UpdateOne(ctx, bson.M{"_id": tok.ID}, bson.M{"$set": bson.M{"name": "behind"}}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got.Name != "n" {
		t.Fatalf("not kept: read %q again", got.Name)
	}
	used := testkit.Epoch.Add(time.Hour)
	if err := k.Store.TouchAPIToken(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.LastUsed.Equal(used) {
		t.Fatalf("after a touch, last used %v, want %v", got.LastUsed, used)
	}
	if err := k.Store.RevokeAPIToken(ctx, tok.ID, used); err != nil {
		t.Fatal(err)
	}
	if got := read(); !got.Revoked || got.Name != "behind" {
		t.Fatalf("after the revocation, read again: %+v, want revoked, as stored", got)
	}
}
