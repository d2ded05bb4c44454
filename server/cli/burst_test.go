package cli_test

// The bursts an outside probe sent at the sign-in: many tries at once, each
// counted before it is checked. They run on the embedded database; with
// PORTAL_TEST_MONGODB_URI set (make test-burst-postgres starts FerretDB on
// PostgreSQL for it) they run against that server instead, each test in a
// database of its own.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/testkit"
)

// startBurstPortal starts a portal that believes X-Forwarded-For from
// loopback, so one test can speak from many addresses.
func startBurstPortal(t *testing.T) *testkit.Portal {
	t.Helper()
	env := map[string]string{"PORTAL_TRUSTED_PROXIES": "127.0.0.1",
		"PORTAL_SECRET_KEY": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}
	if uri := os.Getenv("PORTAL_TEST_MONGODB_URI"); uri != "" {
		// A database of the test's own on that server: the URI's path names
		// it (the host may be a socket path, which url.Parse refuses).
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		host, after, _ := strings.Cut(strings.TrimPrefix(uri, "mongodb://"), "/")
		_, query, _ := strings.Cut(after, "?")
		uri = "mongodb://" + host + "/burst_" + hex.EncodeToString(b)
		if query != "" {
			uri += "?" + query
		}
		env["MONGODB_URI"] = uri
		t.Logf("database %s", uri)
		// With it the portal indexes _id in PostgreSQL as in production.
		env["PORTAL_POSTGRESQL_URL"] = os.Getenv("PORTAL_TEST_POSTGRESQL_URL")
	}
	return testkit.StartEnv(t, t.TempDir(), io.Discard, env)
}

// client is one browser at one address; safe for use by many goroutines.
type client struct {
	base, addr, csrf string
	c                *http.Client
}

func newClient(t *testing.T, base, addr, page string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &client{base: base, addr: addr, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cl.refresh(t, page)
	return cl
}

// refresh reads the CSRF token of page.
func (cl *client) refresh(t *testing.T, page string) {
	t.Helper()
	st, _, body, err := cl.send(http.MethodGet, page, nil)
	m := csrfRe.FindStringSubmatch(body)
	if err != nil || m == nil {
		t.Fatalf("no CSRF token on %s: %d %v", page, st, err)
	}
	cl.csrf = m[1]
}

func (cl *client) send(method, path string, form url.Values) (int, http.Header, string, error) {
	var body io.Reader
	if form != nil {
		form.Set("_csrf", cl.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, cl.base+path, body)
	if err != nil {
		return 0, nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", cl.addr)
	req.Header.Set("Accept-Language", "en")
	res, err := cl.c.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(raw), nil
}

// tally counts the answers of a burst by status; refusals must say when
// to come back.
type tally struct {
	mu       sync.Mutex
	byStatus map[int]int
	noRetry  int // 429 or 503 without Retry-After
	errs     []error
}

func (ta *tally) add(st int, h http.Header, err error) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	if ta.byStatus == nil {
		ta.byStatus = map[int]int{}
	}
	if err != nil {
		ta.errs = append(ta.errs, err)
		return
	}
	ta.byStatus[st]++
	if (st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		ta.noRetry++
	}
}

// burst runs n tries at once (released together) and tallies them.
func burst(n int, try func(i int) (int, http.Header, error)) *tally {
	ta := &tally{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			st, h, err := try(i)
			ta.add(st, h, err)
		})
	}
	close(start)
	wg.Wait()
	return ta
}

func (ta *tally) check(t *testing.T) {
	t.Helper()
	if len(ta.errs) > 0 {
		t.Fatalf("%d requests failed: %v", len(ta.errs), ta.errs[0])
	}
	if ta.noRetry > 0 {
		t.Errorf("%d refusals without Retry-After", ta.noRetry)
	}
}

func TestBurstWrongPasswords(t *testing.T) {
	p := startBurstPortal(t)
	createUser(t, p, "target", "目标", false)
	cl := newClient(t, p.Base, "203.0.113.10", "/login")
	ta := burst(40, func(i int) (int, http.Header, error) {
		st, h, _, err := cl.send(http.MethodPost, "/login", url.Values{"login": {"target"}, "password": {fmt.Sprintf("wrong guess %d", i)}})
		return st, h, err
	})
	ta.check(t)
	checked, refused := ta.byStatus[http.StatusUnauthorized], ta.byStatus[http.StatusTooManyRequests]+ta.byStatus[http.StatusServiceUnavailable]
	t.Logf("40 parallel wrong passwords: %d checked, %d refused (%v)", checked, refused, ta.byStatus)
	if checked > 5 || checked+refused != 40 {
		t.Fatalf("40 parallel wrong passwords: %d checked, %d refused: at most 5 may be checked", checked, refused)
	}

	ta0 := ta
	// 59 wrong and 1 right at once, from a fresh address and for a fresh
	// account: still at most five are checked.
	createUser(t, p, "target2", "目标二", false)
	cl2 := newClient(t, p.Base, "203.0.113.11", "/login")
	ta = burst(60, func(i int) (int, http.Header, error) {
		pw := fmt.Sprintf("wrong guess %d", i)
		if i == 30 {
			pw = "correct horse battery"
		}
		st, h, _, err := cl2.send(http.MethodPost, "/login", url.Values{"login": {"target2"}, "password": {pw}})
		return st, h, err
	})
	ta.check(t)
	checked = ta.byStatus[http.StatusUnauthorized] + ta.byStatus[http.StatusSeeOther]
	refused = ta.byStatus[http.StatusTooManyRequests] + ta.byStatus[http.StatusServiceUnavailable]
	t.Logf("59 wrong + 1 right in parallel: %d checked (%d signed in), %d refused (%v)", checked, ta.byStatus[http.StatusSeeOther], refused, ta.byStatus)
	if checked > 5 || checked+refused != 60 {
		t.Fatalf("59 wrong + 1 right: %v", ta.byStatus)
	}

	// The refusals are in the audit log as one row per key and window,
	// with the count.
	entries, err := p.Store.AuditEntries(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	rows, counted := 0, 0
	for _, e := range entries {
		if e.Actor == "target" && (e.Action == "login.failed" || e.Action == "login.throttled") {
			rows++
			counted += e.Count
		}
	}
	// Tries refused as busy (503) never reached the throttle and are not
	// written anywhere: a burst must not fill the database's write queue.
	want := ta0.byStatus[http.StatusUnauthorized] + ta0.byStatus[http.StatusTooManyRequests]
	if counted != want || rows > 2 {
		t.Fatalf("audit of the first burst: %d rows counting %d tries, want at most 2 rows counting %d", rows, counted, want)
	}
}

// TestBurstWrongPasswordsPastTheGate: with room for every try at once
// (the bound on sign-ins in progress set above the burst), the throttle's
// slots alone decide: five are checked, the rest get 429.
func TestBurstWrongPasswordsPastTheGate(t *testing.T) {
	p := startBurstPortal(t)
	p.Auth.SetSignInSlots(64)
	createUser(t, p, "target", "目标", false)
	cl := newClient(t, p.Base, "203.0.113.12", "/login")
	ta := burst(40, func(i int) (int, http.Header, error) {
		st, h, _, err := cl.send(http.MethodPost, "/login", url.Values{"login": {"target"}, "password": {fmt.Sprintf("wrong guess %d", i)}})
		return st, h, err
	})
	ta.check(t)
	checked, refused := ta.byStatus[http.StatusUnauthorized], ta.byStatus[http.StatusTooManyRequests]
	t.Logf("40 parallel wrong passwords, no bound on sign-ins: %d checked, %d refused (%v)", checked, refused, ta.byStatus)
	if checked != 5 || refused != 35 {
		t.Fatalf("%v: want 5 checked and 35 refused by the throttle", ta.byStatus)
	}
}

func TestBurstWrongCodes(t *testing.T) {
	p := startBurstPortal(t)
	totp := testkit.EnrolSecondFactor(t, p, createUser(t, p, "second", "二次", false))
	cl := newClient(t, p.Base, "203.0.113.20", "/login")
	if st, h, _, err := cl.send(http.MethodPost, "/login", url.Values{"login": {"second"}, "password": {"correct horse battery"}}); err != nil || st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login/mfa") {
		t.Fatalf("password step: %d %v", st, err)
	}
	cl.refresh(t, "/login/mfa")
	right := auth.CodeAt(totp, time.Now())
	ta := burst(40, func(i int) (int, http.Header, error) {
		code := fmt.Sprintf("%06d", i)
		if code == right {
			code = "999999"
		}
		st, h, _, err := cl.send(http.MethodPost, "/login/mfa", url.Values{"code": {code}})
		return st, h, err
	})
	ta.check(t)
	checked := ta.byStatus[http.StatusUnauthorized]
	t.Logf("40 parallel wrong codes on one pending session: %d checked, %d refused (%v)", checked, 40-checked, ta.byStatus)
	if checked > 5 {
		t.Fatalf("40 parallel wrong codes: %d checked, at most 5 may be", checked)
	}
	// The pending session is over: even the right code needs the password again.
	st, h, _, err := cl.send(http.MethodPost, "/login/mfa", url.Values{"code": {right}})
	if err != nil || st == http.StatusSeeOther && h.Get("Location") == "/" {
		t.Fatalf("the right code after five wrong ones signed in: %d %v", st, err)
	}
}

func TestBurstUnknownLoginsWhileReading(t *testing.T) {
	p := startBurstPortal(t)
	createUser(t, p, "reader", "读者", false)
	createUser(t, p, "latecomer", "迟到者", false)
	reader := newClient(t, p.Base, "198.51.100.1", "/login")
	if st, _, _, err := reader.send(http.MethodPost, "/login", url.Values{"login": {"reader"}, "password": {"correct horse battery"}}); err != nil || st != http.StatusSeeOther {
		t.Fatalf("reader login: %d %v", st, err)
	}
	late := newClient(t, p.Base, "198.51.100.2", "/login")

	stop := make(chan struct{})
	reads := &tally{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, h, _, err := reader.send(http.MethodGet, "/lessons/attendance", nil)
			reads.add(st, h, err)
		}
	})
	// A real person signs in in the middle of the burst.
	var lateStatus int
	var lateHeader http.Header
	wg.Go(func() {
		time.Sleep(50 * time.Millisecond) //nolint:forbidigo // lands the sign-in inside the burst; no result depends on it
		lateStatus, lateHeader, _, _ = late.send(http.MethodPost, "/login", url.Values{"login": {"latecomer"}, "password": {"correct horse battery"}})
	})
	ta := burst(150, func(i int) (int, http.Header, error) {
		cl := &client{base: p.Base, addr: fmt.Sprintf("10.9.%d.%d", i/200, i%200+1), csrf: late.csrf, c: late.c}
		st, h, _, err := cl.send(http.MethodPost, "/login", url.Values{"login": {fmt.Sprintf("nobody%d", i)}, "password": {"a wrong password"}})
		return st, h, err
	})
	close(stop)
	wg.Wait()
	ta.check(t)
	reads.check(t)
	checked := ta.byStatus[http.StatusUnauthorized]
	refused := ta.byStatus[http.StatusServiceUnavailable] + ta.byStatus[http.StatusTooManyRequests]
	t.Logf("150 parallel unknown logins: %d checked, %d refused at once (%v); reader: %v; the real sign-in: %d",
		checked, refused, ta.byStatus, reads.byStatus, lateStatus)
	if checked+refused != 150 {
		t.Fatalf("every unknown login must be checked or refused with Retry-After: %v", ta.byStatus)
	}
	if reads.byStatus[http.StatusOK] == 0 || len(reads.byStatus) != 1 {
		t.Fatalf("the signed-in reader's pages failed during the burst: %v", reads.byStatus)
	}
	switch {
	case lateStatus == http.StatusSeeOther:
	case lateStatus == http.StatusServiceUnavailable && lateHeader.Get("Retry-After") != "":
		// Refused at once: the retry after the burst gets in.
		if st, _, _, err := late.send(http.MethodPost, "/login", url.Values{"login": {"latecomer"}, "password": {"correct horse battery"}}); err != nil || st != http.StatusSeeOther {
			t.Fatalf("the real sign-in after the burst: %d %v", st, err)
		}
	default:
		t.Fatalf("a real sign-in during the burst: %d", lateStatus)
	}
}

func TestBurstLockedOutFromAnotherAddress(t *testing.T) {
	p := startBurstPortal(t)
	createUser(t, p, "known", "熟人", false)
	stranger := newClient(t, p.Base, "203.0.113.30", "/login")
	for i := range 6 {
		st, _, _, err := stranger.send(http.MethodPost, "/login", url.Values{"login": {"known"}, "password": {fmt.Sprintf("guess %d", i)}})
		if err != nil || (st != http.StatusUnauthorized && st != http.StatusTooManyRequests) {
			t.Fatalf("stranger's try %d: %d %v", i, st, err)
		}
	}
	st, h, _, err := stranger.send(http.MethodPost, "/login", url.Values{"login": {"known"}, "password": {"correct horse battery"}})
	if err != nil || st != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("the stranger's address after six failures: %d %v", st, err)
	}
	owner := newClient(t, p.Base, "198.51.100.30", "/login")
	st, _, _, err = owner.send(http.MethodPost, "/login", url.Values{"login": {"known"}, "password": {"correct horse battery"}})
	t.Logf("the owner from another address after a stranger's 6 failures: %d", st)
	if err != nil || st != http.StatusSeeOther {
		t.Fatalf("the owner from another address was kept out: %d %v", st, err)
	}
}
