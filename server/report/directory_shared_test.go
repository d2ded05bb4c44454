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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	host, uri, err := database.Host(ctx, filepath.Join(t.TempDir(), "db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close(context.Background()) })
	var userFinds atomic.Int64
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
