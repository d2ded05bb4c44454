package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling counts before it checks: every try first claims an
// attempt slot, a document whose _id is key|window|n for n = 1..limit,
// by a unique insert. A duplicate key means the slot is taken, so a burst
// of any size gets at most limit tries checked per key and window, on
// MongoDB and FerretDB alike and across instances sharing one database.
//
// Keys: (account, address) and address. A stranger's failures use up only
// their own address's slots, so the account's owner elsewhere still gets
// in. Account-wide, failures from all addresses are counted too; past
// accountFailures in a window the account is slowed, not blocked: one try
// per pace interval from anywhere, so guessing from many addresses stays
// slow while the owner can still sign in (a block would hand lockout to
// anyone who knows a login).
const (
	throttleWindow  = 15 * time.Minute
	pairTries       = 5  // per (account, address) and window
	addressTries    = 20 // per address and window (offices share one)
	accountFailures = 10 // account-wide failures in a window before pacing
	pace            = 30 * time.Second
	CodeTries       = 5 // wrong second-factor codes that end a pending session
)

// ErrBusy: every sign-in slot is in use; try again in a second.
var ErrBusy = errors.New("auth: too many sign-ins at once")

// signInGate bounds the sign-ins in progress in this process (throttle
// claims, then the hash): by default two per core, so at most one waits for
// each hash slot. A sign-in that finds them all taken is refused at once
// (ErrBusy) rather than queued, so a burst of strangers spends neither the
// request deadline of real sign-ins nor the database's write queue.
type signInGate struct {
	once  sync.Once
	slots chan struct{}
}

func (g *signInGate) init(n int) {
	g.once.Do(func() { g.slots = make(chan struct{}, n) })
}

func (g *signInGate) try() (release func(), ok bool) {
	g.init(2 * runtime.GOMAXPROCS(0))
	select {
	case g.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-g.slots }) }, true
	default:
		return nil, false
	}
}

// SetSignInSlots sets how many sign-ins may be in progress at once (before
// the first sign-in; default two per core).
func (s *Service) SetSignInSlots(n int) { s.gate.init(n) }

// ErrThrottled: the key has no slot left; Throttled says for how long.
var ErrThrottled = errors.New("auth: too many tries")

// ThrottledError is ErrThrottled with the time to wait.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string { return fmt.Sprintf("auth: too many tries; wait %s", e.Wait) }
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// RetryAfter is the wait of a throttled error in whole seconds (at least 1).
func RetryAfter(err error) int {
	var te *ThrottledError
	if errors.As(err, &te) {
		return int(te.Wait.Seconds()) + 1
	}
	return 1
}

// slotHints remembers, per key prefix, the next slot number worth trying
// and slots this process gave back, so a burst does not walk 1..limit
// through duplicates. Only the database decides who holds a slot; a hint
// that is wrong costs one more insert, never a second claim.
type slotHints struct {
	mu   sync.Mutex
	next map[string]int
	free map[string][]int
}

func (h *slotHints) pick(prefix string, limit int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.next == nil {
		h.next, h.free = map[string]int{}, map[string][]int{}
	}
	if f := h.free[prefix]; len(f) > 0 {
		n := f[len(f)-1]
		h.free[prefix] = f[:len(f)-1]
		return n
	}
	n := h.next[prefix] + 1
	if n <= limit {
		h.next[prefix] = n
	}
	return n
}

func (h *slotHints) giveBack(prefix string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.free != nil {
		h.free[prefix] = append(h.free[prefix], n)
	}
}

// forget drops the hints of ended windows (their prefixes end in the window).
func (h *slotHints) forget(current string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.next {
		if !strings.HasSuffix(p, "|"+current) {
			delete(h.next, p)
			delete(h.free, p)
		}
	}
}

type slot struct {
	prefix string
	n      int
}

func (s slot) id() string { return fmt.Sprintf("%s|%d", s.prefix, s.n) }

// claim takes a free slot of prefix, or reports that all limit are held.
func (s *Service) claim(ctx context.Context, prefix string, limit int, expires time.Time) (slot, bool, error) {
	for range limit + 1 {
		n := s.hints.pick(prefix, limit)
		if n > limit {
			return slot{}, false, nil
		}
		sl := slot{prefix, n}
		ok, err := s.store.ClaimSlot(ctx, sl.id(), expires)
		if err != nil {
			return slot{}, false, err
		}
		if ok {
			return sl, true, nil
		}
	}
	return slot{}, false, nil
}

func (s *Service) release(ctx context.Context, slots ...slot) error {
	ids := make([]string, 0, len(slots))
	for _, sl := range slots {
		if sl.n > 0 {
			ids = append(ids, sl.id())
		}
	}
	if err := s.store.ReleaseSlots(ctx, ids...); err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.n > 0 {
			s.hints.giveBack(sl.prefix, sl.n)
		}
	}
	return nil
}

// loginKey is a login as the throttle keys it; long ones are hashed so an
// _id stays short whatever is typed.
func loginKey(login string) string {
	l := strings.ToLower(strings.TrimSpace(login))
	if len(l) > 64 {
		h := sha256.Sum256([]byte(l))
		return "#" + hex.EncodeToString(h[:16])
	}
	return l
}

func (s *Service) window(now time.Time) (string, time.Time) {
	start := now.Truncate(throttleWindow)
	return fmt.Sprintf("%d", start.Unix()), start.Add(throttleWindow)
}

// LoginTry is a claimed right to check one sign-in. End it with exactly
// one of Failed, Succeeded, SecondFactor or Abandon.
type LoginTry struct {
	s           *Service
	done        func() // gives the sign-in slot back
	login       string
	pair, addr  slot
	win         string
	end         time.Time
	failureSlot string
}

// BeginLogin claims the slots for one try of login from addr. It returns a
// *ThrottledError (errors.Is ErrThrottled) when a key has none left, and
// ErrBusy at once when every sign-in slot is taken. The try holds a
// sign-in slot until it ends.
func (s *Service) BeginLogin(ctx context.Context, login, addr string) (*LoginTry, error) {
	done, ok := s.gate.try()
	if !ok {
		return nil, ErrBusy
	}
	t, err := s.beginLogin(ctx, login, addr)
	if err != nil {
		done()
		return nil, err
	}
	t.done = done
	return t, nil
}

func (s *Service) beginLogin(ctx context.Context, login, addr string) (*LoginTry, error) {
	now := s.clock()
	win, end := s.window(now)
	l := loginKey(login)
	t := &LoginTry{s: s, login: l, win: win, end: end}
	refuse := func() (*LoginTry, error) {
		if err := s.release(ctx, t.pair, t.addr); err != nil {
			return nil, err
		}
		return nil, &ThrottledError{Wait: end.Sub(now)}
	}
	var ok bool
	var err error
	// The pair first: a stranger hammering one account from one address
	// stops there, without spending the address's slots.
	if t.pair, ok, err = s.claim(ctx, "p|"+l+"|"+addr+"|"+win, pairTries, end); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return refuse()
	}
	if t.addr, ok, err = s.claim(ctx, "a|"+addr+"|"+win, addressTries, end); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return refuse()
	}
	// Account-wide: once accountFailures failed in this window, one try per
	// pace interval, from any address.
	t.failureSlot = "f|" + l + "|" + win
	busy, err := s.store.SlotTaken(ctx, fmt.Sprintf("%s|%d", t.failureSlot, accountFailures))
	if err != nil {
		return nil, err
	}
	if busy {
		step := now.Truncate(pace)
		ok, err := s.store.ClaimSlot(ctx, fmt.Sprintf("s|%s|%d", l, step.Unix()), end)
		if err != nil {
			return nil, err
		}
		if !ok {
			if err := s.release(ctx, t.pair, t.addr); err != nil {
				return nil, err
			}
			return nil, &ThrottledError{Wait: step.Add(pace).Sub(now)}
		}
	}
	return t, nil
}

// Failed keeps the try's slots (they count until the window ends) and
// counts the failure against the account.
func (t *LoginTry) Failed(ctx context.Context) error {
	defer t.done()
	_, _, err := t.s.claim(ctx, t.failureSlot, accountFailures, t.end)
	return err
}

// Succeeded gives the try's slots back: a right password costs nothing.
func (t *LoginTry) Succeeded(ctx context.Context) error {
	defer t.done()
	return t.s.release(ctx, t.pair, t.addr)
}

// SecondFactor: the password was right and the code is still to come. The
// (account, address) slot stays taken, so someone with the password alone
// gets at most pairTries pending sessions per window (each CodeTries codes).
func (t *LoginTry) SecondFactor(ctx context.Context) error {
	defer t.done()
	return t.s.release(ctx, t.addr)
}

// Abandon gives the slots back of a try that was not checked.
func (t *LoginTry) Abandon(ctx context.Context) error {
	defer t.done()
	return t.s.release(ctx, t.pair, t.addr)
}

// Window is the key of the try's window, for grouping audit rows.
func (t *LoginTry) Window() string { return t.win }

// BeginCode claims one of the CodeTries code checks of a pending session
// (its id), counting before the code is checked. last says this is the
// final one: a wrong code then ends the session.
func (s *Service) BeginCode(ctx context.Context, sessionID string, expires time.Time) (last bool, err error) {
	sl, ok, err := s.claim(ctx, "m|"+sessionID, CodeTries, expires)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, &ThrottledError{Wait: 0}
	}
	return sl.n == CodeTries, nil
}

// CodeFailed counts a wrong code against the account, as a wrong password.
func (s *Service) CodeFailed(ctx context.Context, login string) error {
	win, end := s.window(s.clock())
	_, _, err := s.claim(ctx, "f|"+loginKey(login)+"|"+win, accountFailures, end)
	return err
}

// SweepThrottles removes the slots of ended windows and this process's
// hints about them.
func (s *Service) SweepThrottles(ctx context.Context) (int64, error) {
	now := s.clock()
	win, _ := s.window(now)
	s.hints.forget(win)
	return s.store.DeleteExpiredSlots(ctx, now)
}

// ThrottleWindow names the current window (for audit rows of refusals).
func (s *Service) ThrottleWindow() string {
	win, _ := s.window(s.clock())
	return win
}
