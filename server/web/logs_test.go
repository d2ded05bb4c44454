package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// With PORTAL_LOG_FORMAT=json every log line is a JSON object; every line
// logged while answering a request carries that request's id, which the
// X-Request-Id header gives; and the log names people by id only: no
// login, name or email of theirs appears, even when paths hold them.
func TestLogsJSONRequestIDsNoPersonalData(t *testing.T) {
	ctx := context.Background()
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{
		"PORTAL_LOG_FORMAT": "json",
		// A provider that cannot be reached: starting a sign-on logs a
		// warning in the middle of a request.
		"PORTAL_OIDC_ISSUER": "http://127.0.0.1:1", "PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET": "secret",
	})
	const pw = "a log test password"
	person, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "li.na.private", Name: "李娜隐私", Email: "lina.private@example.com", Password: pw, Manager: "hr.logs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr.logs", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}

	ids := map[string]string{} // request id -> what the request was
	b := newAgent(t)
	do := func(method, path string, form url.Values) *http.Response {
		b.hops = nil
		res, _ := b.do(method, p.Base+path, form)
		id := res.Header.Get("X-Request-Id")
		if len(id) != 16 {
			t.Fatalf("%s %s: X-Request-Id %q", method, path, id)
		}
		ids[id] = method + " " + path
		return res
	}
	_, page := b.do(http.MethodGet, p.Base+"/login", nil)
	csrf := csrfRe.FindStringSubmatch(page)[1]
	// A wrong password for the person, then HR logs in and opens their pages.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Jar: b.c.Jar}
	b.c = client
	do(http.MethodPost, "/login", url.Values{"_csrf": {csrf}, "login": {"li.na.private"}, "password": {"wrong password"}})
	do(http.MethodPost, "/login", url.Values{"_csrf": {csrf}, "login": {"hr.logs"}, "password": {pw}})
	do(http.MethodGet, "/people/li.na.private", nil)
	do(http.MethodGet, "/hr/people/li.na.private", nil)
	do(http.MethodGet, "/people/li.na.private/nothing-here", nil)
	start := do(http.MethodGet, "/auth/oidc/start", nil)
	if start.StatusCode != http.StatusBadGateway {
		t.Fatalf("sign-on with the provider down: %d", start.StatusCode)
	}
	p.Stop()

	lines := strings.Split(strings.TrimSpace(p.LogText()), "\n")
	perRequest := map[string][]string{}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		msg, _ := rec["msg"].(string)
		if id, ok := rec["request_id"].(string); ok {
			perRequest[id] = append(perRequest[id], msg)
			continue
		}
		// Lines without a request id come from starting, stopping and the
		// background jobs, never from a request.
		switch msg {
		case "starting", "ready", "lesson published", "content imported", "progress matches the events", "audit log loaded", "single sign-on", "directory loaded", "users and sessions loaded", "report cache loaded", "start-up jobs done", "memory limit", "stopping", "schema step applied", "schema",
			"PORTAL_SECRET_KEY unset: a key for stored secrets was created; back it up with the data",
			"PORTAL_SIGNING_KEY unset: a key that signs the receipt checkpoints was created; keep a copy and its public key away from this machine",
			"first start: an administrator account was created; its one-time password is in the file (delete it after the first login)":
		default:
			t.Errorf("a line without request_id: %s", line)
		}
	}
	for id, what := range ids {
		if got := perRequest[id]; len(got) == 0 || got[len(got)-1] != "request" {
			t.Errorf("%s (%s): lines %q, want the access line last", what, id, got)
		}
	}
	startID := start.Header.Get("X-Request-Id")
	if got := perRequest[startID]; len(got) != 2 || got[0] != "sign-on provider unreachable" {
		t.Errorf("the sign-on request's lines: %q", got)
	}
	logged := p.LogText()
	for _, private := range []string{"li.na.private", "李娜隐私", "lina.private@example.com", "hr.logs"} {
		if strings.Contains(logged, private) {
			t.Errorf("the log holds %q", private)
		}
	}
	if !strings.Contains(logged, `"user":"`+person.ID+`"`) && !strings.Contains(logged, `"route":"/people/:login"`) {
		t.Errorf("the access log names neither user ids nor routes:\n%s", logged)
	}
}
