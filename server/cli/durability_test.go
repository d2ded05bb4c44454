package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// call is a goroutine-safe API request: it returns errors instead of
// failing the test.
func call(c *http.Client, base, token, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+"/api/v1"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	return res.StatusCode, obj, nil
}

func tokenFor(t *testing.T, p *testkit.Portal, u *model.User) string {
	t.Helper()
	tok, _, err := p.Auth.CreateToken(context.Background(), nil, u, auth.TokenSpec{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// passQuiz passes the current quiz of slug as u, through the service.
func passQuiz(t *testing.T, p *testkit.Portal, u *model.User, slug string) {
	t.Helper()
	ctx := context.Background()
	a, err := p.Training.StartAttempt(ctx, u, slug, model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := p.Training.Quiz(ctx, slug, a.Version)
	if got, _, err := p.Training.Submit(ctx, u, a.ID, testkit.Answers(q, a.Questions, true)); err != nil || !got.Passed {
		t.Fatalf("pass %s: %v %v", slug, got, err)
	}
}

// TestExactlyOnceOverHTTP: racing requests over real HTTP give one receipt
// and one graded result, every caller is told about that one, and two
// users signing at once keep both chains whole.
func TestExactlyOnceOverHTTP(t *testing.T) {
	p := startPortal(t, t.TempDir(), io.Discard)
	ctx := context.Background()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	u := createUser(t, p, "xu.lin", "徐琳", false)
	tok := tokenFor(t, p, u)
	passQuiz(t, p, u, "dress")

	// 50 acknowledgements of one version at once.
	const acks = 50
	var wg sync.WaitGroup
	ids := make([]string, acks)
	errs := make([]error, acks)
	for i := range acks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, rec, err := call(client, p.Base, tok, "POST", "/lessons/dress/acknowledgements", map[string]any{"version": 1, "signature": "徐琳"})
			if err == nil && st != http.StatusCreated {
				err = fmt.Errorf("status %d: %v", st, rec)
			}
			errs[i] = err
			if rec != nil {
				ids[i], _ = rec["id"].(string)
			}
		}()
	}
	wg.Wait()
	for i := range acks {
		if errs[i] != nil || ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("acknowledgement %d: %v, receipt %q (first %q)", i, errs[i], ids[i], ids[0])
		}
	}
	rs, err := p.Store.UserReceipts(ctx, u.ID)
	if err != nil || len(rs) != 1 || rs[0].ID != ids[0] {
		t.Fatalf("%d receipts stored (%v), want the one named %s", len(rs), err, ids[0])
	}

	// 20 submits of one attempt at once, with different answers: graded once.
	st, at, err := call(client, p.Base, tok, "POST", "/lessons/grooming/attempts", nil)
	if err != nil || st != http.StatusCreated {
		t.Fatalf("attempt: %d %v %v", st, at, err)
	}
	attemptID := at["id"].(string)
	var questions []string
	for _, q := range at["questions"].([]any) {
		questions = append(questions, q.(map[string]any)["id"].(string))
	}
	q, _ := p.Training.Quiz(ctx, "grooming", 1)
	const submits = 20
	scores := make([]string, submits)
	for i := range submits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers := map[string][]string{}
			for _, id := range questions {
				qq, _ := q.Question(id)
				if i%2 == 0 {
					answers[id] = qq.Answer
				} else {
					answers[id] = []string{"nope"}
				}
			}
			st, res, err := call(client, p.Base, tok, "POST", "/attempts/"+attemptID+"/submit", map[string]any{"answers": answers})
			if err != nil || st != http.StatusOK {
				scores[i] = fmt.Sprintf("error %d %v %v", st, res, err)
				return
			}
			scores[i] = fmt.Sprintf("score=%v passed=%v", res["score"], res["passed"])
		}()
	}
	wg.Wait()
	for i := range submits {
		if scores[i] != scores[0] || strings.HasPrefix(scores[i], "error") {
			t.Fatalf("submit %d answered %q, submit 0 %q", i, scores[i], scores[0])
		}
	}
	stored, err := p.Store.Attempt(ctx, attemptID)
	if err != nil || !stored.Submitted || fmt.Sprintf("score=%v passed=%v", float64(stored.Score), stored.Passed) != scores[0] {
		t.Fatalf("stored result %+v (%v) differs from the answers %q", stored, err, scores[0])
	}
	prog, _ := p.Store.Progress(ctx, u.ID)
	if lp := prog.Lessons["grooming"]; lp.Attempts != 1 || (lp.PassVersion == 1) != stored.Passed {
		t.Fatalf("progress after the race: %+v", lp)
	}

	// Two users signing four lessons each, every request three times, all at once.
	lessons := []string{"attendance", "deportment", "customer-reception", "professional-ethics"}
	users := []*model.User{createUser(t, p, "gao.yan", "高燕", false), createUser(t, p, "lu.wei", "陆伟", false)}
	tokens := map[string]string{}
	for _, v := range users {
		tokens[v.ID] = tokenFor(t, p, v)
		for _, slug := range lessons {
			passQuiz(t, p, v, slug)
		}
	}
	var failures sync.Map
	for _, v := range users {
		for _, slug := range lessons {
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					st, rec, err := call(client, p.Base, tokens[v.ID], "POST", "/lessons/"+slug+"/acknowledgements", map[string]any{"version": 1, "signature": v.Name})
					if err != nil || st != http.StatusCreated {
						failures.Store(v.Login+" "+slug, fmt.Sprintf("%d %v %v", st, rec, err))
					}
				}()
			}
		}
	}
	wg.Wait()
	failures.Range(func(k, v any) bool {
		t.Errorf("acknowledge %s: %s", k, v)
		return true
	})
	for _, v := range users {
		if rs, _ := p.Store.UserReceipts(ctx, v.ID); len(rs) != len(lessons) {
			t.Fatalf("%s has %d receipts, want %d", v.Login, len(rs), len(lessons))
		}
	}
	rep, err := p.Training.Verify(ctx)
	if err != nil || len(rep.Problems) > 0 || rep.Receipts != 1+2*len(lessons) {
		t.Fatalf("verify after the races: %v %+v", err, rep)
	}
}

// TestDatabaseOutage: with the database stopped, pages and the API answer
// 503 with a clear message instead of hanging, /readyz fails and /healthz
// does not; when it returns, the portal serves again without a restart.
func TestDatabaseOutage(t *testing.T) {
	p := startPortal(t, t.TempDir(), io.Discard)
	u := createUser(t, p, "tang.li", "唐丽", false)
	tok := tokenFor(t, p, u)
	b := newBrowser(t, p.Base)
	expect(t, b.post("/login", "/login", url.Values{"login": {"tang.li"}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
	expect(t, b.get("/"), http.StatusOK, "")

	p.DB.StopEmbedded()
	// A generous client timeout: the portal's own deadline is 4 s.
	client := &http.Client{Timeout: 15 * time.Second}
	timed := func(what string, f func() int) int {
		start := time.Now()
		st := f()
		t.Logf("%s during the outage: %d after %s", what, st, time.Since(start).Round(time.Millisecond))
		return st
	}
	if st := timed("API", func() int {
		st, obj, err := call(client, p.Base, tok, "GET", "/me/lessons", nil)
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := obj["error"].(map[string]any); e["code"] != "unavailable" || !strings.Contains(e["message"].(string), "database") {
			t.Errorf("API error during the outage: %v", obj)
		}
		return st
	}); st != http.StatusServiceUnavailable {
		t.Fatalf("API during the outage: %d", st)
	}
	b.c.Timeout = 15 * time.Second
	// The page is kept in memory (storage's copies of a sole writer): it is
	// refused once the API's failure has been confirmed by a ping (outage.go),
	// which may take the ping's 2 s; until then it is served as it was.
	var page answer
	for until := time.Now().Add(10 * time.Second); ; {
		timed("page", func() int { page = b.get("/"); return page.status })
		if page.status == http.StatusServiceUnavailable || time.Now().After(until) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if page.status != http.StatusServiceUnavailable || !strings.Contains(page.body, "数据库暂时无法访问") {
		t.Fatalf("page during the outage: %d %.400s", page.status, page.body)
	}
	if st := timed("write", func() int {
		st, _, err := call(client, p.Base, tok, "POST", "/lessons/dress/read", nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}); st != http.StatusServiceUnavailable {
		t.Fatalf("write during the outage: %d", st)
	}
	if res, err := client.Get(p.Base + "/readyz"); err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz during the outage: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if res, err := client.Get(p.Base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz during the outage: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	if err := p.DB.StartEmbedded(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := client.Get(p.Base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal did not recover: %v %v", res, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Requests may still meet the tail of the outage for a moment.
	var st int
	for range 50 {
		if st, _, _ = call(client, p.Base, tok, "POST", "/lessons/dress/read", nil); st == http.StatusOK {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st != http.StatusOK {
		t.Fatalf("write after the database returned: %d", st)
	}
	expect(t, b.get("/"), http.StatusOK, "")
	prog, err := p.Store.Progress(context.Background(), u.ID)
	if err != nil || prog.Lessons["dress"].ReadVersion != 1 {
		t.Fatalf("progress after recovery: %+v %v", prog, err)
	}
}

// TestGracefulStop: stopping under load lets the requests in flight
// finish (none fails with a 5xx, every one answered 2xx is stored) and
// refuses new connections.
func TestGracefulStop(t *testing.T) {
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	const workers = 12
	tokens := make([]string, workers)
	for i := range tokens {
		tokens[i] = tokenFor(t, p, createUser(t, p, fmt.Sprintf("load.%d", i), fmt.Sprintf("负载%d", i), false))
	}
	var (
		mu       sync.Mutex
		answered = map[int]int{}
		stored   []string // attempt ids answered 201
		wg       sync.WaitGroup
		started  = make(chan struct{}, workers)
	)
	slugs := []string{"dress", "grooming", "attendance", "deportment", "customer-reception", "professional-ethics"}
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 30 * time.Second}
			for n := 0; ; n++ {
				slug := slugs[n%len(slugs)]
				path, method := "/lessons/"+slug+"/read", "POST"
				if n%2 == 1 {
					path = "/lessons/" + slug + "/attempts"
				}
				st, obj, err := call(c, p.Base, tokens[i], method, path, nil)
				if n == 3 {
					started <- struct{}{}
				}
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						return // stopped
					}
					continue // a keep-alive connection closed under us: not an answer
				}
				mu.Lock()
				answered[st]++
				if st == http.StatusCreated {
					stored = append(stored, obj["id"].(string))
				}
				mu.Unlock()
			}
		}()
	}
	for range workers {
		<-started
	}
	p.Stop()
	wg.Wait()
	if _, err := http.Get(p.Base + "/healthz"); err == nil {
		t.Fatal("the stopped portal still answers")
	}
	t.Logf("answers while stopping: %v", answered)
	for st, n := range answered {
		if st >= 500 {
			t.Errorf("%d answers with status %d while stopping", n, st)
		}
	}
	if answered[http.StatusOK] == 0 || len(stored) == 0 {
		t.Fatalf("no load was served: %v", answered)
	}
	p2 := startPortal(t, dir, io.Discard)
	for _, id := range stored {
		if _, err := p2.Store.Attempt(context.Background(), id); err != nil {
			t.Errorf("attempt %s was answered 201 but is not stored: %v", id, err)
		}
	}
}
