package testkit

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"conductportal/server/database"
	"conductportal/server/logging"
	"conductportal/server/storage"
)

// Kit is the package-test tier: a migrated embedded database in a temporary
// folder and a fake clock, with no content imported, no accounts and no
// server. Services are built on it by the test (auth.New(k.Store,
// k.Clock.Now)). Journeys over HTTP use Start.
type Kit struct {
	DB    *database.DB
	Store *storage.Storage
	Clock *Clock
	Dir   string // the data folder

	log *Log
}

// Store opens a Kit until the test ends: the database as serve opens it
// (schema steps, the _id index, this process its sole writer, the
// directory loaded), on a clock standing at Epoch.
func Store(t testing.TB) *Kit {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	tl := &Log{t: t}
	log := logging.New("text", tl)
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: log})
	if err != nil {
		t.Fatalf("testkit: open the database: %v", err)
	}
	k := &Kit{DB: db, Dir: dir, Clock: NewClock(Epoch), log: tl}
	t.Cleanup(func() {
		if err := db.Close(context.Background()); err != nil {
			t.Errorf("testkit: close the database: %v", err)
		}
		tl.close()
	})
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatalf("testkit: migrate: %v", err)
	}
	if _, err := db.IndexEmbeddedIDs(ctx); err != nil {
		t.Fatalf("testkit: index ids: %v", err)
	}
	k.Store = storage.New(db.Database)
	k.Store.SetSoleWriter()
	if err := k.Store.LoadDirectory(ctx, log); err != nil {
		t.Fatalf("testkit: load the directory: %v", err)
	}
	return k
}

// LoggedErrors is how many errors the database and storage logged.
func (k *Kit) LoggedErrors() int { return k.log.errors() }

// Epoch is where a Kit's clock starts: a Monday morning, in UTC.
var Epoch = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// Clock is a fake clock for the services' now functions: it stands still
// until the test moves it. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
