package logging

import (
	"io"
	"sync"
)

// maxPending is how much a Writer holds for its goroutine before a line
// waits for room (a stalled disk slows the logging, never grows memory).
const maxPending = 1 << 20

// Writer hands the lines written to it to one goroutine that writes them
// to the writer behind, all that came meanwhile in one write. slog's
// handlers hold a mutex while they write: with a write(2) a request under
// it, every request's access-log line queued behind whichever request the
// kernel descheduled in its write (on a 2-core machine shared with other
// load, the lesson page's largest lock wait: 0.58 s of 0.60 s in a 5 s
// line). Lines keep their order; a line is written as soon as the
// goroutine runs, not on a timer. What a crash of the process loses is
// what was handed over but not yet written: the lines of the last
// moment, as with any buffered stream (the runtime's own crash report
// goes to stderr directly). Close writes what is left.
type Writer struct {
	w       io.Writer
	mu      sync.Mutex
	cond    *sync.Cond // signalled when lines come, are written, or Close
	pending []byte
	spare   []byte
	writing bool // the goroutine is writing a batch
	closed  bool
	done    chan struct{}
}

// NewWriter starts a Writer in front of w; Close stops it.
func NewWriter(w io.Writer) *Writer {
	a := &Writer{w: w, done: make(chan struct{})}
	a.cond = sync.NewCond(&a.mu)
	go a.run()
	return a
}

// Write hands p over and returns; after Close it writes p itself.
func (a *Writer) Write(p []byte) (int, error) {
	a.mu.Lock()
	for len(a.pending) >= maxPending && !a.closed {
		a.cond.Wait()
	}
	if a.closed {
		a.mu.Unlock()
		return a.w.Write(p)
	}
	a.pending = append(a.pending, p...)
	a.cond.Broadcast()
	a.mu.Unlock()
	return len(p), nil
}

func (a *Writer) run() {
	defer close(a.done)
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		for len(a.pending) == 0 && !a.closed {
			a.cond.Wait()
		}
		if len(a.pending) == 0 { // closed, and all written
			return
		}
		out := a.pending
		a.pending, a.writing = a.spare[:0], true
		a.mu.Unlock()
		_, _ = a.w.Write(out) // as slog does with a failed write: the line is lost, the program goes on
		a.mu.Lock()
		if cap(out) <= maxPending {
			a.spare = out[:0]
		}
		a.writing = false
		a.cond.Broadcast()
	}
}

// Flush waits until every line handed over so far is written.
func (a *Writer) Flush() {
	a.mu.Lock()
	for (len(a.pending) > 0 || a.writing) && !a.closed {
		a.cond.Wait()
	}
	a.mu.Unlock()
}

// Close writes what is left and stops the goroutine; later lines are
// written directly.
func (a *Writer) Close() error {
	a.mu.Lock()
	a.closed = true
	a.cond.Broadcast()
	a.mu.Unlock()
	<-a.done
	return nil
}
