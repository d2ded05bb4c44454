package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/testkit"
)

// TestIntegrationFromCSV is the README's "API" section tried as a new
// integrator would: with the server stopped, make an HR service account
// and a scoped, expiring token for it on the console; start the portal;
// sync people from a CSV file through the API (twice: the second changes
// nothing); let some of them complete a lesson; pull the team's
// completion report; stream the receipts; see a scope the token lacks
// refused by name; stop the portal, list and revoke the token on the
// console, and see it refused.
func TestIntegrationFromCSV(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	p.Stop()

	code, out, errOut := runCLI(t, dir, "user", "add", "--login", "hr.sync", "--name", "人事系统", "--role", "hr")
	if code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, dir, "token", "create", "--login", "hr.sync", "--name", "HR system",
		"--scope", "users:write,reports:read,receipts:read", "--expires", "30d")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "cp_") {
		t.Fatalf("token create: %d %q %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, dir, "token", "create", "--login", "hr.sync", "--scope", "users:fly"); code == 0 || !strings.Contains(errOut, "unknown scope") {
		t.Errorf("an unknown scope: %d %s", code, errOut)
	}

	p = testkit.Start(t, dir, io.Discard)
	csvFile := filepath.Join(t.TempDir(), "people.csv")
	const people = "login,name,roles,department,manager,hired\n" +
		"wang.qiang,王强,manager,客服部,,2025-06-01\n" +
		"li.na,李娜,employee,客服部,wang.qiang,2026-11-01\n" +
		"zhao.lei,赵雷,employee,客服部,wang.qiang,2026-11-02\n" +
		"sun.li,孙丽,employee,客服部,wang.qiang,2026-11-03\n"
	if err := os.WriteFile(csvFile, []byte("\ufeff"+people), 0o600); err != nil {
		t.Fatal(err)
	}
	api := func(method, path, ctype string, body io.Reader) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, p.Base+"/api/v1"+path, body)
		req.Header.Set("Authorization", "Bearer "+tok)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	type syncAnswer struct {
		Created, Updated, Unchanged, Invalid int
		Results                              []struct{ Login, Status string }
	}
	sync := func() syncAnswer {
		t.Helper()
		f, err := os.Open(csvFile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, body := api("POST", "/users/sync", "text/csv", f)
		var a syncAnswer
		if st != http.StatusOK || json.Unmarshal(body, &a) != nil {
			t.Fatalf("sync: %d %s", st, body)
		}
		return a
	}
	if a := sync(); a.Created != 4 || a.Invalid != 0 {
		t.Fatalf("first sync: %+v", a)
	}
	if a := sync(); a.Created != 0 || a.Unchanged != 4 {
		t.Fatalf("second sync: %+v", a)
	}

	// Two of the three employees finish the dress code.
	ctx := context.Background()
	for _, login := range []string{"li.na", "zhao.lei"} {
		u, err := p.Auth.UserByLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		testkit.Complete(t, p.Training, u, "dress")
	}

	st, body := api("GET", "/reports/team?manager=wang.qiang&lesson=dress", "", nil)
	var team struct {
		Rows []struct {
			Login   string
			Percent int
		}
		Totals []struct {
			Lesson         string
			Assigned, Done int
		}
	}
	if st != http.StatusOK || json.Unmarshal(body, &team) != nil || len(team.Rows) != 3 {
		t.Fatalf("team report: %d %s", st, body)
	}
	var dress struct{ Assigned, Done int }
	for _, tot := range team.Totals {
		if tot.Lesson == "dress" {
			dress.Assigned, dress.Done = tot.Assigned, tot.Done
		}
	}
	if dress.Assigned != 3 || dress.Done != 2 {
		t.Errorf("dress completion: %+v in %s", dress, body)
	}

	// The receipts, streamed: one JSON object a line.
	req, _ := http.NewRequest("GET", p.Base+"/api/v1/receipts?lesson=dress&since="+time.Now().UTC().Format(time.DateOnly), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "application/x-ndjson" {
		t.Fatalf("receipts: %d %s", res.StatusCode, ct)
	}
	signed := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var r struct{ Login, Lesson, Hash string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Lesson != "dress" || r.Hash == "" {
			t.Errorf("receipt line %q: %v", sc.Text(), err)
		}
		signed[r.Login] = true
	}
	res.Body.Close()
	if len(signed) != 2 || !signed["li.na"] || !signed["zhao.lei"] {
		t.Errorf("receipts streamed for %v", signed)
	}

	// A scope the token lacks is named.
	if st, body := api("GET", "/audit", "", nil); st != http.StatusForbidden || !strings.Contains(string(body), `"scope":"audit:read"`) {
		t.Errorf("audit without the scope: %d %s", st, body)
	}
	p.Stop()

	// On the console: the token is listed with its scopes and last use, and revoked.
	code, out, _ = runCLI(t, dir, "token", "list")
	if code != 0 || !strings.Contains(out, "hr.sync") || !strings.Contains(out, "users:write,reports:read,receipts:read") || !strings.Contains(out, "active") {
		t.Fatalf("token list: %d\n%s", code, out)
	}
	var ref string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "HR system") {
			ref = strings.Fields(line)[0]
		}
	}
	if code, out, errOut := runCLI(t, dir, "token", "revoke", ref); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke %q: %d %s %s", ref, code, out, errOut)
	}
	p = testkit.Start(t, dir, io.Discard)
	if st, body := api("GET", "/users", "", nil); st != http.StatusUnauthorized || !strings.Contains(string(body), "token_revoked") {
		t.Errorf("after revoke: %d %s", st, body)
	}
}
