package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

func begin(t *testing.T, a *auth.Service, login, addr string) *auth.LoginTry {
	t.Helper()
	try, err := a.BeginLogin(context.Background(), login, addr)
	if err != nil {
		t.Fatalf("%s from %s: %v", login, addr, err)
	}
	return try
}

func throttled(t *testing.T, a *auth.Service, login, addr string) time.Duration {
	t.Helper()
	_, err := a.BeginLogin(context.Background(), login, addr)
	var te *auth.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("%s from %s: %v, want throttled", login, addr, err)
	}
	return te.Wait
}

func TestThrottlePerAccountAndAddress(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	c.add(time.Minute) // one minute into a window
	for range 5 {
		if err := begin(t, a, "li", "10.0.0.1").Failed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if w := throttled(t, a, "LI ", "10.0.0.1"); w != 14*time.Minute {
		t.Fatalf("wait %v, want the rest of the window (14m)", w)
	}
	// The owner on another address is not locked out by those failures.
	if err := begin(t, a, "li", "10.0.0.2").Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	// Successes give their slots back: signing in often costs nothing.
	for range 30 {
		if err := begin(t, a, "wang", "10.0.0.3").Succeeded(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// An address with 20 tries in the window is refused for every account;
	// tries that were not checked give their slots back.
	for i := range 15 {
		if err := begin(t, a, fmt.Sprintf("guess%d", i), "10.0.0.1").Failed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := begin(t, a, "zhao", "10.0.0.9").Abandon(ctx); err != nil {
		t.Fatal(err)
	}
	throttled(t, a, "zhao", "10.0.0.1")
	if err := begin(t, a, "zhao", "10.0.0.9").Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	// The next window starts afresh; the sweep removes the old slots.
	c.add(15 * time.Minute)
	if err := begin(t, a, "li", "10.0.0.1").Failed(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := a.SweepThrottles(ctx)
	if err != nil || n < 20 {
		t.Fatalf("swept %d slots (%v), want the last window's 20 and more", n, err)
	}
}

func TestThrottleAccountWideSlowsDoesNotBlock(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	for i := range 10 { // ten failures from five addresses
		if err := begin(t, a, "li", fmt.Sprintf("10.1.0.%d", i/2)).Failed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// From then on one try per 30 s from anywhere: the owner still gets in.
	if err := begin(t, a, "li", "192.0.2.1").Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	if w := throttled(t, a, "li", "192.0.2.2"); w <= 0 || w > 30*time.Second {
		t.Fatalf("paced wait %v, want at most 30s", w)
	}
	_ = begin(t, a, "other", "192.0.2.2").Abandon(ctx) // other accounts are not paced
	c.add(30 * time.Second)
	_ = begin(t, a, "li", "192.0.2.2").Abandon(ctx)
}

func TestSignInsBeyondTheGateAreRefusedAtOnce(t *testing.T) {
	a, _ := newAuth(t)
	a.SetSignInSlots(2)
	ctx := context.Background()
	t1, t2 := begin(t, a, "a", "10.0.0.1"), begin(t, a, "b", "10.0.0.2")
	if _, err := a.BeginLogin(ctx, "c", "10.0.0.3"); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("a third sign-in with two slots: %v", err)
	}
	if err := t1.Failed(ctx); err != nil {
		t.Fatal(err)
	}
	_ = begin(t, a, "c", "10.0.0.3").Abandon(ctx)
	_ = t2.Abandon(ctx)
}

// Tries at once, through two services on one database (two instances):
// exactly the limit get a slot.
func TestThrottleBurstAcrossInstances(t *testing.T) {
	a, st, c := newAuthStore(t)
	b := auth.New(st, c.Now)
	a.SetSignInSlots(40) // every try in progress at once: the slots decide
	b.SetSignInSlots(40)
	var got, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			svc := a
			if i%2 == 1 {
				svc = b
			}
			_, err := svc.BeginLogin(context.Background(), "li", "10.0.0.1")
			switch {
			case err == nil:
				got.Add(1)
			case errors.Is(err, auth.ErrThrottled):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got.Load() != 5 || refused.Load() != 35 {
		t.Fatalf("%d tries got a slot, %d refused; want 5 and 35", got.Load(), refused.Load())
	}
}

func TestCodeTriesEndAPendingSession(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	exp := c.Now().Add(10 * time.Minute)
	for i := 1; i <= auth.CodeTries; i++ {
		last, err := a.BeginCode(ctx, "sess1", exp)
		if err != nil || last != (i == auth.CodeTries) {
			t.Fatalf("code try %d: last %v, %v", i, last, err)
		}
	}
	if _, err := a.BeginCode(ctx, "sess1", exp); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("sixth code: %v", err)
	}
	if _, err := a.BeginCode(ctx, "sess2", exp); err != nil {
		t.Fatalf("another pending session: %v", err)
	}
}

// BenchmarkLoginThrottle is the throttle's cost per sign-in on the
// embedded database: two slot inserts and a read before the check, two
// deletes after a success.
func BenchmarkLoginThrottle(b *testing.B) {
	a, _, _ := newAuthStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		try, err := a.BeginLogin(ctx, "li", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if err != nil {
			b.Fatal(err)
		}
		if err := try.Succeeded(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginThrottleFailed is a failed try: three inserts and a read.
func BenchmarkLoginThrottleFailed(b *testing.B) {
	a, _, _ := newAuthStore(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		try, err := a.BeginLogin(ctx, fmt.Sprintf("u%d", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if err != nil {
			b.Fatal(err)
		}
		if err := try.Failed(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
