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
	db   Pinger
	log  *slog.Logger
	down atomic.Bool
	stop chan struct{} // closed when the app shuts down
}

func newOutage(db Pinger, log *slog.Logger) *outage {
	return &outage{db: db, log: log, stop: make(chan struct{})}
}

// report notes an error; one meaning "database unreachable" starts the watch.
func (o *outage) report(err error) {
	if err == nil || !isUnavailable(err) || errors.Is(err, errDatabaseDown) {
		return
	}
	if o.down.CompareAndSwap(false, true) {
		o.log.Error("database unreachable: answering 503 until it is back", "err", err)
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
