package web_test

import (
	"context"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// The hot pages and their API twins ask the database nothing once a
// signed-in learner has seen them: this process is the embedded
// database's only writer, so what it holds in memory (session, user,
// progress, lessons, receipts) is true until it writes. Counted by the
// driver's command monitor, over real HTTP.
func TestHotPagesAskNothing(t *testing.T) {
	ctx := context.Background()
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	const pw = "hot pages test password"
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hot.pages", Name: "热页", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	r := testkit.Complete(t, p.Training, u, "dress") // a passed attempt and a receipt
	a, err := p.Training.StartAttempt(ctx, u, "grooming", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Training.Quiz(ctx, "grooming", a.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Training.Submit(ctx, u, a.ID, testkit.Answers(q, a.Questions, false)); err != nil {
		t.Fatal(err)
	}
	open, err := p.Training.StartAttempt(ctx, u, "professional-ethics", model.LangZH) // an open quiz
	if err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, u.Login, pw)
	paths := []string{"/", "/lessons/dress", "/lessons/grooming", "/lessons/professional-ethics", "/attempts/" + a.ID, "/attempts/" + open.ID,
		"/receipts", "/receipts/" + r.ID,
		"/api/v1/me", "/api/v1/me/lessons", "/api/v1/lessons/dress", "/api/v1/me/receipts"}
	get := func() {
		t.Helper()
		for _, path := range paths {
			if got := cl.call(t, http.MethodGet, p.Base+path); got != http.StatusOK {
				t.Fatalf("GET %s: %d", path, got)
			}
		}
	}
	get() // the first visit may read what this process has not seen yet
	// Past the time a process that does not own its database believes a
	// copy: what the second visit shows is held, not just recent.
	time.Sleep(storage.AccessCacheTTL)
	before := quiet(t, p)
	get()
	after, err := p.Metrics.DBCommands()
	if err != nil {
		t.Fatal(err)
	}
	if a := asked(before, after); len(a) > 0 {
		t.Errorf("the second visit of %d pages asked the database: %s", len(paths), strings.Join(a, ", "))
	}
}

// After a restart the portal reads every user and session beside serving
// (storage.LoadKept): a person's first page then asks the database nothing
// about either.
func TestRestartLoadsSessions(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	const pw = "restart test password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "restart.one", Name: "重启", Password: pw}); err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, "restart.one", pw) // its cookie works on any port of this host
	p.Stop()

	p = testkit.Start(t, dir, io.Discard)
	before := waitLoaded(t, p)
	if got := cl.call(t, http.MethodGet, p.Base+"/lessons/dress"); got != http.StatusOK {
		t.Fatalf("the lesson page after the restart: %d", got)
	}
	after, err := p.Metrics.DBCommands()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"find sessions", "find users"} {
		if d := after[k] - before[k]; d != 0 {
			t.Errorf("the first page after the restart: %s ×%d", k, d)
		}
	}
}

// quiet waits until the portal's jobs at start (the progress check, the
// reports' and the users' loads) are done: no database command for a
// while. The counts are the process's, so a job's reads would count as
// the page's. It returns the counts then.
func quiet(t *testing.T, p *testkit.Portal) map[string]uint64 {
	t.Helper()
	counts := func() map[string]uint64 {
		c, err := p.Metrics.DBCommands()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	last := counts()
	for deadline := time.Now().Add(time.Minute); ; {
		time.Sleep(300 * time.Millisecond)
		now := counts()
		if maps.Equal(now, last) {
			return now
		}
		if time.Now().After(deadline) {
			t.Fatal("the portal still asks the database a minute after start")
		}
		last = now
	}
}
