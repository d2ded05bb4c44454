package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// asked is what the database was asked between two counts of
// metrics.DBCommands, as "command collection ×n".
func asked(before, after map[string]uint64) []string {
	var out []string
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			out = append(out, fmt.Sprintf("%s ×%d", k, d))
		}
	}
	slices.Sort(out)
	return out
}

// waitLoaded waits for the start's load of users, sessions, tokens and
// receipts (storage.LoadKept), then for the other jobs at start (quiet).
func waitLoaded(t *testing.T, p *testkit.Portal) map[string]uint64 {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(p.LogText(), "users and sessions loaded"); {
		if time.Now().After(deadline) {
			t.Fatal("users and sessions not loaded a minute after start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return quiet(t, p)
}

// The first visit after a restart of a lesson page, done (it links the
// receipt) and not done (there is none: known without a read), and of its
// API twin by cookie and by token asks the database nothing: at start this
// process, the embedded database's only writer, loaded users, sessions,
// tokens and the receipts' index.
func TestFirstVisitAfterRestartAsksNothing(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	const pw = "first visit test password"
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "first.visit", Name: "首访", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	r := testkit.Complete(t, p.Training, u, "dress")
	tok, _, err := p.Auth.CreateToken(ctx, nil, u, auth.TokenSpec{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, u.Login, pw)
	// Used once: a token unused for a minute is touched (a write) at its use.
	if st, body := bearer(t, p.Base, tok, "/me"); st != http.StatusOK {
		t.Fatalf("the token: %d %s", st, body)
	}
	p.Stop()

	p = testkit.Start(t, dir, io.Discard)
	before := waitLoaded(t, p)
	if _, page := cl.get(t, p.Base+"/lessons/dress"); !strings.Contains(page, "/receipts/"+r.ID) {
		t.Errorf("the done lesson's page does not link its receipt %s", r.ID)
	}
	if _, page := cl.get(t, p.Base+"/lessons/grooming"); strings.Contains(page, "/receipts/") {
		t.Error("a lesson not signed links a receipt")
	}
	if got := cl.call(t, http.MethodGet, p.Base+"/api/v1/lessons/dress"); got != http.StatusOK {
		t.Errorf("the lesson API by cookie: %d", got)
	}
	if st, body := bearer(t, p.Base, tok, "/lessons/dress"); st != http.StatusOK {
		t.Errorf("the lesson API by token: %d %s", st, body)
	}
	after, err := p.Metrics.DBCommands()
	if err != nil {
		t.Fatal(err)
	}
	if a := asked(before, after); len(a) > 0 {
		t.Errorf("the first visit after a restart asked the database: %s", strings.Join(a, ", "))
	}
}

// What the lesson page and the API hold in memory follows what this
// process writes: a new receipt shows on the page at once, a revoked
// token is refused at its next use, and a publish that asks for a new
// acknowledgement takes the receipt's link off.
func TestKeptCopiesFollowWrites(t *testing.T) {
	ctx := context.Background()
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	const pw = "kept copies test password"
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "kept.copies", Name: "副本", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	tok, made, err := p.Auth.CreateToken(ctx, nil, u, auth.TokenSpec{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, u.Login, pw)
	waitLoaded(t, p)

	// Held before the write: the page without a receipt, the token.
	if _, page := cl.get(t, p.Base+"/lessons/dress"); strings.Contains(page, "/receipts/") {
		t.Fatal("a lesson not signed links a receipt")
	}
	if st, body := bearer(t, p.Base, tok, "/lessons/dress"); st != http.StatusOK {
		t.Fatalf("the lesson API by token: %d %s", st, body)
	}
	r := testkit.Complete(t, p.Training, u, "dress")
	if _, page := cl.get(t, p.Base+"/lessons/dress"); !strings.Contains(page, "/receipts/"+r.ID) {
		t.Errorf("after signing, the lesson page does not link the new receipt %s", r.ID)
	}
	if _, page := cl.get(t, p.Base+"/lessons/dress/done"); !strings.Contains(page, "/receipts/"+r.ID) {
		t.Errorf("after signing, the done page does not link the new receipt %s", r.ID)
	}

	// A new version that asks for a new acknowledgement: the page asks
	// again and links no receipt, until the new version is signed.
	testkit.PublishChange(t, p.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "工牌应端正佩戴在左胸前。", model.LangEN: "Wear the badge straight on the left of your chest.",
	})
	if _, page := cl.get(t, p.Base+"/lessons/dress"); strings.Contains(page, "/receipts/") {
		t.Error("after a publish asking for a new acknowledgement, the page still links a receipt")
	}
	r2 := testkit.Complete(t, p.Training, u, "dress")
	if r2.ID == r.ID || r2.Version != r.Version+1 {
		t.Fatalf("the new acknowledgement: %+v after %+v", r2, r)
	}
	if _, page := cl.get(t, p.Base+"/lessons/dress"); !strings.Contains(page, "/receipts/"+r2.ID) {
		t.Errorf("after signing the new version, the page does not link its receipt %s", r2.ID)
	}

	if _, err := p.Auth.RevokeToken(ctx, nil, made.Ref(), "test"); err != nil {
		t.Fatal(err)
	}
	if st, body := bearer(t, p.Base, tok, "/lessons/dress"); st != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d %s, want 401", st, body)
	}
}
