package storage

import (
	"sync/atomic"
	"testing"
	"time"
)

// StopLater stops the timed flushes not yet due, waits for one running,
// and from then on after schedules nothing.
func TestStopLater(t *testing.T) {
	var s Storage
	var ran atomic.Int32
	s.after(time.Hour, func() { ran.Add(1) })
	started, release := make(chan struct{}), make(chan struct{})
	s.after(time.Nanosecond, func() {
		close(started)
		<-release
		ran.Add(1)
	})
	<-started
	stopped := make(chan struct{})
	go func() { s.StopLater(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("StopLater returned while a flush was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-stopped
	if n := ran.Load(); n != 1 {
		t.Fatalf("%d flushes ran, want the running one only", n)
	}
	s.after(time.Nanosecond, func() { ran.Add(1) })
	s.later.mu.Lock()
	n := len(s.later.timers)
	s.later.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d timers after the stop, want none", n)
	}
}
