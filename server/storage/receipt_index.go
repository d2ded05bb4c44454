package storage

import (
	"context"
	"encoding/hex"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// receiptIndex is a sole writer's list of every user's receipts: ids and
// keys only, not the documents (BenchmarkCacheMemory). Loaded once at
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
	users   map[string][]receiptRef
	unknown map[string]struct{}
	slugs   slugs
	gen     uint64 // moves at each load and forget: a load forgotten meanwhile keeps nothing
}

// receiptRef is one receipt in the index: 48 bytes.
type receiptRef struct {
	id                  [16]byte // the _id, 32 hex digits (NewID) decoded
	lesson              string   // interned
	version, cycle, seq int32
}

// refOf makes the index's entry of a receipt; ok is false when the receipt
// does not fit one (an id not made by NewID, a number past int32).
func refOf(in slugs, id, lesson string, version, cycle, seq int) (receiptRef, bool) {
	var r receiptRef
	if len(id) != 32 || !fits32(version, cycle, seq) {
		return r, false
	}
	if _, err := hex.Decode(r.id[:], []byte(id)); err != nil || hex.EncodeToString(r.id[:]) != id {
		return r, false // not lower-case hex: it would not come back the same
	}
	r.lesson, r.version, r.cycle, r.seq = in.of(lesson), int32(version), int32(cycle), int32(seq) // #nosec G115 -- fits32 checked
	return r, true
}

func (r receiptRef) ID() string { return hex.EncodeToString(r.id[:]) }

// lookup returns the user's list; known is false when the index cannot
// answer for the user.
func (x *receiptIndex) lookup(userID string) (refs []receiptRef, known bool) {
	if x == nil {
		return nil, false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.loaded {
		return nil, false
	}
	if _, ok := x.unknown[userID]; ok {
		return nil, false
	}
	return x.users[userID], true
}

// add records a receipt this process stored.
func (x *receiptIndex) add(userID, id, lesson string, version, cycle, seq int) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loading != nil {
		x.loading[userID] = struct{}{}
	}
	if !x.loaded {
		return
	}
	r, ok := refOf(x.slugs, id, lesson, version, cycle, seq)
	if !ok {
		x.unknown[userID] = struct{}{}
		return
	}
	x.users[userID] = append(x.users[userID], r)
}

// doubt marks a user's list unknown: a write's outcome is not known.
func (x *receiptIndex) doubt(userID string) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.loading != nil {
		x.loading[userID] = struct{}{}
	}
	if x.loaded {
		x.unknown[userID] = struct{}{}
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
	x.mu.Lock()
	x.gen++
	gen := x.gen
	x.loading = map[string]struct{}{}
	x.mu.Unlock()
	users, unknown, in := map[string][]receiptRef{}, map[string]struct{}{}, slugs{}
	failed := func(err error) (int, error) {
		x.mu.Lock()
		if x.gen == gen {
			x.loading = nil
		}
		x.mu.Unlock()
		return 0, wrap("load receipt index", err)
	}
	cur, err := s.c(colReceipts).Find(ctx, bson.M{}, options.Find().
		SetProjection(bson.M{"user_id": 1, "lesson": 1, "version": 1, "cycle": 1, "seq": 1}))
	if err != nil {
		return failed(err)
	}
	defer cur.Close(ctx)
	n := 0
	for cur.Next(ctx) {
		var d struct {
			ID      string `bson:"_id"`
			UserID  string `bson:"user_id"`
			Lesson  string `bson:"lesson"`
			Version int    `bson:"version"`
			Cycle   int    `bson:"cycle"`
			Seq     int    `bson:"seq"`
		}
		if err := cur.Decode(&d); err != nil {
			return failed(err)
		}
		if r, ok := refOf(in, d.ID, d.Lesson, d.Version, d.Cycle, d.Seq); ok {
			users[d.UserID] = append(users[d.UserID], r)
		} else {
			unknown[d.UserID] = struct{}{}
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return failed(err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.gen != gen { // forgotten meanwhile
		return 0, nil
	}
	for id := range x.loading {
		unknown[id] = struct{}{} // written meanwhile: the scan may or may not hold it
	}
	x.loading, x.loaded, x.users, x.unknown, x.slugs = nil, true, users, unknown, in
	return n, nil
}

// ReceiptID returns the id of the user's latest receipt (the highest
// cycle) of a lesson version, found false when there is none. known is
// false when this process cannot tell without the database (not a sole
// writer, the index not loaded yet, or the user's list in doubt): then
// ask ReceiptFor.
func (s *Storage) ReceiptID(userID, slug string, version int) (id string, found, known bool) {
	refs, known := s.rcpts.lookup(userID)
	if !known {
		return "", false, false
	}
	best := -1
	for i, r := range refs {
		if r.lesson == slug && int(r.version) == version && (best < 0 || r.cycle > refs[best].cycle) {
			best = i
		}
	}
	if best < 0 {
		return "", false, true
	}
	return refs[best].ID(), true, true
}

// lastReceiptID is the id of the head of the user's chain (the highest
// seq), as ReceiptID.
func (s *Storage) lastReceiptID(userID string) (id string, found, known bool) {
	refs, known := s.rcpts.lookup(userID)
	if !known {
		return "", false, false
	}
	best := -1
	for i, r := range refs {
		if best < 0 || r.seq > refs[best].seq {
			best = i
		}
	}
	if best < 0 {
		return "", false, true
	}
	return refs[best].ID(), true, true
}
