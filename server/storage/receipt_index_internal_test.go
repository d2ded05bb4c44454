package storage

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// loadedIndex is an index as a load leaves it, empty.
func loadedIndex() *receiptIndex {
	return &receiptIndex{loaded: true, users: map[rawID][]receiptRef{}, unknown: map[rawID]struct{}{}}
}

// The index answers a user's receipt of a lesson version (the latest
// renewal), that there is none, and nothing when it cannot know: before
// its load, for a user whose write had an unknown outcome, after a forget.
func TestReceiptIndex(t *testing.T) {
	s := &Storage{rcpts: &receiptIndex{}}
	id := func(n int) string { return fmt.Sprintf("%032x", n) }
	u1, u2 := id(101), id(102)
	s.rcpts.add(u1, id(1), "dress", 1, 0, 1)
	if _, _, known := s.ReceiptID(u1, "dress", 1); known {
		t.Fatal("an index not loaded answers")
	}
	s.rcpts = loadedIndex()
	s.rcpts.add(u1, id(1), "dress", 1, 0, 1)
	s.rcpts.add(u1, id(2), "grooming", 1, 0, 2)
	s.rcpts.add(u1, id(3), "dress", 1, 1, 3) // a renewal
	s.rcpts.add(u1, "not-made-by-NewID", "deportment", 1, 0, 4)
	s.rcpts.add(u2, id(5), "dress", 1, 0, 1)
	for _, c := range []struct {
		user, slug   string
		version      int
		want         string
		found, known bool
	}{
		{u2, "dress", 1, id(5), true, true},
		{u2, "dress", 2, "", false, true},
		{u2, "grooming", 1, "", false, true},
		{id(103), "dress", 1, "", false, true}, // no receipt at all: the common case
		{"not-made-by-NewID", "dress", 1, "", false, false},
		{u1, "dress", 1, "", false, false}, // an id the index cannot hold: in doubt
	} {
		got, found, known := s.ReceiptID(c.user, c.slug, c.version)
		if got != c.want || found != c.found || known != c.known {
			t.Errorf("ReceiptID(%s, %s, %d) = %q %v %v, want %q %v %v", c.user, c.slug, c.version, got, found, known, c.want, c.found, c.known)
		}
	}
	s.rcpts = loadedIndex()
	s.rcpts.add(u1, id(1), "dress", 1, 0, 1)
	s.rcpts.add(u1, id(3), "dress", 1, 1, 3)
	s.rcpts.add(u1, id(2), "grooming", 1, 0, 2)
	if got, _, _ := s.ReceiptID(u1, "dress", 1); got != id(3) {
		t.Errorf("the renewal: %s, want %s", got, id(3))
	}
	if got, _, _ := s.lastReceiptID(u1); got != id(3) {
		t.Errorf("the chain's head: %s, want %s", got, id(3))
	}
	s.rcpts.inserting(u1, 1)
	if _, _, known := s.ReceiptID(u1, "dress", 1); known {
		t.Error("a user whose receipt is being inserted is answered")
	}
	s.rcpts.inserting(u1, -1)
	if _, _, known := s.ReceiptID(u1, "dress", 1); !known {
		t.Error("a user is not answered after the insert")
	}
	s.rcpts.doubt(u1)
	if _, _, known := s.ReceiptID(u1, "dress", 1); known {
		t.Error("a user in doubt is answered")
	}
	s.rcpts.forget()
	if _, _, known := s.ReceiptID(u2, "dress", 1); known {
		t.Error("a forgotten index answers")
	}
}

// BenchmarkReceiptIndexMemory: the index at 100,000 people with three
// receipts each (half of six lessons signed).
func BenchmarkReceiptIndexMemory(b *testing.B) {
	const people = 100_000
	lessons := []string{"attendance", "professional-ethics", "dress"}
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		x := loadedIndex()
		for i := range people {
			user := fmt.Sprintf("%032x", i)
			for j, l := range lessons {
				x.add(user, fmt.Sprintf("%032x", i*8+j), l, 1, 0, j+1)
			}
		}
		for u, refs := range x.users {
			x.users[u] = slices.Clone(refs) // as the load leaves them
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB/100k-people")
		runtime.KeepAlive(x)
	}
}
