// Package database connects to MongoDB, or starts the embedded FerretDB when no
// MONGODB_URI is configured, and applies the numbered schema steps.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"conductportal/server/secret"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// DefaultName is the database used when the URI does not name one.
const DefaultName = "portal"

// ErrLocked is returned when another process holds the embedded database.
var ErrLocked = errors.New("database: the embedded database in this data folder is in use by a running portal; stop it first, or set MONGODB_URI to share a MongoDB server")

// Options says where the database is.
type Options struct {
	URI     string // MongoDB URI; empty starts the embedded database
	DataDir string // folder of the embedded database
	Logger  *slog.Logger
	// Observe, when set, is told of every database command: its name, its
	// collection and how long it took (for the metrics).
	Observe func(command, collection string, took time.Duration, failed bool)
	// Secrets is the portal's key, for schema steps that seal stored
	// secrets (nil: none set).
	Secrets *secret.Box
	// PostgreSQLURL, with a URI of FerretDB on PostgreSQL, is the
	// PostgreSQL database behind it, for IndexIDs.
	PostgreSQLURL string
}

// DB is an open database: the driver client, the portal's database, and the
// embedded server when there is one.
type DB struct {
	Client   *mongo.Client
	Database *mongo.Database
	Embedded bool
	secrets  *secret.Box
	pgURL    string        // PostgreSQL behind FerretDB (Options.PostgreSQLURL), or ""
	serial   *serialDialer // the embedded database's queue of writes

	mu           sync.Mutex // guards the embedded server's fields below
	embedded     embedded
	stopEmbedded context.CancelFunc
	embeddedDone chan struct{}
	lock         *os.File
	closeOnce    sync.Once
}

// embedded is what it takes to start the embedded server again.
type embedded struct {
	dir    string       // absolute data folder
	addr   string       // host:port it listens on, kept across restarts
	logger *slog.Logger // FerretDB's own, quieted
}

// Secrets is the key the database was opened with (nil: none).
func (db *DB) Secrets() *secret.Box { return db.secrets }

// WritesWaiting is how many write commands wait for their turn on the
// embedded database (serial.go); 0 for any other. Work that can wait (a
// write behind) lets them go first.
func (db *DB) WritesWaiting() int {
	if db.serial == nil {
		return 0
	}
	return int(db.serial.waiting.Load())
}

// Open connects to opts.URI, or starts the embedded database under opts.DataDir.
func Open(ctx context.Context, opts Options) (*DB, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	db := &DB{secrets: opts.Secrets, pgURL: opts.PostgreSQLURL}
	uri := opts.URI
	name := DefaultName
	if uri == "" {
		var err error
		uri, err = db.startEmbedded(ctx, opts.DataDir, logger)
		if err != nil {
			return nil, err
		}
	} else if n := uriDatabase(uri); n != "" {
		name = n
	}

	// Majority with journaling where the server supports it: a receipt the
	// user was told about must survive a crash.
	clientOpts := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		// A burst of requests opens connections in parallel, not two at a time.
		SetMaxConnecting(16).
		SetTimeout(10 * time.Second)
	if opts.Observe != nil {
		clientOpts.SetMonitor(commandMonitor(opts.Observe))
	}
	if db.Embedded {
		// FerretDB on SQLite commits each write durably; it does not
		// implement write concerns beyond acknowledging them.
		clientOpts.SetWriteConcern(writeconcern.W1())
		db.serial = &serialDialer{Dialer: net.Dialer{Timeout: 5 * time.Second}}
		clientOpts.SetDialer(db.serial)
	}
	client, err := mongo.Connect(clientOpts)
	if err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	db.Client = client
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		_ = db.Close(context.Background())
		return nil, fmt.Errorf("database: ping: %w", err)
	}
	db.Database = client.Database(name)
	return db, nil
}

// uriDatabase returns the database named in the path of a MongoDB URI.
func uriDatabase(uri string) string {
	rest := uri
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	i := strings.Index(rest, "/")
	if i < 0 {
		return ""
	}
	rest = rest[i+1:]
	if j := strings.IndexAny(rest, "?"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// startEmbedded locks the data folder and starts FerretDB with its SQLite
// handler on a loopback port chosen by the kernel.
func (db *DB) startEmbedded(ctx context.Context, dir string, logger *slog.Logger) (string, error) {
	if dir == "" {
		dir = "data"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("database: data folder: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("database: create data folder: %w", err)
	}
	lock, err := lockFolder(abs)
	if err != nil {
		return "", err
	}
	db.lock = lock

	// FerretDB logs every connection at info level; only warnings matter to us.
	quiet := slog.New(&levelHandler{min: slog.LevelWarn, next: logger.Handler()})
	// A Unix socket in the 0700 data folder: only this account can reach
	// the database (a loopback port would let any local user in, and
	// FerretDB on SQLite has no authentication). Paths too long for a
	// socket fall back to a kernel-chosen loopback port.
	addr := filepath.Join(abs, "ferretdb.sock")
	if len(addr) > maxSocketPath {
		logger.Warn("data folder path too long for a Unix socket; the embedded database listens on loopback TCP", "folder", abs)
		addr = "127.0.0.1:0"
	}
	db.embedded = embedded{dir: abs, addr: addr, logger: logger}
	uri, err := db.runEmbedded(quiet)
	if err != nil {
		db.unlock()
		return "", err
	}
	db.Embedded = true
	return uri, nil
}

// sqliteURL names the data folder for FerretDB's SQLite handler. FerretDB
// turns on WAL; synchronous=FULL (also SQLite's default) is set here so
// that every commit is on disk before the write is acknowledged: a receipt
// the user was told about survives a crash or a power cut.
func sqliteURL(dir string) string {
	return "file:" + dir + "/?_pragma=synchronous(full)"
}

// maxSocketPath keeps within the kernel's limit for a Unix socket path.
const maxSocketPath = 100

// runEmbedded starts FerretDB on db.embedded.addr (a socket path, or a
// TCP address whose kernel-chosen port it remembers, so a restart listens
// where the client looks).
func (db *DB) runEmbedded(quiet *slog.Logger) (string, error) {
	listener := ferretdb.ListenerConfig{TCP: db.embedded.addr}
	unix := strings.HasSuffix(db.embedded.addr, ".sock")
	if unix {
		// A socket left by a killed portal would refuse the listen; the
		// folder lock says no other portal uses it.
		_ = os.Remove(db.embedded.addr)
		listener = ferretdb.ListenerConfig{Unix: db.embedded.addr}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL(db.embedded.dir),
		Logger:    quiet,
	})
	if err != nil {
		return "", fmt.Errorf("database: start embedded: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	logger := db.embedded.logger
	go func() {
		defer close(done)
		if err := f.Run(runCtx); err != nil {
			logger.Error("embedded database stopped", "err", err)
		}
	}()
	uri := f.MongoDBURI() // blocks until the listener is up
	if unix {
		_ = os.Chmod(db.embedded.addr, 0o600)
		uri = "mongodb://" + url.PathEscape(db.embedded.addr) + "/"
	} else if u, err := url.Parse(uri); err == nil {
		db.embedded.addr = u.Host
	}
	db.mu.Lock()
	db.stopEmbedded, db.embeddedDone = cancel, done
	db.mu.Unlock()
	return uri, nil
}

// StopEmbedded stops the embedded database server but keeps the client and
// the folder lock: the portal sees an outage, as with a MongoDB server
// going away. For tests of outages; see StartEmbedded.
func (db *DB) StopEmbedded() {
	db.mu.Lock()
	stop, done := db.stopEmbedded, db.embeddedDone
	db.stopEmbedded = nil
	db.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// StartEmbedded starts the stopped embedded database again on the same
// folder and port; the client reconnects by itself.
func (db *DB) StartEmbedded() error {
	if !db.Embedded {
		return errors.New("database: not the embedded database")
	}
	db.mu.Lock()
	running := db.stopEmbedded != nil
	db.mu.Unlock()
	if running {
		return nil
	}
	quiet := slog.New(&levelHandler{min: slog.LevelWarn, next: db.embedded.logger.Handler()})
	_, err := db.runEmbedded(quiet)
	return err
}

// lockFolder takes an exclusive, non-blocking lock on dir/portal.lock. The
// kernel drops it when the process dies, so a crash never leaves it stale.
func lockFolder(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "portal.lock"), os.O_CREATE|os.O_RDWR, 0o600) // #nosec G304 -- the configured data folder
	if err != nil {
		return nil, fmt.Errorf("database: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("database: lock %s: %w", dir, err)
	}
	_ = f.Truncate(0)
	_, _ = fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}

func (db *DB) unlock() {
	if db.lock != nil {
		_ = syscall.Flock(int(db.lock.Fd()), syscall.LOCK_UN)
		_ = db.lock.Close()
		db.lock = nil
	}
}

// Ping reports whether the database answers within the context's deadline.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("database: ping: %w", err)
	}
	return nil
}

// Close disconnects and stops the embedded database, if any.
func (db *DB) Close(ctx context.Context) error {
	var err error
	db.closeOnce.Do(func() {
		if db.Client != nil {
			if e := db.Client.Disconnect(ctx); e != nil {
				err = fmt.Errorf("database: disconnect: %w", e)
			}
		}
		db.StopEmbedded()
		db.unlock()
	})
	return err
}

// levelHandler drops records below min. FerretDB makes a logger with
// attributes for every query it runs, and nearly all of its records are
// dropped here, so attributes and groups are kept as steps and applied to
// next only when a record is written (measured: the eager WithAttrs was
// 3.75% of the server's CPU during the bench's acknowledgements).
type levelHandler struct {
	min   slog.Level
	next  slog.Handler
	steps []func(slog.Handler) slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.next.Enabled(ctx, l)
}
func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	// FerretDB warns with a dump of every error response it sends (a
	// duplicate key, or the driver's endSessions at disconnect, which v1 does
	// not know). The client gets those errors and handles them; the dumps
	// would only be noise, and could carry user data into the log.
	if strings.HasPrefix(r.Message, "Response ") {
		return nil
	}
	next := h.next
	for _, step := range h.steps {
		next = step(next)
	}
	return next.Handle(ctx, r)
}
func (h *levelHandler) with(step func(slog.Handler) slog.Handler) slog.Handler {
	steps := make([]func(slog.Handler) slog.Handler, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)
	return &levelHandler{min: h.min, next: h.next, steps: append(steps, step)}
}
func (h *levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithAttrs(a) })
}
func (h *levelHandler) WithGroup(n string) slog.Handler {
	return h.with(func(next slog.Handler) slog.Handler { return next.WithGroup(n) })
}

// Host starts the embedded database on dir without a client of its own:
// several portal processes then share it through the URI it returns (set
// as their MONGODB_URI). For tests of several instances and for the
// benchmark; Close stops it.
func Host(ctx context.Context, dir string, logger *slog.Logger) (*DB, string, error) {
	if logger == nil {
		logger = slog.Default()
	}
	db := &DB{}
	uri, err := db.startEmbedded(ctx, dir, logger)
	if err != nil {
		return nil, "", err
	}
	return db, uri, nil
}
