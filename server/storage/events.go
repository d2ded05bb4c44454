package storage

import (
	"cmp"
	"container/heap"
	"context"
	"slices"
	"strings"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Reads over whole collections, for verification and for rebuilding the
// progress projection. They stream, so memory stays flat.

// EachReceipt calls fn with every receipt, by user and then chain position
// (receipts deleted while it runs are left out). Not a sorted find, which
// makes FerretDB v1 hold every receipt in memory at once: one unsorted read
// of the fields that order them, sorted here (about 100 bytes a receipt),
// then each receipt read by _id in that order, receiptWindow at a time.
func (s *Storage) EachReceipt(ctx context.Context, fn func(*model.Receipt) error) error {
	cur, err := s.c(colReceipts).Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"user_id": 1, "seq": 1}))
	if err != nil {
		return wrap("each receipt", err)
	}
	var order []model.Receipt
	if err := each(ctx, cur, "each receipt", func(r *model.Receipt) error {
		order = append(order, model.Receipt{ID: r.ID, UserID: r.UserID, Seq: r.Seq})
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(order, func(a, b model.Receipt) int {
		return cmp.Or(strings.Compare(a.UserID, b.UserID), cmp.Compare(a.Seq, b.Seq), strings.Compare(a.ID, b.ID))
	})
	for len(order) > 0 {
		window := order[:min(len(order), receiptWindow)]
		order = order[len(window):]
		ids := make([]string, len(window))
		for i, r := range window {
			ids[i] = r.ID
		}
		byID, err := readByIDs[model.Receipt](ctx, s.c(colReceipts), ids)
		if err != nil {
			return wrap("each receipt", err)
		}
		for _, w := range window {
			if r, ok := byID[w.ID]; ok { // else deleted meanwhile
				if err := fn(&r); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// receiptWindow is how many receipts EachReceipt reads ahead.
const receiptWindow = 256

// ReceiptHeads returns the head of every user's receipt chain, by user
// id, from one unsorted read of the few fields it needs (a sorted one
// makes FerretDB v1 hold every receipt in memory at once).
func (s *Storage) ReceiptHeads(ctx context.Context) (map[string]model.ReceiptHead, error) {
	// Through scan: the embedded database's file is read here, not by
	// FerretDB, whose decoding of every receipt was the garbage of the
	// first checkpoint, just after the start-up jobs.
	out := map[string]model.ReceiptHead{}
	err := scanEach(ctx, s, colReceipts, []string{"user_id", "login", "seq", "hash"}, "", nil, func(r *model.Receipt) error {
		h, ok := out[r.UserID]
		h.Count++
		if !ok || r.Seq >= h.Seq {
			h.Login, h.Seq, h.Hash = r.Login, r.Seq, r.Hash
		}
		out[r.UserID] = h
		return nil
	})
	if err != nil {
		return nil, wrap("receipt heads", err)
	}
	return out, nil
}

// EachProgress calls fn with every user's progress, in no particular
// order: a sorted find makes FerretDB v1 hold every document at once.
func (s *Storage) EachProgress(ctx context.Context, fn func(*model.Progress) error) error {
	cur, err := s.c(colProgress).Find(ctx, bson.M{})
	if err != nil {
		return wrap("each progress", err)
	}
	return each(ctx, cur, "each progress", func(p *model.Progress) error {
		if p.Lessons == nil {
			p.Lessons = map[string]model.LessonProgress{}
		}
		return fn(p)
	})
}

func each[T any](ctx context.Context, cur *mongo.Cursor, op string, fn func(*T) error) error {
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return wrap(op, err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return wrap(op, cur.Err())
}

// UserIDs returns the id of every user: a sole writer's from its
// directory in memory, otherwise from a scan.
func (s *Storage) UserIDs(ctx context.Context) ([]string, error) {
	d, err := s.indexed(ctx)
	if err != nil || d == nil {
		if err != nil {
			return nil, err
		}
		return s.ids(ctx, colUsers, bson.M{}, "_id", nil, 0)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, 0, len(d.byID))
	for id := range d.byID {
		out = append(out, id)
	}
	return out, nil
}

// EventsOf returns the events of the given users, keyed by user id: one
// pass over each event collection, whatever the number of users.
func (s *Storage) EventsOf(ctx context.Context, userIDs []string) (map[string]*model.Events, error) {
	out := make(map[string]*model.Events, len(userIDs))
	for _, id := range userIDs {
		out[id] = &model.Events{}
	}
	var attempts []model.Attempt
	err := scanEach(ctx, s, colAttempts, nil, "user_id", userIDs, func(a *model.Attempt) error {
		attempts = append(attempts, *a)
		return nil
	})
	if err != nil {
		return nil, wrap("attempts of users", err)
	}
	// Oldest first (sorted here: FerretDB v1 sorts by reading every match
	// into memory, and the embedded scan does not sort).
	slices.SortStableFunc(attempts, func(a, b model.Attempt) int { return a.Started.Compare(b.Started) })
	if len(attempts) > 0 {
		ids := make([]string, len(attempts))
		for i, a := range attempts {
			ids[i] = a.ID
		}
		byID, err := s.attemptResults(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range attempts {
			if r, ok := byID[a.ID]; ok {
				a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
			}
			if e := out[a.UserID]; e != nil {
				e.Attempts = append(e.Attempts, a)
			}
		}
	}
	receipts, err := s.receiptsOf(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	for _, r := range receipts {
		if e := out[r.UserID]; e != nil {
			e.Receipts = append(e.Receipts, r)
		}
	}
	for _, e := range out {
		slices.SortFunc(e.Receipts, func(a, b model.Receipt) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	return out, nil
}

// attemptResults reads the graded results of the attempts with ids, by
// _id: one at a time for up to byIDLimit of them (a start's progress check
// of a few hundred people reads only theirs), else in one scan.
func (s *Storage) attemptResults(ctx context.Context, ids []string) (map[string]attemptResult, error) {
	if len(ids) <= byIDLimit {
		out, err := readByIDs[attemptResult](ctx, s.c(colAttemptResults), ids)
		return out, wrap("attempt results of users", err)
	}
	cur, err := s.c(colAttemptResults).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, wrap("attempt results of users", err)
	}
	var results []attemptResult
	if err := cur.All(ctx, &results); err != nil {
		return nil, wrap("attempt results of users", err)
	}
	out := make(map[string]attemptResult, len(results))
	for _, r := range results {
		out[r.ID] = r
	}
	return out, nil
}

// receiptsOf reads the receipts of the users, in no order. A sole
// writer's receipt index names those of the users it knows, read by _id
// when they are few (up to byIDLimit); the rest come from one scan for
// the users it does not know.
func (s *Storage) receiptsOf(ctx context.Context, userIDs []string) ([]model.Receipt, error) {
	var ids, unknown []string
	for _, u := range userIDs {
		if !s.rcpts.lookup(u, func(refs []receiptRef, _ func(uint16) string) {
			for _, r := range refs {
				ids = append(ids, r.id.String())
			}
		}) {
			unknown = append(unknown, u)
		}
	}
	if len(ids) > byIDLimit {
		ids, unknown = nil, userIDs
	}
	var out []model.Receipt
	if len(ids) > 0 {
		byID, err := readByIDs[model.Receipt](ctx, s.c(colReceipts), ids)
		if err != nil {
			return nil, wrap("receipts of users", err)
		}
		for _, r := range byID {
			out = append(out, r)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	err := scanEach(ctx, s, colReceipts, nil, "user_id", unknown, func(r *model.Receipt) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		return nil, wrap("receipts of users", err)
	}
	return out, nil
}

// StoredProgressOf reads the progress of the given users from the database
// (never a cache), keyed by user id; a user with none gets an empty one.
// Up to byIDLimit users are read by _id (FerretDB scans the collection for
// an $in), more in one scan. A sole writer's progress not written yet
// (progress_behind.go) is given as held: the document as it is about to be
// stored.
func (s *Storage) StoredProgressOf(ctx context.Context, userIDs []string) (map[string]*model.Progress, error) {
	out := make(map[string]*model.Progress, len(userIDs))
	for _, id := range userIDs {
		out[id] = &model.Progress{UserID: id, Lessons: map[string]model.LessonProgress{}}
	}
	found, err := s.progressByID(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	for id, p := range found {
		if p.Lessons == nil {
			p.Lessons = map[string]model.LessonProgress{}
		}
		out[id] = &p
	}
	for _, id := range userIDs {
		if p, ok := s.heldProgress(id); ok {
			out[id] = p
		}
	}
	return out, nil
}

// RecentEventUsers returns the users of the latest n receipts, attempts and
// graded results: the ones whose progress a crash may have left behind.
func (s *Storage) RecentEventUsers(ctx context.Context, n int64) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	fromReceipts, err := s.latestIDs(ctx, colReceipts, "user_id", "at", n)
	if err != nil {
		return nil, err
	}
	add(fromReceipts)
	fromAttempts, err := s.latestIDs(ctx, colAttempts, "user_id", "started", n)
	if err != nil {
		return nil, err
	}
	add(fromAttempts)
	graded, err := s.latestIDs(ctx, colAttemptResults, "_id", "at", n)
	if err != nil {
		return nil, err
	}
	ofGraded, err := s.usersOfAttempts(ctx, graded)
	if err != nil {
		return nil, err
	}
	add(ofGraded)
	return out, nil
}

// usersOfAttempts returns the users of the attempts with ids: each read
// by _id when they are few (up to byIDLimit), else in one scan.
func (s *Storage) usersOfAttempts(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > byIDLimit {
		return s.ids(ctx, colAttempts, bson.M{"_id": bson.M{"$in": ids}}, "user_id", nil, 0)
	}
	byID, err := readByIDs[struct {
		UserID string `bson:"user_id"`
	}](ctx, s.c(colAttempts), ids)
	if err != nil {
		return nil, wrap("users of attempts", err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids { // in the order given: latest first
		if a, ok := byID[id]; ok && a.UserID != "" {
			out = append(out, a.UserID)
		}
	}
	return out, nil
}

// latestIDs returns field of the n documents of col latest by the time
// field at, latest first. Not a sorted find: FerretDB v1 sorts in memory,
// holding every document of the collection at once (over 1 GB for the
// receipts of 100,000 people); an unsorted find with a projection streams,
// and only the n latest are kept here.
func (s *Storage) latestIDs(ctx context.Context, col, field, at string, n int64) ([]string, error) {
	h := &latest{}
	err := s.scan(ctx, col, []string{field, at}, "", nil, func(doc bson.Raw) error {
		var d bson.M
		if err := bson.Unmarshal(doc, &d); err != nil {
			return err
		}
		id, _ := d[field].(string)
		t, _ := d[at].(bson.DateTime)
		if id == "" || n <= 0 {
			return nil
		}
		if int64(h.Len()) < n {
			heap.Push(h, stamped{id, t})
		} else if t > (*h)[0].at {
			(*h)[0] = stamped{id, t}
			heap.Fix(h, 0)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("ids of "+col, err)
	}
	out := make([]string, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(stamped).id
	}
	return out, nil
}

type stamped struct {
	id string
	at bson.DateTime
}

// latest is a min-heap by time: its root is the oldest of those kept.
type latest []stamped

func (h latest) Len() int           { return len(h) }
func (h latest) Less(i, j int) bool { return h[i].at < h[j].at }
func (h latest) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *latest) Push(x any)        { *h = append(*h, x.(stamped)) }
func (h *latest) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ids returns one string field of the documents matching filter.
func (s *Storage) ids(ctx context.Context, col string, filter bson.M, field string, sort bson.D, limit int64) ([]string, error) {
	opts := options.Find().SetProjection(bson.M{field: 1})
	if sort != nil {
		opts.SetSort(sort)
	}
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := s.c(col).Find(ctx, filter, opts)
	if err != nil {
		return nil, wrap("ids of "+col, err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("ids of "+col, err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if v, ok := d[field].(string); ok {
			out = append(out, v)
		}
	}
	return out, nil
}
