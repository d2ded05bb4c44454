package storage

import (
	"context"
	"sync"
	"time"
)

// laterJobs are the write-behind buffers' timed flushes (item statistics,
// progress). StopLater ends them at a stop, after the stop wrote what the
// buffers hold, so none fires once the database is closed, or after a
// one-off command returned (into the next command's log, in a test).
type laterJobs struct {
	mu      sync.Mutex
	stopped bool
	timers  map[*time.Timer]struct{}
	running sync.WaitGroup // timers not stopped: due or running
}

// after runs fn once d has passed, unless StopLater came first.
func (s *Storage) after(d time.Duration, fn func()) {
	j := &s.later
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stopped {
		return
	}
	if j.timers == nil {
		j.timers = map[*time.Timer]struct{}{}
	}
	j.running.Add(1)
	var t *time.Timer
	// The callback takes j.mu before reading t, which is set under it.
	t = time.AfterFunc(d, func() {
		defer j.running.Done()
		j.mu.Lock()
		delete(j.timers, t)
		stopped := j.stopped
		j.mu.Unlock()
		if !stopped {
			fn()
		}
	})
	j.timers[t] = struct{}{}
}

// StopLater stops the timed flushes and waits for one that is running.
// Flush or settle the buffers first: what they still hold is written by
// no timer from now on.
func (s *Storage) StopLater() {
	j := &s.later
	j.mu.Lock()
	j.stopped = true
	for t := range j.timers {
		if t.Stop() {
			j.running.Done()
		}
	}
	clear(j.timers)
	j.mu.Unlock()
	j.running.Wait()
}

// flushDue is a write-behind buffer's timed flush: due once something is
// held, no longer due once a flush took what is held (clear it then), due
// again after a flush that failed. Guarded by the buffer's mutex.
type flushDue struct {
	every     time.Duration
	failed    string // the warning of a timed flush that failed
	flush     func(context.Context) error
	scheduled bool
}

// soon schedules the flush unless one is due; the buffer's mutex is held.
func (f *flushDue) soon(s *Storage) {
	if f.scheduled {
		return
	}
	f.scheduled = true
	s.after(f.every, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.flush(ctx); err != nil {
			s.logger().Warn(f.failed, "err", err)
		}
	})
}
