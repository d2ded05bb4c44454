package storage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Instances that share a database (SetShared) keep sessions, users,
// progress, receipts and the lesson list in memory as a sole writer does,
// and learn of each other's writes from the change log: after a write that
// another instance may hold a copy of (a logout, a deactivation, a role or
// password change, a progress update, a publish), the writer appends one
// document naming what changed, before it answers. Each instance reads the
// log forward every sharedPoll, by _id (FerretDB reads anything else by a
// scan), and drops what it names.
//
// The bound: an instance believes what it holds only while its latest
// complete read of the log found the log's end less than SharedStaleness
// ago, or the entry itself was read from the database less than that ago
// (else it waits for the log's read under way, at most sharedSettle, then
// asks the database), and never an entry older than sharedMaxAge. So a
// write another instance finished is seen here within SharedStaleness, and
// one whose log entry was lost (the writer crashed between its write and
// the entry; a failed insert is tried again) within sharedMaxAge.
//
// Entries are numbered 1, 2, 3, ... by unique inserts: a writer tries the
// number after the last it saw and, on a duplicate key, the next; so a
// number is taken only after every smaller one was (no gaps for a reader
// to skip). Every changeHintEvery-th writer records its number in meta (a
// hint where an instance starts reading), every changePruneEvery-th
// deletes the entries more than changeKeep behind it.
const (
	SharedStaleness  = 2 * time.Second
	sharedPoll       = 500 * time.Millisecond
	sharedMaxAge     = 5 * time.Minute
	changeHintEvery  = 64
	changePruneEvery = 1024
	changeKeep       = 8192
	metaChangesHead  = "changes_head"
)

// What a change log entry names: its kind and an id.
const (
	changeSession      = "session"       // a session ended: its id
	changeUserSessions = "user_sessions" // a user's sessions ended: the user's id
	changeUser         = "user"          // a user changed: the id
	changeProgress     = "progress"      // a user's progress or receipts: the user's id
	changeLessons      = "lessons"       // a lesson's settings or publication
	changeToken        = "api_token"     // an API token revoked: its id
	changeAll          = "all"           // a restore: everything
)

type changeEntry struct {
	Seq  int64     `bson:"_id"`
	Kind string    `bson:"kind"`
	ID   string    `bson:"id,omitempty"`
	At   time.Time `bson:"at"`
	From string    `bson:"from"` // the writing instance: its own entries it skips
}

// changeFeed is an instance's place in the change log.
type changeFeed struct {
	self string     // this instance, in the entries it writes
	read sync.Mutex // one read of the log at a time

	mu     sync.Mutex // guards the fields below
	next   int64      // the next entry to read; 0: not known yet
	wrote  int64      // the last entry this instance wrote
	polled time.Time  // every write finished before it is applied: when the latest complete read found the log's end
	// reading: a read is running; done is closed when it ends.
	reading bool
	done    chan struct{}

	settleFor time.Duration // how long settle waits at most (0: sharedSettle)
	waiters   atomic.Int32  // readers waiting in settle

	// The entries this instance's writers wait to have written (see
	// appendChange), and whether a goroutine is writing them.
	amu       sync.Mutex
	queue     []*queuedChange
	appending bool
}

// queuedChange is one writer's entry waiting in the queue, told its
// outcome on done.
type queuedChange struct {
	kind, id string
	done     chan error
}

// sharedSettle bounds how long a reader waits for the log's read (settle)
// before it asks the database itself.
const sharedSettle = SharedStaleness

// fresh tells whether an entry kept since at may be believed, and starts a
// read of the log when one is due. An entry read from the database is as
// good as a read of the log that started when it did.
func (f *changeFeed) fresh(at time.Time, s *Storage) bool {
	now := time.Now()
	f.mu.Lock()
	since := now.Sub(f.polled)
	if since >= sharedPoll && !f.reading {
		f.startRead(s)
	}
	f.mu.Unlock()
	age := now.Sub(at)
	return (since < SharedStaleness || age < SharedStaleness) && age < sharedMaxAge
}

// settle waits, for a reader that fresh turned away, until the log's read
// under way (one is started if none is) ends, and reports whether the
// entry kept since at may then be believed, as far as the log goes. It
// waits no longer than ctx or sharedSettle: a reader then asks the
// database. An entry past sharedMaxAge is not waited for.
func (f *changeFeed) settle(ctx context.Context, at time.Time, s *Storage) bool {
	if time.Since(at) >= sharedMaxAge {
		return false
	}
	f.mu.Lock()
	if !f.reading {
		f.startRead(s)
	}
	done, wait := f.done, f.settleFor
	f.mu.Unlock()
	if wait == 0 {
		wait = sharedSettle
	}
	f.waiters.Add(1)
	defer f.waiters.Add(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// startRead starts a read of the log in the background; f.mu is held.
func (f *changeFeed) startRead(s *Storage) {
	done := make(chan struct{})
	f.reading, f.done = true, done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.readChanges(ctx) // failed: kept entries are not believed, and the next read tries again
		f.mu.Lock()
		f.reading = false
		close(done)
		f.mu.Unlock()
	}()
}

// changed appends an entry to the change log, when instances share the
// database. A failure is not the write's: the write is done; the entry is
// tried again in the background for sharedMaxAge (after which other
// instances have dropped their copies anyway), so only a crash between a
// write and its entry leaves the write to sharedMaxAge.
func (s *Storage) changed(ctx context.Context, kind, id string) {
	if s.feed == nil {
		return
	}
	// The write is done: its word goes out even if the request that made
	// it was cancelled meanwhile.
	at, ctx := time.Now(), context.WithoutCancel(ctx)
	if err := s.appendChange(ctx, kind, id); err != nil {
		s.logger().Warn("change log: entry not written; trying again", "kind", kind, "err", err)
		go s.retryChange(ctx, kind, id, at)
	}
}

// retryChange tries an entry again every second until it is written or
// sharedMaxAge after the write.
func (s *Storage) retryChange(ctx context.Context, kind, id string, at time.Time) {
	for time.Since(at) < sharedMaxAge {
		time.Sleep(time.Second)
		if s.appendChange(ctx, kind, id) == nil {
			return
		}
	}
}

// appendChange has an entry written and waits for it. An instance's
// writers queue their entries for one goroutine, which inserts them one at
// a time and names a thing once for all the writers waiting to name it
// (each one's write finished before it queued): concurrent writers of one
// instance no longer race each other for the next number (8 concurrent
// acknowledgements sent 73 inserts for 16 entries), and a busy instance
// writes fewer entries than writes.
func (s *Storage) appendChange(ctx context.Context, kind, id string) error {
	f := s.feed
	q := &queuedChange{kind: kind, id: id, done: make(chan error, 1)}
	f.amu.Lock()
	f.queue = append(f.queue, q)
	start := !f.appending
	f.appending = true
	f.amu.Unlock()
	if start {
		go s.writeQueued(context.WithoutCancel(ctx)) // it writes for every writer: no one's cancellation stops it
	}
	// Not behind a queue of failing inserts for long: the caller tries again.
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		return wrap("change log", ctx.Err())
	case <-t.C:
		return errors.New("storage: change log: the queue's insert took too long")
	}
}

// writeQueued writes the queued entries until none is left.
func (s *Storage) writeQueued(ctx context.Context) {
	f := s.feed
	for {
		f.amu.Lock()
		batch := f.queue
		f.queue = nil
		if len(batch) == 0 {
			f.appending = false
			f.amu.Unlock()
			return
		}
		f.amu.Unlock()
		waiting := map[[2]string][]*queuedChange{}
		var order [][2]string
		for _, q := range batch {
			k := [2]string{q.kind, q.id}
			if _, ok := waiting[k]; !ok {
				order = append(order, k)
			}
			waiting[k] = append(waiting[k], q)
		}
		for _, k := range order {
			err := s.insertChange(ctx, k[0], k[1])
			for _, q := range waiting[k] {
				q.done <- err
			}
		}
	}
}

// insertChange inserts one entry, under the number after the last this
// instance knows of (the next on a duplicate: another instance took it).
func (s *Storage) insertChange(ctx context.Context, kind, id string) error {
	f := s.feed
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	f.mu.Lock()
	seq := max(f.next, f.wrote+1)
	stale := f.next == 0 || time.Since(f.polled) >= SharedStaleness
	f.mu.Unlock()
	if stale { // start past what was pruned: from the hint
		hint, err := s.changesHint(ctx)
		if err != nil {
			return err
		}
		seq = max(seq, hint+1)
	}
	for range 10_000 { // far more writers than any company runs
		_, err := s.c(colChanges).InsertOne(ctx, changeEntry{Seq: seq, Kind: kind, ID: id, At: time.Now().UTC(), From: f.self})
		if mongo.IsDuplicateKeyError(err) {
			seq++
			continue
		}
		if err != nil {
			return wrap("change log", err)
		}
		f.mu.Lock()
		f.wrote = max(f.wrote, seq)
		f.mu.Unlock()
		if seq%changeHintEvery == 0 {
			_, _ = s.c(colMeta).UpdateOne(ctx, bson.M{"_id": metaChangesHead},
				bson.M{"$max": bson.M{"seq": seq}}, options.UpdateOne().SetUpsert(true))
		}
		if seq%changePruneEvery == 0 {
			_, _ = s.c(colChanges).DeleteMany(ctx, bson.M{"_id": bson.M{"$lt": seq - changeKeep}})
		}
		return nil
	}
	return errors.New("storage: change log: no free number")
}

// changesHint is the latest entry number recorded in meta (0: none yet).
func (s *Storage) changesHint(ctx context.Context) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	err := s.c(colMeta).FindOne(ctx, bson.M{"_id": metaChangesHead}).Decode(&doc)
	if isNotFound(err) {
		return 0, nil
	}
	return doc.Seq, wrap("changes hint", err)
}

// readChanges reads the change log forward from where this instance is,
// dropping what each entry names.
func (s *Storage) readChanges(ctx context.Context) error {
	f := s.feed
	f.read.Lock()
	defer f.read.Unlock()
	end, err := s.readChangesFrom(ctx, time.Now())
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && end.After(f.polled) {
		f.polled = end
	}
	return err
}

// readChangesFrom reads the log from f.next to its end, and returns when
// the read that found the end started: no entry was missing then (they
// are numbered without gaps), so every write finished before it is
// applied, however long the reads before it took.
func (s *Storage) readChangesFrom(ctx context.Context, started time.Time) (time.Time, error) {
	f := s.feed
	f.mu.Lock()
	next, out := f.next, started.Sub(f.polled) >= SharedStaleness
	f.mu.Unlock()
	if next == 0 || out {
		// New, or out of touch (what it holds was not believed meanwhile):
		// from the hint, forgetting everything when that is past what the
		// log still holds of where this instance was.
		hint, err := s.changesHint(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if next == 0 || hint-next >= changeKeep/2 {
			s.dropKept()
			next = max(next, hint+1, 1)
		}
	}
	for {
		at := time.Now()
		var e changeEntry
		err := s.c(colChanges).FindOne(ctx, bson.M{"_id": next}).Decode(&e)
		if errors.Is(err, mongo.ErrNoDocuments) {
			f.mu.Lock()
			f.next = next
			f.mu.Unlock()
			return at, nil
		}
		if err != nil {
			return time.Time{}, wrap("read changes", err)
		}
		if e.From != f.self {
			s.applyChange(e)
		}
		next++
		f.mu.Lock()
		f.next = next
		f.mu.Unlock()
	}
}

// applyChange drops what another instance changed.
func (s *Storage) applyChange(e changeEntry) {
	switch e.Kind {
	case changeSession:
		s.sessions.drop(e.ID)
	case changeUserSessions:
		s.sessions.dropIf(func(sess *model.Session) bool { return sess.UserID == e.ID })
	case changeUser:
		s.users.drop(e.ID)
	case changeProgress:
		s.progs.drop(e.ID)
		s.chains.drop(e.ID)
		s.progressNamed(e.ID)
		s.rcpts.doubt(e.ID)
	case changeLessons:
		s.lessons.drop("")
	case changeToken:
		s.tokens.drop(e.ID)
	default: // changeAll, or a kind a newer version writes
		s.dropKept()
		s.rebaseProgress(true)
	}
}

// dropKept forgets every kept session, user, progress, receipt, attempt,
// API token and the lesson list.
func (s *Storage) dropKept() {
	s.sessions.dropAll()
	s.users.dropAll()
	s.progs.dropAll()
	s.receipts.dropAll()
	s.chains.dropAll()
	s.attempts.dropAll()
	s.tokens.dropAll()
	s.lessons.dropAll()
	s.tokens.dropAll()
	if s.feed != nil { // entries were skipped (or the database replaced): what they named is not known
		s.rcpts.forget()
		s.rebaseProgress(false)
	}
}
