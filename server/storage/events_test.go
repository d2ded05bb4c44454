package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestRecentEventsAndHeadsWithoutSorting: the latest events' users and
// every chain's head come out right from unsorted reads, whatever order
// the receipts were stored in.
func TestRecentEventsAndHeadsWithoutSorting(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	t0 := testkit.Epoch
	// Receipts stored out of time and seq order: u3's are the latest, u1's
	// the earliest; each user's seq 2 is stored before seq 1.
	at := map[string]time.Duration{"u1": 0, "u2": time.Hour, "u3": 2 * time.Hour}
	for _, u := range []string{"u2", "u3", "u1"} {
		for _, seq := range []int{2, 1} {
			r := &model.Receipt{ID: fmt.Sprintf("%s-%d", u, seq), UserID: u, Login: "login-" + u, Lesson: "l", Version: seq,
				At: t0.Add(at[u] + time.Duration(seq)*time.Minute), Seq: seq, Hash: fmt.Sprintf("hash-%s-%d", u, seq)}
			if err := k.Store.CreateReceipt(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids, err := k.Store.RecentEventUsers(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	// The 3 latest receipts: both of u3's and u2's seq 2.
	if !slices.Equal(ids, []string{"u3", "u2"}) {
		t.Fatalf("users of the 3 latest receipts: %v, want [u3 u2]", ids)
	}
	heads, err := k.Store.ReceiptHeads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != 3 {
		t.Fatalf("heads: %v", heads)
	}
	for _, u := range []string{"u1", "u2", "u3"} {
		h := heads[u]
		if h.Count != 2 || h.Seq != 2 || h.Hash != "hash-"+u+"-2" || h.Login != "login-"+u {
			t.Errorf("head of %s: %+v", u, h)
		}
	}
}
