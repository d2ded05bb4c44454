package storage_test

import (
	"context"
	"testing"

	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A rebuild stores a question whose answers chose no option (all blank)
// without a chosen field, so the next answer that chooses one is counted:
// stored as null, the $inc of chosen.<option> was refused, and the sums
// held by a sole writer were never written (the flush tried again every
// two seconds, for ever).
func TestItemStatsAfterARebuildWithoutChoices(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	const key = "dress/q-true-false"
	if err := k.Store.ReplaceItemStats(ctx, model.LessonTally{Slug: "dress", Attempts: 1},
		[]model.ItemStat{{ID: key, Lesson: "dress", N: 1, Blank: 1}}); err != nil {
		t.Fatal(err)
	}
	var raw bson.M
	if err := k.DB.Database.Collection("item_stats").FindOne(ctx, bson.M{"_id": key}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if v, ok := raw["chosen"]; ok {
		t.Fatalf("a question with no option chosen stored chosen: %v", v)
	}
	if err := k.Store.AddItemTallies(ctx, "dress", true, []model.ItemTally{{Key: key, Right: true, Rest: -1, Chosen: []string{"false"}}}); err != nil {
		t.Fatal(err)
	}
	if err := k.Store.FlushItemStats(ctx); err != nil {
		t.Fatalf("flush after the rebuild: %v", err)
	}
	got, err := k.Store.ItemStats(ctx, []string{key})
	if err != nil {
		t.Fatal(err)
	}
	if st := got[key]; st.N != 2 || st.Right != 1 || st.Blank != 1 || st.Chosen["false"] != 1 {
		t.Fatalf("sums after the rebuild and one answer: %+v", st)
	}
}
