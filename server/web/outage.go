package web

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// errDatabaseDown answers requests while the database is known to be out of
// reach; the error handler turns it into a 503 page or API error.
var errDatabaseDown = errors.New("web: the database is out of reach")

// outage remembers that the database stopped answering, so that every
// request does not wait out its deadline: while it is down, pages and the
// API answer 503 at once, and one watcher pings until the database is back.
// The database driver reconnects by itself; nothing needs a restart.
type outage struct {
	db       Pinger
	log      *slog.Logger
	down     atomic.Bool
	checking atomic.Bool   // a ping is confirming a reported error
	stop     chan struct{} // closed when the app shuts down
}

func newOutage(db Pinger, log *slog.Logger) *outage {
	return &outage{db: db, log: log, stop: make(chan struct{})}
}

// report notes an error meaning "database unreachable". A request can
// also run out of time because the database is busy, so the outage is
// declared only when a ping fails too.
func (o *outage) report(err error) {
	if err == nil || !isUnavailable(err) || errors.Is(err, errDatabaseDown) || o.down.Load() {
		return
	}
	if !o.checking.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer o.checking.Store(false)
		cx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		perr := o.db.Ping(cx)
		cancel()
		if perr == nil {
			return // busy, not gone
		}
		if o.down.CompareAndSwap(false, true) {
			o.log.Error("database unreachable: answering 503 until it is back", "err", err, "ping", perr)
			o.watch()
		}
	}()
}

// confirmed declares the outage that a failed ping showed (readyz's): a
// page served from memory alone asks the database nothing, so no request
// may report it.
func (o *outage) confirmed(err error) {
	if o.down.CompareAndSwap(false, true) {
		o.log.Error("database unreachable: answering 503 until it is back", "ping", err)
		go o.watch()
	}
}

// watch pings until the database answers, then lets requests through again.
func (o *outage) watch() {
	started := time.Now()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		cx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := o.db.Ping(cx)
		cancel()
		if err == nil {
			o.down.Store(false)
			o.log.Info("database reachable again", "outage", time.Since(started).Round(time.Millisecond).String())
			return
		}
	}
}

// close stops the watcher; the app calls it at shutdown.
func (o *outage) close() error {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	return nil
}

// failFastWhenDown answers 503 at once while the database is known down.
func (h *handler) failFastWhenDown(c *fiber.Ctx) error {
	if h.outage.down.Load() {
		return errDatabaseDown
	}
	return c.Next()
}
