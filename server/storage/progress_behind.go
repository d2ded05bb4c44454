package storage

import (
	"context"
	"maps"
	"sync"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Progress written behind, by a sole writer.
//
// A quiz start and a quiz submit each stored their event (the attempt, its
// graded result: inserts sent in groups, group_insert.go) and then updated
// the user's progress document. FerretDB commits each updated document in
// its own transaction (an fsync), one write command at a time
// (database/serial.go), so submits/s stayed below 1/(fsync + update). The
// change such an event makes to progress follows from the event, which is
// stored first (RebuildProgress derives it). So a sole writer applies it to
// the progress it holds in memory (authoritative: nobody else writes),
// answers, and writes the user's document within progressFlushEvery, one
// update per user for all the changes held meanwhile. A crash may lose
// what is held, never the event: before the first change is held only in
// memory a marker (meta "progress_pending", with the time from which
// changes may be held) is stored, and it is removed only once everything is
// written at a clean stop (SettleProgress). A start that finds it moves the
// progress of the users of every event since then forward from their
// events before serving (training's RecoverProgress; cli does). Instances
// sharing a database write at once: the others read the documents.
//
// The write of a held user is $max of every event field as held, so it is
// idempotent (a write whose answer was lost is simply sent again) and
// commutes with the other updates of progress ($max, and $set of the
// receipt), which go to the database at once and are applied to the held
// copy as well.

// progressFlushEvery is how long a progress change waits in memory at most
// (longer when a write fails: it is tried again after as long again).
const progressFlushEvery = 2 * time.Second

// metaProgressPending is the meta document of progress not yet written.
const metaProgressPending = "progress_pending"

// progressBehind holds the progress documents changed but not yet written.
type progressBehind struct {
	pending pendingMarker // meta progress_pending
	flush   sync.Mutex    // one write of the held documents at a time

	mu      sync.Mutex // guards the fields below
	held    map[string]*heldProgress
	due     flushDue // the timed flush
	closing bool     // CloseProgress began: nothing more is held
}

// heldProgress is one user's progress as it is, and the lessons whose
// fields the database lacks.
type heldProgress struct {
	p       *model.Progress
	lessons map[string]struct{}
}

func (b *progressBehind) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closing
}

func newProgressBehind(s *Storage) *progressBehind {
	return &progressBehind{held: map[string]*heldProgress{}, pending: pendingMarker{id: metaProgressPending},
		due: flushDue{every: progressFlushEvery, failed: "progress not written yet; trying again", flush: s.FlushProgress}}
}

// RecordEventProgress applies u, the change that a stored event (an
// attempt, a graded result) makes to the user's progress on the lesson: a
// sole writer holds it in memory and writes it behind (see above), others
// write it at once (UpdateLessonProgress). Call it only once the event is
// stored: a start after a crash derives the change from the event.
func (s *Storage) RecordEventProgress(ctx context.Context, userID, slug string, u model.ProgressUpdate) error {
	b := s.behind
	if b == nil || b.isClosing() {
		return s.UpdateLessonProgress(ctx, userID, slug, u)
	}
	if err := s.markProgressPending(ctx); err != nil {
		return err
	}
	unlock, err := s.lockProgress(ctx, userID)
	if err != nil {
		return err
	}
	p, err := s.Progress(ctx, userID) // the held copy, or what is stored
	if err != nil {
		unlock()
		return err
	}
	applyProgress(p, slug, u)
	b.mu.Lock()
	if b.closing { // a request that outlived the server's stop: nothing would write it
		b.mu.Unlock()
		unlock()
		return s.UpdateLessonProgress(ctx, userID, slug, u)
	}
	defer unlock()
	h := b.held[userID]
	if h == nil {
		h = &heldProgress{lessons: map[string]struct{}{}}
		b.held[userID] = h
	}
	h.p = p
	h.lessons[slug] = struct{}{}
	b.due.soon(s)
	b.mu.Unlock()
	s.progressHeld(userID, p)
	return nil
}

// applyProgress applies u to p's lesson in memory, as the database
// applies u.ops to the stored document.
func applyProgress(p *model.Progress, slug string, u model.ProgressUpdate) {
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	lp := p.Lessons[slug]
	applyLesson(&lp, u)
	p.Lessons[slug] = lp
	p.Updated = time.Now().UTC().Truncate(time.Millisecond)
}

// applyLesson is u applied to lp in memory, as the database applies
// progressOps(u).
func applyLesson(lp *model.LessonProgress, u model.ProgressUpdate) {
	lp.ReadVersion = max(lp.ReadVersion, u.ReadVersion)
	lp.PassVersion = max(lp.PassVersion, u.PassVersion)
	lp.AckVersion = max(lp.AckVersion, u.AckVersion)
	lp.Attempts = max(lp.Attempts, u.Attempts) + u.AddAttempts
	lp.LastAttempt = later(lp.LastAttempt, u.LastAttempt)
	lp.Acknowledged = later(lp.Acknowledged, u.Acknowledged)
	lp.LastFailed = later(lp.LastFailed, u.LastFailed)
	for k, n := range u.Fails {
		if n > lp.Fails[k] {
			setFail(lp, k, n)
		}
	}
	if u.FailedVersion > 0 {
		k := model.FailKey(u.FailedVersion)
		setFail(lp, k, lp.Fails[k]+1)
	}
}

// setFail sets one failure count in a copy of lp's map: the one held may
// be shared with a reader's copy.
func setFail(lp *model.LessonProgress, key string, n int) {
	lp.Fails = maps.Clone(lp.Fails)
	if lp.Fails == nil {
		lp.Fails = map[string]int{}
	}
	lp.Fails[key] = n
}

// later is the later of a and b, b as the database stores it (UTC, whole
// milliseconds), so what is held is what will be read back.
func later(a, b time.Time) time.Time {
	if b.IsZero() {
		return a
	}
	b = time.UnixMilli(b.UnixMilli()).UTC()
	if b.After(a) {
		return b
	}
	return a
}

// heldProgress returns a copy of the user's held progress, if held.
func (s *Storage) heldProgress(userID string) (*model.Progress, bool) {
	b := s.behind
	if b == nil {
		return nil, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if h, ok := b.held[userID]; ok {
		return copyProgress(h.p), true
	}
	return nil, false
}

// changeHeld applies fn to the user's held progress, after a write that
// went to the database at once, and reports whether the user is held
// (then the caches are set from it). Called with the user's turn held.
func (s *Storage) changeHeld(userID string, fn func(p *model.Progress)) bool {
	b := s.behind
	if b == nil {
		return false
	}
	b.mu.Lock()
	h, ok := b.held[userID]
	var p *model.Progress
	if ok {
		fn(h.p)
		p = copyProgress(h.p)
	}
	b.mu.Unlock()
	if ok {
		s.progressHeld(userID, p)
	}
	return ok
}

// letGoHeld forgets the user's held progress: the stored document was
// replaced by a whole one. Called with the user's turn held.
func (s *Storage) letGoHeld(userID string) {
	if b := s.behind; b != nil {
		b.mu.Lock()
		delete(b.held, userID)
		b.mu.Unlock()
	}
}

// progressHeld makes the caches answer p for the user: the database
// does not hold it yet, so no cache may reload it from there.
func (s *Storage) progressHeld(userID string, p *model.Progress) {
	s.progs.set(userID, copyProgress(p))
	if pc := s.progress; pc != nil {
		pc.mu.Lock()
		if pc.loaded {
			pc.docs[userID] = pack(*p)
		}
		pc.mu.Unlock()
		s.progGen.Add(1)
	}
}

// overlayHeld replaces, in docs, the progress of every held user by what
// is held; the cache's mu is held by the caller (a refresh that read the
// database).
func (s *Storage) overlayHeld(docs map[string]packed) {
	b := s.behind
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, h := range b.held {
		docs[id] = pack(*h.p)
	}
}

// markProgressPending stores the marker before the first change is held
// only in memory, so a crash from then on is seen by the next start ($min:
// the marker of a process that crashed keeps its earlier time).
func (s *Storage) markProgressPending(ctx context.Context) error {
	return s.behind.pending.ensure(ctx, s, "mark progress pending", sinceNow("$min"))
}

// FlushProgress writes the progress held in memory (a sole writer's; a
// no-op otherwise): a command per user, each in the user's turn, so a
// request of that user waits for one write at most. What is not written
// stays held and is tried again after progressFlushEvery.
func (s *Storage) FlushProgress(ctx context.Context) error {
	b := s.behind
	if b == nil {
		return nil
	}
	b.flush.Lock()
	defer b.flush.Unlock()
	b.mu.Lock()
	ids := make([]string, 0, len(b.held))
	for id := range b.held {
		ids = append(ids, id)
	}
	b.due.scheduled = false
	b.mu.Unlock()
	var err error
	for _, id := range ids {
		if err = s.writeHeld(ctx, id); err != nil {
			break
		}
	}
	if err != nil {
		b.mu.Lock()
		b.due.soon(s) // tried again after another progressFlushEvery
		b.mu.Unlock()
	}
	return err
}

// SetWritesWaiting gives storage the count of write commands waiting for
// the embedded database (database.DB.WritesWaiting): the progress written
// behind lets them go first.
func (s *Storage) SetWritesWaiting(fn func() int) { s.writesWaiting = fn }

// Bounds of yielding to requests' writes: a held write waits while others
// do, checking every yieldStep, for at most yieldMax.
const (
	yieldStep = 2 * time.Millisecond
	yieldMax  = 500 * time.Millisecond
)

// yield waits, within its bounds, until no write command waits: a held
// write taking its turn would hold back a request's (each is an fsync).
func (s *Storage) yield(ctx context.Context) {
	if s.writesWaiting == nil {
		return
	}
	for waited := time.Duration(0); waited < yieldMax && s.writesWaiting() > 0; waited += yieldStep {
		select {
		case <-ctx.Done():
			return
		case <-time.After(yieldStep):
		}
	}
}

// writeHeld writes one held user's progress and lets it go.
func (s *Storage) writeHeld(ctx context.Context, userID string) error {
	s.yield(ctx)
	unlock, err := s.lockProgress(ctx, userID)
	if err != nil {
		return err
	}
	defer unlock()
	b := s.behind
	b.mu.Lock()
	h, ok := b.held[userID]
	var up bson.M
	if ok {
		up = heldOps(h)
	}
	b.mu.Unlock()
	if !ok {
		return nil
	}
	_, err = s.c(colProgress).UpdateOne(ctx, bson.M{"_id": userID}, up, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return wrap("write progress", err)
	}
	b.mu.Lock()
	delete(b.held, userID)
	b.mu.Unlock()
	if pc := s.progress; pc != nil {
		// A refresh reading the database meanwhile may have read it
		// without the held change: its next one reads it again.
		pc.mu.Lock()
		if _, reading := pc.pending[userID]; reading {
			pc.dirty[userID] = struct{}{}
		}
		pc.mu.Unlock()
	}
	return nil
}

// heldOps is the update that brings the stored document to h: $max of
// every event field of the lessons changed, as held.
func heldOps(h *heldProgress) bson.M {
	maxOps := bson.M{}
	for slug := range h.lessons {
		lp := h.p.Lessons[slug]
		u := model.ProgressUpdate{ReadVersion: lp.ReadVersion, PassVersion: lp.PassVersion, AckVersion: lp.AckVersion,
			LastAttempt: lp.LastAttempt, Acknowledged: lp.Acknowledged, LastFailed: lp.LastFailed,
			Attempts: lp.Attempts, Fails: lp.Fails}
		if m, ok := progressOps(u, slug)["$max"].(bson.M); ok {
			maps.Copy(maxOps, m)
		}
	}
	up := bson.M{"$set": bson.M{"updated": h.p.Updated}}
	if len(maxOps) > 0 {
		up["$max"] = maxOps
	}
	return up
}

// SettleProgress writes the progress held and then removes the marker:
// the documents are whole, and the next start need not recover them.
// Call it at a clean stop, once requests are done, and after a recovery.
func (s *Storage) SettleProgress(ctx context.Context) error {
	if s.behind == nil {
		return removeMarker(ctx, s, "settle progress", metaProgressPending)
	}
	return s.behind.pending.settle(ctx, s, "settle progress", s.FlushProgress, nil)
}

// CloseProgress is SettleProgress at a stop: from now on every change is
// written at once, so one made by a request that outlives the stop is not
// left held after the last write.
func (s *Storage) CloseProgress(ctx context.Context) error {
	if b := s.behind; b != nil {
		b.mu.Lock()
		b.closing = true
		b.mu.Unlock()
	}
	return s.SettleProgress(ctx)
}

// ProgressPending reports whether held progress may have been lost: the
// marker of a process that did not stop cleanly, and the time from which
// its changes may not be written. Recover the progress of the users of the
// events since then, then SettleProgress.
func (s *Storage) ProgressPending(ctx context.Context) (time.Time, bool, error) {
	var m struct {
		Since time.Time `bson:"since"`
	}
	err := s.c(colMeta).FindOne(ctx, bson.M{"_id": metaProgressPending}).Decode(&m)
	if isNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, wrap("progress pending", err)
	}
	return m.Since, true, nil
}

// EventUsersSince returns the users of the attempts started and graded at
// or after since: those whose progress a crash may have left behind. It
// reads the attempts and their results once each (scans on FerretDB).
func (s *Storage) EventUsersSince(ctx context.Context, since time.Time) ([]string, error) {
	type row struct {
		ID      string    `bson:"_id"`
		UserID  string    `bson:"user_id"`
		Started time.Time `bson:"started"`
	}
	owner := map[string]string{}
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	cur, err := s.c(colAttempts).Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"user_id": 1, "started": 1}))
	if err != nil {
		return nil, wrap("attempt users", err)
	}
	err = each(ctx, cur, "attempt users", func(r *row) error {
		owner[r.ID] = r.UserID
		if !r.Started.Before(since) {
			add(r.UserID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cur, err = s.c(colAttemptResults).Find(ctx, bson.M{"at": bson.M{"$gte": since}}, options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, wrap("graded attempt users", err)
	}
	err = each(ctx, cur, "graded attempt users", func(r *row) error {
		add(owner[r.ID])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ProgressHeld is how many users' progress is held in memory, not yet
// written (the metrics' portal_progress_held): each is written within
// progressFlushEvery, so a number that stays up says the database falls
// behind the quiz answers.
func (s *Storage) ProgressHeld() int {
	b := s.behind
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.held)
}
