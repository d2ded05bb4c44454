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

// TestEachReceiptInChainOrder: EachReceipt hands over every receipt,
// whole, by user and then seq, from unsorted reads, whatever order they
// were stored in (more than one read-ahead window of them).
func TestEachReceiptInChainOrder(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	var stored []model.Receipt
	for _, seq := range []int{3, 1, 2} {
		for u := range 120 {
			r := model.Receipt{ID: fmt.Sprintf("r-%03d-%d", u, seq), UserID: fmt.Sprintf("u%03d", (u*37)%120), Lesson: "l",
				Version: seq, Seq: seq, Signature: "sig", Hash: fmt.Sprintf("hash-%d-%d", u, seq), At: testkit.Epoch}
			if err := k.Store.CreateReceipt(ctx, &r); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, r)
		}
	}
	var got []model.Receipt
	if err := k.Store.EachReceipt(ctx, func(r *model.Receipt) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(stored) {
		t.Fatalf("%d receipts, want %d", len(got), len(stored))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.UserID > b.UserID || (a.UserID == b.UserID && a.Seq >= b.Seq) {
			t.Fatalf("out of order at %d: %s seq %d, then %s seq %d", i, a.UserID, a.Seq, b.UserID, b.Seq)
		}
	}
	byID := map[string]model.Receipt{}
	for _, r := range stored {
		byID[r.ID] = r
	}
	for _, r := range got {
		if w := byID[r.ID]; r.Hash != w.Hash || r.Signature != "sig" || r.Lesson != "l" || r.UserID != w.UserID {
			t.Fatalf("receipt %s: %+v, want %+v", r.ID, r, w)
		}
	}
}
