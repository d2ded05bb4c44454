package auth

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Login throttling: after a few failures, each further failure makes the
// next try wait longer, up to a cap. Nothing locks an account for good, and
// a success clears the account's count.
const (
	freeAccountFailures = 5  // per login, before delays start
	freeAddressFailures = 20 // per client address (offices share one)
	firstDelay          = 30 * time.Second
	maxDelay            = 15 * time.Minute
	forgetAfter         = time.Hour // failures older than this no longer count
)

// throttleMu serializes read-modify-write of throttle documents in this
// process (FerretDB does not apply a conditional update atomically).
var throttleMu sync.Mutex

func accountKey(login string) string { return "login:" + strings.ToLower(strings.TrimSpace(login)) }
func addressKey(addr string) string  { return "addr:" + addr }

// LoginWait says how long a login for login from addr must wait; zero
// means it may try now.
func (s *Service) LoginWait(ctx context.Context, login, addr string) (time.Duration, error) {
	now := s.clock()
	var wait time.Duration
	for _, key := range []string{accountKey(login), addressKey(addr)} {
		t, err := s.store.Throttle(ctx, key)
		if err != nil {
			return 0, err
		}
		if d := t.Until.Sub(now); d > wait {
			wait = d
		}
	}
	return wait, nil
}

// LoginFailed counts a failed login against the account and the address.
func (s *Service) LoginFailed(ctx context.Context, login, addr string) error {
	throttleMu.Lock()
	defer throttleMu.Unlock()
	now := s.clock()
	for _, k := range []struct {
		key  string
		free int
	}{{accountKey(login), freeAccountFailures}, {addressKey(addr), freeAddressFailures}} {
		t, err := s.store.Throttle(ctx, k.key)
		if err != nil {
			return err
		}
		if now.Sub(t.Last) > forgetAfter {
			t.Failures = 0
		}
		t.Failures++
		t.Last = now
		if over := t.Failures - k.free; over > 0 {
			d := maxDelay
			if over < 16 {
				d = min(firstDelay<<(over-1), maxDelay)
			}
			t.Until = now.Add(d)
		}
		if err := s.store.SaveThrottle(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// LoginSucceeded clears the account's failures.
func (s *Service) LoginSucceeded(ctx context.Context, login string) error {
	return s.store.DeleteThrottle(ctx, accountKey(login))
}
