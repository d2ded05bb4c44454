package web_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

const metricsToken = "a metrics token for the test"

// scrape reads /metrics with the given headers; it returns the status and
// the body.
func scrape(t *testing.T, base string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// sample is the value of the series name whose labels include every
// label given ("k=\"v\""), summed over the series that match; 0 if none.
func sample(body, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(body, "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if f, err := strconv.ParseFloat(value, 64); err == nil && match {
			sum += f
		}
	}
	return sum
}

// The counters move as people use the portal: requests by route pattern
// (never the raw path), database commands, sessions, attempts, passes,
// receipts and reminders. Only loopback peers without X-Forwarded-For, or
// the token, may read them.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_METRICS_TOKEN": metricsToken})
	status, before := scrape(t, p.Base, nil)
	if status != http.StatusOK || !strings.Contains(before, "# TYPE portal_receipts_total counter") {
		t.Fatalf("scrape from loopback: %d\n%.500s", status, before)
	}

	const pw = "metrics test password"
	emp, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "emp.metrics", Name: "员工", Password: pw, Manager: "hr.metrics"})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr.metrics", Name: "人事", Roles: []string{model.RoleHR}, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Complete(t, p.Training, emp, "dress") // a passed attempt and a receipt
	q, err := p.Training.StartAttempt(ctx, emp, "grooming", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	quiz, err := p.Training.Quiz(ctx, "grooming", q.Version)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Training.Submit(ctx, emp, q.ID, testkit.Answers(quiz, q.Questions, false)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Notify.RemindPerson(ctx, hr, emp.Login, ""); err != nil {
		t.Fatal(err)
	}
	hrAgent := newCaller(t, p.Base, hr.Login, pw) // logs in over HTTP
	// Twice: the second goes through the route's counters kept since the first.
	for range 2 {
		if got := hrAgent.call(t, http.MethodGet, p.Base+"/people/emp.metrics"); got != http.StatusOK {
			t.Fatalf("person page: %d", got)
		}
	}

	_, after := scrape(t, p.Base, nil)
	moved := func(name string, want float64, labels ...string) {
		t.Helper()
		if d := sample(after, name, labels...) - sample(before, name, labels...); d < want {
			t.Errorf("%s%v moved by %v, want at least %v", name, labels, d, want)
		}
	}
	moved("portal_quiz_attempts_total", 1, `result="passed"`)
	moved("portal_quiz_attempts_total", 1, `result="failed"`)
	moved("portal_receipts_total", 1)
	moved("portal_notifications_total", 1, `kind="reminder"`)
	moved("portal_logins_total", 1, `method="password"`, `result="ok"`)
	moved("portal_http_requests_total", 2, `route="/people/:login"`, `method="GET"`, `status="200"`)
	moved("portal_http_request_duration_seconds_count", 1, `route="/login"`, `method="POST"`)
	moved("portal_db_command_duration_seconds_count", 1, `command="insert"`, `collection="receipts"`, `outcome="ok"`)
	moved("portal_db_command_duration_seconds_count", 1, `command="insert"`, `collection="sessions"`) // then kept: no find
	if !strings.Contains(after, "\nportal_progress_held ") {
		t.Error("no portal_progress_held gauge")
	}
	if sample(after, "portal_sessions") < 1 {
		t.Errorf("portal_sessions = %v after a login", sample(after, "portal_sessions"))
	}
	// The gauge is SQLite's count: FerretDB would read every session.
	if n := sample(after, "portal_db_command_duration_seconds_count", `command="count"`, `collection="sessions"`); n != 0 {
		t.Errorf("%v count commands on sessions: the scrape made FerretDB read them all", n)
	}
	if strings.Contains(after, "emp.metrics") {
		t.Error("a raw path (with a login) is a label value")
	}

	// Through a proxy on the same host (X-Forwarded-For), or with a wrong
	// token: refused. With the token: answered.
	for _, h := range []map[string]string{
		{"X-Forwarded-For": "203.0.113.9"},
		{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer not the token"},
	} {
		if status, body := scrape(t, p.Base, h); status != http.StatusForbidden || strings.Contains(body, "portal_") {
			t.Errorf("scrape with %v: %d", h, status)
		}
	}
	if status, body := scrape(t, p.Base, map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer " + metricsToken}); status != http.StatusOK || !strings.Contains(body, "portal_receipts_total 1") {
		t.Errorf("scrape with the token: %d", status)
	}
}
