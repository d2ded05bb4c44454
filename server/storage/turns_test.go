package storage

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// waitFor yields until n callers hold or wait for key (the waiter has
// registered and can only go on when the lock lets it), or the waiter has
// already answered on done (a broken lock let it through).
func waitFor[T any](tr *turns, key string, n int, done chan T) {
	for tr.waiting(key) != n && len(done) == 0 {
		runtime.Gosched()
	}
}

// Two keys proceed at once: while "user/a" is held, "user/b" is taken and
// given back (a lock that serialized every key would hang here).
func TestTurnsDifferentKeysDoNotWait(t *testing.T) {
	var tr turns
	ctx := context.Background()
	unlockA, err := tr.lock(ctx, "user/a")
	if err != nil {
		t.Fatal(err)
	}
	took := make(chan error)
	go func() {
		unlockB, err := tr.lock(ctx, "user/b")
		if err == nil {
			unlockB()
		}
		took <- err
	}()
	if err := <-took; err != nil {
		t.Fatalf("user/b while user/a is held: %v", err)
	}
	unlockA()
	if n := tr.waiting("user/a") + tr.waiting("user/b"); n != 0 {
		t.Fatalf("%d entries left after every unlock", n)
	}
}

// One key is held by one caller at a time: a second caller waits until the
// first gives it back, then gets it; a waiter whose context ends gets an
// error and leaves the key to the others.
func TestTurnsSameKeyTakesTurns(t *testing.T) {
	var tr turns
	ctx := context.Background()
	unlock, err := tr.lock(ctx, "user/a")
	if err != nil {
		t.Fatal(err)
	}

	// A waiter that gives up.
	cctx, cancel := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() {
		u, err := tr.lock(cctx, "user/a")
		if err == nil {
			u()
		}
		gaveUp <- err
	}()
	waitFor(&tr, "user/a", 2, gaveUp)
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose context ended while the key was held: %v, want context.Canceled", err)
	}

	// A waiter that gets it once the holder is done.
	got := make(chan func(), 1)
	go func() {
		u, err := tr.lock(ctx, "user/a")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- u
	}()
	waitFor(&tr, "user/a", 2, got)
	select {
	case <-got:
		t.Fatal("a second caller took user/a while the first held it")
	default:
	}
	unlock()
	unlock() // a second call does nothing
	u := <-got
	if u == nil {
		t.FailNow()
	}
	if n := tr.waiting("user/a"); n != 1 {
		t.Fatalf("user/a has %d holders and waiters, want 1", n)
	}
	u()
	if n := tr.waiting("user/a"); n != 0 {
		t.Fatalf("user/a has %d entries after every unlock", n)
	}
}

// Many callers of one key never overlap; with -race, their unguarded
// counter is the proof that each saw the previous one's write.
func TestTurnsSameKeyNeverOverlaps(t *testing.T) {
	var tr turns
	var inside atomic.Int32
	counter := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 20 {
				unlock, err := tr.lock(context.Background(), "progress/a")
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two callers held progress/a at once")
				}
				counter++
				runtime.Gosched()
				inside.Add(-1)
				unlock()
			}
		})
	}
	wg.Wait()
	if counter != 50*20 {
		t.Fatalf("counter %d, want %d", counter, 50*20)
	}
}

func TestTurnsEndedContext(t *testing.T) {
	var tr turns
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.lock(ctx, "user/a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("lock with an ended context: %v", err)
	}
	if n := tr.waiting("user/a"); n != 0 {
		t.Fatalf("%d entries after a refused lock", n)
	}
}
