package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// failOverHTTP starts the quiz of slug over the API and submits a wrong
// option for every question.
func failOverHTTP(t *testing.T, p *testkit.Portal, client *http.Client, tok, slug string) {
	t.Helper()
	st, a, err := call(client, p.Base, tok, "POST", "/lessons/"+slug+"/attempts", map[string]any{})
	if err != nil || st != http.StatusCreated {
		t.Fatalf("start %s: %d %v %v", slug, st, a, err)
	}
	q, err := p.Training.Quiz(context.Background(), slug, 1)
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string][]string{}
	for _, x := range a["questions"].([]any) {
		id := x.(map[string]any)["id"].(string)
		qq, _ := q.Question(id)
		opts := x.(map[string]any)["options"].([]any)
		answers[id] = []string{opts[0].(map[string]any)["id"].(string)} // of several keyed, one alone is wrong too
		for _, o := range opts {
			if oid := o.(map[string]any)["id"].(string); !slices.Contains(qq.Answer, oid) {
				answers[id] = []string{oid}
				break
			}
		}
	}
	st, res, err := call(client, p.Base, tok, "POST", fmt.Sprintf("/attempts/%s/submit", a["id"]), map[string]any{"answers": answers})
	if err != nil || st != http.StatusOK || res["passed"] != false {
		t.Fatalf("submit %s wrong: %d %v %v", slug, st, res, err)
	}
}

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
	a.WaitStarted(t) // or the start-up check may repair the loss made below
	if _, pending, err := a.Store.ProgressPending(ctx); err != nil || !pending {
		t.Fatalf("after the submits, the marker of progress in memory: %v %v, want stored", pending, err)
	}
	// What a kill leaves, whenever it strikes: the attempts and results
	// stored, their progress not (written, then removed here, so the test
	// does not depend on when the writer's timer fires), the marker still
	// there, and no clean stop.
	if err := a.Store.FlushProgress(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.Database.Collection("progress").DeleteOne(ctx, bson.M{"_id": u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Close(ctx); err != nil {
		t.Fatal(err)
	}
	a.Stop() // its database already gone: nothing more is written

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
