package cli_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The progress that quiz starts and submits make is held in memory and
// written behind; a process killed before writing it loses nothing it
// answered: the next start finds the marker stored before the first change
// was held and moves progress forward from the attempts and results, before
// serving. A clean stop writes everything and needs no recovery.
func TestProgressSurvivesACrash(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	client := &http.Client{Timeout: 30 * time.Second}
	a := startPortal(t, dir, io.Discard)
	u := createUser(t, a, "he.ping", "何平", false)
	tok := tokenFor(t, a, u)
	passOverHTTP(t, a, client, tok, "dress")
	passOverHTTP(t, a, client, tok, "grooming")
	failOverHTTP(t, a, client, tok, "attendance")
	if _, pending, err := a.Store.ProgressPending(ctx); err != nil || !pending {
		t.Fatalf("after the submits, the marker of progress in memory: %v %v, want stored", pending, err)
	}
	// The attempts and results stored, their progress lost.
	crash(t, a, a.Store.FlushProgress, "progress", bson.M{"_id": u.ID})

	b := startPortal(t, dir, io.Discard)
	if !strings.Contains(b.LogText(), "progress moved forward from the events") {
		t.Fatalf("the start after a crash did not recover progress; log:\n%s", b.LogText())
	}
	check := func(p *testkit.Portal, slug string, pass, fails int) {
		t.Helper()
		var doc model.Progress
		if err := p.DB.Database.Collection("progress").FindOne(ctx, bson.M{"_id": u.ID}).Decode(&doc); err != nil {
			t.Fatalf("%s: no progress stored: %v", slug, err)
		}
		lp := doc.Lessons[slug]
		if lp.PassVersion != pass || lp.Attempts != 1 || lp.Fails[model.FailKey(1)] != fails ||
			lp.LastAttempt.IsZero() || (fails > 0) == lp.LastFailed.IsZero() {
			t.Fatalf("%s: stored %+v, want passed version %d, %d failed", slug, lp, pass, fails)
		}
	}
	check(b, "dress", 1, 0)
	check(b, "grooming", 1, 0)
	check(b, "attendance", 0, 1)
	st, lessons, err := callList(client, b.Base, tok, "/me/lessons")
	if err != nil || st != http.StatusOK {
		t.Fatalf("my lessons: %d %v", st, err)
	}
	for _, l := range lessons {
		if s := l["slug"]; (s == "dress" || s == "grooming") && l["status"] != "quiz_passed" {
			t.Fatalf("after the recovery, %s is %v, want quiz_passed", s, l["status"])
		}
	}
	if _, pending, err := b.Store.ProgressPending(ctx); err != nil || pending {
		t.Fatalf("after the recovery, the marker: %v %v, want gone", pending, err)
	}

	// Passed again, then a clean stop: written at the stop, no recovery.
	passOverHTTP(t, b, client, tok, "deportment")
	b.Stop()
	c := startPortal(t, dir, io.Discard)
	if strings.Contains(c.LogText(), "progress moved forward") {
		t.Fatalf("a start after a clean stop recovered progress; log:\n%s", c.LogText())
	}
	check(c, "deportment", 1, 0)
}
