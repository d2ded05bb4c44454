package storage_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// instance is one portal's storage on a shared database, with the reads it
// sent, by collection.
type instance struct {
	*storage.Storage
	mu    sync.Mutex
	finds map[string]int
	cmds  map[string]int // every command, by "command collection"
}

func (in *instance) found(coll string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.finds[coll]
}

// sharedPair opens two storages on one database, as two instances behind a
// load balancer reach one MongoDB (the embedded server, by its URI).
func sharedPair(t *testing.T) (a, b *instance) {
	t.Helper()
	uri := hostDatabase(t)
	a, b = openInstance(t, uri), openInstance(t, uri)
	a.SetShared()
	b.SetShared()
	return a, b
}

// hostDatabase runs an embedded database server for the test and returns
// its URI.
func hostDatabase(t *testing.T) string {
	t.Helper()
	host, uri, err := database.Host(context.Background(), filepath.Join(t.TempDir(), "db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close(context.Background()) })
	return uri
}

// openInstance opens a migrated storage on uri that counts its commands;
// the caller says how it shares the database.
func openInstance(t *testing.T, uri string) *instance {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := &instance{finds: map[string]int{}, cmds: map[string]int{}}
	db, err := database.Open(ctx, database.Options{URI: uri, Logger: log,
		Observe: func(cmd, coll string, _ time.Duration, _ bool) {
			in.mu.Lock()
			defer in.mu.Unlock()
			in.cmds[cmd+" "+coll]++
			if cmd == "find" {
				in.finds[coll]++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	in.Storage = storage.New(db.Database)
	return in
}

// Two instances on one database keep sessions, users and progress in
// memory, and each learns of the other's logout, deactivation, role change
// and progress from the change log: B serves its copies (no read) until it
// reads the log, then the new state; and, left to itself, never serves the
// old state to a read that starts SharedStaleness after A's write ended.
func TestSharedInstancesAgree(t *testing.T) {
	ctx := context.Background()
	a, b := sharedPair(t)
	now := testkit.Epoch
	u := &model.User{ID: model.NewID(), Login: "shared.one", Name: "共享", Roles: []string{model.RoleEmployee}, Active: true, Created: now}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := func(id string) *model.Session {
		return &model.Session{ID: id, UserID: u.ID, CSRF: "x", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}
	}
	for _, id := range []string{"s1", "s2"} {
		if err := a.CreateSession(ctx, sess(id)); err != nil {
			t.Fatal(err)
		}
	}
	// B reads everything once (and the log, which names A's writes so far).
	read := func() (*model.Session, *model.User, *model.Progress) {
		t.Helper()
		s1, err := b.Session(ctx, "s1")
		if err != nil && !isNotFound(err) {
			t.Fatal(err)
		}
		bu, err := b.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.Progress(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s1, bu, p
	}
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	read()
	if _, err := b.Session(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for _, c := range []string{"sessions", "users", "progress"} {
		before[c] = b.found(c)
	}
	read()
	for _, c := range []string{"sessions", "users", "progress"} {
		if got := b.found(c) - before[c]; got != 0 {
			t.Errorf("B read %s %d times for what it holds", c, got)
		}
	}

	// A logs s1 out, takes a role, writes progress.
	if err := a.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	u.Roles = []string{model.RoleEmployee, model.RoleHR}
	if err := a.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := a.UpdateLessonProgress(ctx, u.ID, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
		t.Fatal(err)
	}
	if s1, bu, p := read(); s1 == nil || len(bu.Roles) != 1 || p.Lessons["dress"].ReadVersion != 0 {
		t.Fatalf("B before reading the log: session %v, roles %v, progress %+v: not its kept copies", s1, bu.Roles, p.Lessons)
	}
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if s1, bu, p := read(); s1 != nil || len(bu.Roles) != 2 || p.Lessons["dress"].ReadVersion != 1 {
		t.Fatalf("B after reading the log: session %v, roles %v, progress %+v", s1, bu.Roles, p.Lessons)
	}

	// Left to itself: A deactivates the person and ends their sessions; B
	// may show the old state only to reads that start within the bound.
	if _, err := b.Session(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetUserActive(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	for {
		started := time.Now()
		_, err := b.Session(ctx, "s2")
		bu, uerr := b.User(ctx, u.ID)
		if uerr != nil {
			t.Fatal(uerr)
		}
		gone := isNotFound(err) && !bu.Active
		if !gone && started.Sub(done) > storage.SharedStaleness {
			t.Fatalf("B, %s after A's write ended: session %v, active %v", started.Sub(done), err, bu.Active)
		}
		if gone {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Instances keep API tokens as they keep sessions: B serves its copy (no
// read) until the change log names A's revocation, then reads the token
// again and sees it revoked.
func TestSharedInstancesRevokeTokens(t *testing.T) {
	ctx := context.Background()
	a, b := sharedPair(t)
	tok := &model.APIToken{ID: "token-hash", UserID: model.NewID(), Name: "script", Created: testkit.Epoch}
	if err := a.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.APIToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	before := b.found("api_tokens")
	if got, err := b.APIToken(ctx, tok.ID); err != nil || got.Revoked || b.found("api_tokens") != before {
		t.Fatalf("B's second read: %+v %v, %d reads", got, err, b.found("api_tokens")-before)
	}
	if err := a.RevokeAPIToken(ctx, tok.ID, testkit.Epoch.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := b.APIToken(ctx, tok.ID); err != nil || !got.Revoked {
		t.Errorf("B after reading the log: %+v %v, want revoked", got, err)
	}
}

// While the change log's read is late (under load: its last complete read
// began more than SharedStaleness ago), readers of kept copies wait for
// that one read instead of each reading the database, and then get what
// it says: the copies nobody changed, not those another instance did.
func TestLateChangeReadIsWaitedFor(t *testing.T) {
	ctx := context.Background()
	a, b := sharedPair(t)
	now := testkit.Epoch
	u := &model.User{ID: model.NewID(), Login: "late.read", Name: "迟读", Roles: []string{model.RoleEmployee}, Active: true, Created: now}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"kept", "ended"} {
		if err := a.CreateSession(ctx, &model.Session{ID: id, UserID: u.ID, CSRF: "x", Created: now, LastSeen: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"kept", "ended"} {
		if _, err := b.Session(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.User(ctx, u.ID); err != nil {
		t.Fatal(err)
	}

	release := b.StallChanges(2 * storage.SharedStaleness)
	if err := a.DeleteSession(ctx, "ended"); err != nil {
		t.Fatal(err)
	}
	sessions, users := b.found("sessions"), b.found("users")
	const readers = 20
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup
	var finished atomic.Int32
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer finished.Add(1)
			if _, err := b.Session(ctx, "kept"); err != nil {
				errs <- err
			}
			if _, err := b.User(ctx, u.ID); err != nil {
				errs <- err
			}
		}()
	}
	var ended error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer finished.Add(1)
		_, ended = b.Session(ctx, "ended")
	}()
	// Until every reader waits, or (wrongly) is done without waiting.
	for b.ChangeWaiters()+int(finished.Load()) < readers+1 {
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !isNotFound(ended) {
		t.Errorf("the session A ended, after B's late read of the log: %v, want not found", ended)
	}
	// The ended session is read once (B dropped it); nothing else is.
	if got := b.found("sessions") - sessions; got != 1 {
		t.Errorf("%d readers sent %d reads of sessions, want 1 (the ended one)", readers+1, got)
	}
	if got := b.found("users") - users; got != 0 {
		t.Errorf("%d readers sent %d reads of users, want 0", readers, got)
	}
}

// A shared instance's start-up load of users and sessions is kept: its
// first read of the change log (which forgets what it holds) comes before
// the load, not after it.
func TestSharedLoadKeptIsKept(t *testing.T) {
	ctx := context.Background()
	a, b := sharedPair(t)
	u := &model.User{ID: model.NewID(), Login: "loaded.one", Name: "预载", Roles: []string{model.RoleEmployee}, Active: true, Created: testkit.Epoch}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if k, err := b.LoadKept(ctx); err != nil || k.Users == 0 {
		t.Fatalf("load: %d users, %v", k.Users, err)
	}
	// The log's next read, as the first page starts it.
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	before := b.found("users")
	if _, err := b.User(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.found("users") - before; got != 0 {
		t.Errorf("the first read of a loaded user sent %d reads, want 0", got)
	}
}
