package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newAuth(t *testing.T) (*auth.Service, *clock) {
	t.Helper()
	a, _, c := newAuthStore(t)
	return a, c
}

func TestThrottleGrowsAndForgives(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	wait := func(login, addr string) time.Duration {
		t.Helper()
		d, err := a.LoginWait(ctx, login, addr)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := 0; i < 5; i++ {
		if d := wait("li", "10.0.0.1"); d != 0 {
			t.Fatalf("failure %d: wait %v before the free tries are used", i, d)
		}
		if err := a.LoginFailed(ctx, "li", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if d := wait("LI ", "10.0.0.2"); d != 0 {
		t.Fatalf("five failures must not delay yet: %v", d)
	}
	// Each further failure doubles the delay: 30 s, 60 s, 120 s ...
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		if err := a.LoginFailed(ctx, "li", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		got := wait("li", "10.0.0.9") // the account is throttled from any address
		if got != want {
			t.Fatalf("after %d extra failures: wait %v, want %v", i+1, got, want)
		}
		c.add(got)
	}
	// The delay is capped: no permanent lockout.
	for i := 0; i < 30; i++ {
		a.LoginFailed(ctx, "li", "10.0.0.1")
	}
	if d := wait("li", "10.0.0.1"); d != 15*time.Minute {
		t.Fatalf("capped wait %v, want 15m", d)
	}
	// An address past its own limit is throttled for every account.
	if d := wait("wang", "10.0.0.1"); d == 0 {
		t.Fatal("an address with over 20 recent failures must be throttled for every account")
	}
	if d := wait("wang", "10.0.0.2"); d != 0 {
		t.Fatalf("another account from another address: %v", d)
	}
	c.add(15 * time.Minute)
	if d := wait("li", "10.0.0.1"); d != 0 {
		t.Fatalf("after the delay: %v", d)
	}
	// A success clears the account.
	a.LoginFailed(ctx, "li", "10.0.0.3")
	if err := a.LoginSucceeded(ctx, "li"); err != nil {
		t.Fatal(err)
	}
	if d := wait("li", "10.0.0.3"); d != 0 {
		t.Fatalf("after a success: %v", d)
	}
	// Old failures are forgotten after an hour.
	c.add(2 * time.Hour)
	a.LoginFailed(ctx, "wang", "10.0.0.1")
	if d := wait("wang", "10.0.0.1"); d != 0 {
		t.Fatalf("failures older than an hour still count: %v", d)
	}
}
