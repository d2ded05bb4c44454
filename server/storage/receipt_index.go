package storage

import (
	"context"
	"encoding/hex"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// receiptIndex is a sole writer's (and a shared instance's: see
// sharedReceipts) list of every user's receipts: ids and
// keys only, not the documents (BenchmarkReceiptIndexMemory: 15 MB at
// 100,000 people with three receipts each). Loaded once at
// start (LoadKept) and written through by CreateReceipt, it answers which
// receipt a user holds for a lesson version, and that none is held, the
// common case, without a read: FerretDB v1 answers "the receipt of this
// user, lesson and version" by scanning every receipt.
//
// A user whose list may be wrong (a write with an unknown outcome, or
// written while the load ran) is marked unknown: the index then says
// nothing of them and their reads go to the database.
type receiptIndex struct {
	mu      sync.Mutex
	loaded  bool
	loading map[string]struct{} // users written while a load runs
	users   map[rawID][]receiptRef
	unknown map[rawID]struct{}
	pending map[rawID]int // users with a receipt being inserted: not known until it is done
	lessons lessonNumbers
	gen     uint64 // moves at each load and forget: a load forgotten meanwhile keeps nothing

	// A shared instance's index (sharedReceipts): true as of its load's
	// start (at), and of what the change log named since (doubt).
	at     time.Time
	trust  func(at time.Time) bool // the change log's bound; nil: a sole writer's, always true
	reload func()                  // starts a load in the background
}

// rawID is an id made by NewID, decoded: half the bytes of its hex.
type rawID [16]byte

// rawOf decodes an id made by NewID; ok is false for any other id (the
// index then holds nothing of it: a user so named is always asked of the
// database).
func rawOf(id string) (r rawID, ok bool) {
	if len(id) != 32 {
		return r, false
	}
	if _, err := hex.Decode(r[:], []byte(id)); err != nil || hex.EncodeToString(r[:]) != id {
		return r, false // not lower-case hex: it would not come back the same
	}
	return r, true
}

func (r rawID) String() string { return hex.EncodeToString(r[:]) }

// receiptRef is one receipt in the index: 32 bytes.
type receiptRef struct {
	id                  rawID
	version, cycle, seq int32
	lesson              uint16 // see lessonNumbers
}

// lessonNumbers numbers the lessons' slugs for the index.
type lessonNumbers struct {
	of   map[string]uint16
	slug []string
}

func (n *lessonNumbers) number(slug string) (uint16, bool) {
	if k, ok := n.of[slug]; ok {
		return k, true
	}
	if len(n.slug) > math.MaxUint16 {
		return 0, false
	}
	if n.of == nil {
		n.of = map[string]uint16{}
	}
	k := uint16(len(n.slug)) // #nosec G115 -- bounded above
	n.of[slug], n.slug = k, append(n.slug, slug)
	return k, true
}

// refOf makes the index's entry of a receipt; ok is false when the receipt
// does not fit one (an id not made by NewID, a number past int32).
func refOf(in *lessonNumbers, id, lesson string, version, cycle, seq int) (receiptRef, bool) {
	var r receiptRef
	raw, ok := rawOf(id)
	if !ok || !fits32(version, cycle, seq) {
		return r, false
	}
	k, ok := in.number(lesson)
	if !ok {
		return r, false
	}
	r.id, r.lesson, r.version, r.cycle, r.seq = raw, k, int32(version), int32(cycle), int32(seq) // #nosec G115 -- fits32 checked
	return r, true
}

// lookup calls fn with the user's list (the index's own: fn reads it,
// under x.mu) and the slugs' numbers; known is false, and fn not called,
// when the index cannot answer for the user.
func (x *receiptIndex) lookup(userID string, fn func(refs []receiptRef, slug func(uint16) string)) (known bool) {
	if x == nil {
		return false
	}
	raw, ok := rawOf(userID)
	if !ok || !x.trusted() {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.loaded {
		return false
	}
	if _, ok := x.unknown[raw]; ok {
		return false
	}
	if x.pending[raw] > 0 {
		return false
	}
	fn(x.users[raw], func(k uint16) string { return x.lessons.slug[k] })
	return true
}

// trusted tells whether a shared instance's index may answer now (a sole
// writer's may, always), and starts a load when it was forgotten or is
// half way to sharedMaxAge: the bound of a change whose log entry was lost.
func (x *receiptIndex) trusted() bool {
	if x.trust == nil {
		return true
	}
	x.mu.Lock()
	loaded, at := x.loaded, x.at
	x.mu.Unlock()
	if !at.IsZero() && (!loaded || time.Since(at) >= sharedMaxAge/2) {
		x.reload()
	}
	return loaded && x.trust(at)
}

// inserting marks the start of an insert of the user's receipt (by +1)
// and its end (by -1): meanwhile the index does not answer for the user
// (the database may hold the receipt before the index does, and a
// concurrent signature must see it).
func (x *receiptIndex) inserting(userID string, by int) {
	raw, ok := rawOf(userID)
	if x == nil || !ok {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.pending == nil {
		x.pending = map[rawID]int{}
	}
	if x.pending[raw] += by; x.pending[raw] <= 0 {
		delete(x.pending, raw)
	}
}

// wroteDuringLoad notes a user written while the index loads: the load's
// read may predate the write, so that user's list is not taken from it.
// x.mu is held.
func (x *receiptIndex) wroteDuringLoad(userID string) {
	if x.loading != nil {
		x.loading[userID] = struct{}{}
	}
}

// add records a receipt this process stored.
func (x *receiptIndex) add(userID, id, lesson string, version, cycle, seq int) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.wroteDuringLoad(userID)
	user, ok := rawOf(userID)
	if !x.loaded || !ok {
		return
	}
	r, ok := refOf(&x.lessons, id, lesson, version, cycle, seq)
	if !ok {
		x.unknown[user] = struct{}{}
		return
	}
	x.users[user] = append(x.users[user], r)
}

// doubt marks a user's list unknown: a write's outcome is not known.
func (x *receiptIndex) doubt(userID string) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.wroteDuringLoad(userID)
	if user, ok := rawOf(userID); ok && x.loaded {
		x.unknown[user] = struct{}{}
	}
}

// forget makes the index answer nothing (the database changed behind
// storage's back: a restore); a load running now keeps nothing either.
func (x *receiptIndex) forget() {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.gen++
	x.loaded, x.users, x.unknown, x.loading = false, nil, nil, nil
}

// loadReceiptIndex reads every receipt's keys (not the documents) into the
// index; it returns how many. Nothing to do without an index.
func (s *Storage) loadReceiptIndex(ctx context.Context) (int, error) {
	x := s.rcpts
	if x == nil {
		return 0, nil
	}
	at := time.Now()
	x.mu.Lock()
	x.gen++
	gen := x.gen
	x.loading = map[string]struct{}{}
	x.mu.Unlock()
	users, unknown, in := map[rawID][]receiptRef{}, map[rawID]struct{}{}, &lessonNumbers{}
	failed := func(err error) (int, error) {
		x.mu.Lock()
		if x.gen == gen {
			x.loading = nil
		}
		x.mu.Unlock()
		return 0, wrap("load receipt index", err)
	}
	n := 0
	err := s.scan(ctx, colReceipts, []string{"user_id", "lesson", "version", "cycle", "seq"}, "", nil, func(doc bson.Raw) error {
		var d struct {
			ID      string `bson:"_id"`
			UserID  string `bson:"user_id"`
			Lesson  string `bson:"lesson"`
			Version int    `bson:"version"`
			Cycle   int    `bson:"cycle"`
			Seq     int    `bson:"seq"`
		}
		if err := bson.Unmarshal(doc, &d); err != nil {
			return err
		}
		user, ok := rawOf(d.UserID)
		if !ok {
			return nil // the index says nothing of such a user
		}
		if r, ok := refOf(in, d.ID, d.Lesson, d.Version, d.Cycle, d.Seq); ok {
			users[user] = append(users[user], r)
		} else {
			unknown[user] = struct{}{}
		}
		n++
		return nil
	})
	if err != nil {
		return failed(err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.gen != gen { // forgotten meanwhile
		return 0, nil
	}
	for id := range x.loading {
		if user, ok := rawOf(id); ok {
			unknown[user] = struct{}{} // written meanwhile: the scan may or may not hold it
		}
	}
	for user, refs := range users {
		users[user] = slices.Clone(refs) // exactly as long: most never grow again
	}
	x.loading, x.loaded, x.users, x.unknown, x.lessons, x.at = nil, true, users, unknown, *in, at
	return n, nil
}

// sharedReceipts gives a shared instance a receipts' index: receipts are
// only ever inserted, so the index loaded once (LoadKept) stays true but
// for the users another instance wrote since, whom the change log names
// (doubt: read from the database until the next load). It is believed as
// the kept copies are (the change log's bound), and loaded again every
// sharedMaxAge/2 in the background.
func (s *Storage) sharedReceipts() {
	x := &receiptIndex{trust: func(at time.Time) bool { return s.feed.fresh(at, s) }}
	var loading atomic.Bool
	x.reload = func() {
		if !loading.CompareAndSwap(false, true) {
			return
		}
		go func() {
			defer loading.Store(false)
			ctx, cancel := bulkDeadline(context.Background())
			defer cancel()
			if _, err := s.loadReceiptIndex(ctx); err != nil {
				s.logger().Warn("receipts' index not loaded; receipts are read meanwhile", "err", err)
			}
		}()
	}
	s.rcpts = x
}

// ReceiptID returns the id of the user's latest receipt (the highest
// cycle) of a lesson version, found false when there is none. known is
// false when this process cannot tell without the database (no index, the
// index not loaded yet or past the change log's bound, or the user's list
// in doubt): then
// ask ReceiptFor.
func (s *Storage) ReceiptID(userID, slug string, version int) (id string, found, known bool) {
	known = s.rcpts.lookup(userID, func(refs []receiptRef, slugOf func(uint16) string) {
		best := -1
		for i, r := range refs {
			if int(r.version) == version && slugOf(r.lesson) == slug && (best < 0 || r.cycle > refs[best].cycle) {
				best = i
			}
		}
		if best >= 0 {
			id, found = refs[best].id.String(), true
		}
	})
	return id, found, known
}

// lastReceiptID is the id of the head of the user's chain (the highest
// seq), as ReceiptID.
func (s *Storage) lastReceiptID(userID string) (id string, found, known bool) {
	known = s.rcpts.lookup(userID, func(refs []receiptRef, _ func(uint16) string) {
		best := -1
		for i, r := range refs {
			if best < 0 || r.seq > refs[best].seq {
				best = i
			}
		}
		if best >= 0 {
			id, found = refs[best].id.String(), true
		}
	})
	return id, found, known
}
