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

	"conductportal/server/quiz"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// passOverHTTP starts and passes the quiz of slug over the API; it returns
// the keys of the questions graded.
func passOverHTTP(t *testing.T, p *testkit.Portal, client *http.Client, tok, slug string) []string {
	t.Helper()
	return answerOverHTTP(t, p, client, tok, slug, true)
}

// failOverHTTP starts the quiz of slug over the API and submits a wrong
// option for every question.
func failOverHTTP(t *testing.T, p *testkit.Portal, client *http.Client, tok, slug string) {
	t.Helper()
	answerOverHTTP(t, p, client, tok, slug, false)
}

// answerOverHTTP starts the quiz of slug over the API and submits every
// question's answer, right or wrong; the result must be a pass or a fail
// to match. It returns the keys of the questions graded.
func answerOverHTTP(t *testing.T, p *testkit.Portal, client *http.Client, tok, slug string, right bool) []string {
	t.Helper()
	st, a, err := call(client, p.Base, tok, "POST", "/lessons/"+slug+"/attempts", map[string]any{})
	if err != nil || st != http.StatusCreated {
		t.Fatalf("start %s: %d %v %v", slug, st, a, err)
	}
	q, err := p.Training.Quiz(context.Background(), slug, 1)
	if err != nil {
		t.Fatal(err)
	}
	answers, keys := map[string][]string{}, []string(nil)
	for _, x := range a["questions"].([]any) {
		id := x.(map[string]any)["id"].(string)
		qq, _ := q.Question(id)
		keys = append(keys, quiz.ItemKey(slug, qq))
		if right {
			answers[id] = qq.Answer
			continue
		}
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
	if err != nil || st != http.StatusOK || res["passed"] != right {
		t.Fatalf("submit %s (right: %v): %d %v %v", slug, right, st, res, err)
	}
	return keys
}

// crash leaves what a kill leaves, whenever it strikes: what p held in
// memory (flush writes it) not in the database (the documents of filter
// in col removed after the flush, so a test does not depend on when the
// writer's timer fires), the markers still there, and no clean stop.
func crash(t *testing.T, p *testkit.Portal, flush func(context.Context) error, col string, filter bson.M) {
	t.Helper()
	ctx := context.Background()
	p.WaitStarted(t) // or the start-up check may repair the loss made here
	if err := flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DB.Database.Collection(col).DeleteMany(ctx, filter); err != nil {
		t.Fatal(err)
	}
	if err := p.DB.Close(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stop() // its database already gone: nothing more is written
}

// The item statistics are summed in memory and written later; a process
// that dies with sums not yet written loses none of them: the next start
// finds the marker stored before the first sum and rebuilds the statistics
// from the graded attempts. A clean stop writes them and needs no rebuild.
func TestItemStatsSurviveACrash(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	client := &http.Client{Timeout: 30 * time.Second}
	a := startPortal(t, dir, io.Discard)
	u := createUser(t, a, "lu.yan", "陆燕", false)
	tok := tokenFor(t, a, u)
	slugs := []string{"dress", "grooming", "attendance"}
	keys, perAttempt := map[string][]string{}, map[string]int{}
	for _, slug := range slugs {
		keys[slug] = passOverHTTP(t, a, client, tok, slug)
		perAttempt[slug] = len(keys[slug])
	}
	if pending, err := a.Store.ItemStatsPending(ctx); err != nil || !pending {
		t.Fatalf("after grading, the marker of sums in memory: %v %v, want true", pending, err)
	}
	// The sums of the graded attempts lost.
	crash(t, a, a.Store.FlushItemStats, "item_stats", bson.M{})

	b := startPortal(t, dir, io.Discard)
	if !strings.Contains(b.LogText(), "item statistics rebuilt") {
		t.Fatalf("the start after a crash did not rebuild the item statistics; log:\n%s", b.LogText())
	}
	// Each lesson's count, and the answers counted on its questions: every
	// graded attempt's, once (want attempts of a questions each).
	checkStats := func(p *testkit.Portal, want int) {
		t.Helper()
		for _, slug := range slugs {
			tally, err := p.Store.LessonTally(ctx, slug)
			if err != nil || tally.Attempts != want || tally.Passed != want {
				t.Fatalf("%s: %+v %v, want %d graded and passed", slug, tally, err, want)
			}
			stats, err := p.Store.ItemStats(ctx, keys[slug])
			if err != nil {
				t.Fatal(err)
			}
			answered, right := 0, 0
			for _, st := range stats {
				answered, right = answered+st.N, right+st.Right
			}
			if answered != want*perAttempt[slug] || right != answered {
				t.Fatalf("%s: %d answers counted (%d right), want %d, all right", slug, answered, right, want*perAttempt[slug])
			}
		}
	}
	checkStats(b, 1)
	if pending, err := b.Store.ItemStatsPending(ctx); err != nil || pending {
		t.Fatalf("after the rebuild, the marker: %v %v, want gone", pending, err)
	}

	// Graded again, then a clean stop: written at the stop, no rebuild.
	v := createUser(t, b, "qin.hao", "秦浩", false)
	tok = tokenFor(t, b, v)
	for _, slug := range slugs {
		keys[slug] = union(keys[slug], passOverHTTP(t, b, client, tok, slug))
	}
	b.Stop()
	c := startPortal(t, dir, io.Discard)
	if strings.Contains(c.LogText(), "item statistics rebuilt") {
		t.Fatalf("a start after a clean stop rebuilt the item statistics")
	}
	checkStats(c, 2)
}

// union is a's keys and b's, each once.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, k := range b {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}
