package report_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// On a shared database the directory is read by a scan of the users: the
// requests that find none kept wait for one load instead of each scanning
// (eight concurrent scans of 10,000 users all ran past the request
// deadline on PostgreSQL, so none was kept and every export failed), and
// the next request reads no users at all.
func TestSharedDirectoryLoadedOnce(t *testing.T) {
	ctx := context.Background()
	_, st, userFinds := sharedStore(t)
	for i := range 50 {
		u := &model.User{ID: model.NewID(), Login: fmt.Sprintf("dept.%02d", i), Name: "部门", Department: "Sales",
			Roles: []string{model.RoleEmployee}, Active: true, Created: testkit.Epoch}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	svc := report.New(st, nil, time.Now)
	before := userFinds.Load()
	const clients = 8
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := svc.Directory(ctx)
			if err == nil && len(d.Users) != 50 {
				err = fmt.Errorf("%d users, want 50", len(d.Users))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := userFinds.Load() - before; got != 1 {
		t.Errorf("%d concurrent first requests read the users %d times, want 1", clients, got)
	}
	before = userFinds.Load()
	if _, err := svc.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	if got := userFinds.Load() - before; got != 0 {
		t.Errorf("the next request read the users %d times, want 0", got)
	}
}

// sharedStore is a storage of a shared instance on an embedded database,
// with the database and a count of its finds of users.
func sharedStore(t *testing.T) (*database.DB, *storage.Storage, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	host, uri, err := database.Host(ctx, filepath.Join(t.TempDir(), "db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close(context.Background()) })
	userFinds := &atomic.Int64{}
	db, err := database.Open(ctx, database.Options{URI: uri, Logger: log,
		Observe: func(cmd, coll string, _ time.Duration, _ bool) {
			if cmd == "find" && coll == "users" {
				userFinds.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	st := storage.New(db.Database)
	st.SetShared()
	return db, st, userFinds
}

// Past its time to live a shared instance's directory is loaded again
// behind the requests, which meanwhile get the kept one without waiting
// for a scan; past twice that the kept one is not answered. A user written
// straight into the database (no generation moved: a generation write that
// failed) shows only through that reload.
func TestSharedDirectoryReloadedBehind(t *testing.T) {
	ctx := context.Background()
	db, st, userFinds := sharedStore(t)
	add := func(login string) {
		t.Helper()
		u := &model.User{ID: model.NewID(), Login: login, Name: "员工", Roles: []string{model.RoleEmployee}, Active: true, Created: testkit.Epoch}
		if _, err := db.Database.Collection("users").InsertOne(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	add("first")
	var mu sync.Mutex
	clock := testkit.Epoch
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	svc := report.New(st, nil, now)
	users := func() int {
		t.Helper()
		d, err := svc.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(d.Users)
	}
	if n := users(); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	add("second")
	advance(59 * time.Second)
	if n := users(); n != 1 {
		t.Fatalf("within its time to live the kept directory has %d users, want 1", n)
	}
	finds := userFinds.Load()
	advance(2 * time.Second) // 61 s: past the time to live
	if n := users(); n != 1 {
		t.Fatalf("past its time to live the first answer has %d users, want the kept 1 (the load runs behind)", n)
	}
	// The load behind ends: wait for its directory, not for a time.
	deadline := time.Now().Add(10 * time.Second)
	for users() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the directory loaded behind never showed the second user")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := userFinds.Load() - finds; got != 1 {
		t.Errorf("the reload behind read the users %d times, want 1", got)
	}

	// Past twice the time to live nothing kept is answered: the request
	// waits for the load.
	add("third")
	advance(2*time.Minute + time.Second)
	if n := users(); n != 3 {
		t.Errorf("past twice its time to live the directory has %d users, want 3 (loaded for the request)", n)
	}
}
