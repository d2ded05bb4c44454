package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// syncPortal starts a portal with an HR account and a users:write token.
func syncPortal(t *testing.T) (*testkit.Portal, string) {
	t.Helper()
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "sync review password"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "sync", Scopes: []string{auth.ScopeUsersWrite, auth.ScopeUsersRead, auth.ScopeAuditRead}})
	if err != nil {
		t.Fatal(err)
	}
	return p, tok
}

// call sends body (JSON unless ctype says otherwise) and decodes the answer.
func call(t *testing.T, p *testkit.Portal, tok, method, path, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, p.Base+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestSyncKeepsContacts: the chat ids a sync sends, as JSON or as CSV
// columns, are stored as POST /users stores them.
func TestSyncKeepsContacts(t *testing.T) {
	p, tok := syncPortal(t)
	st, out := call(t, p, tok, "POST", "/users/sync", "application/json",
		`{"users":[{"login":"zhang.san","name":"张三","mobile":"13800000001","wecom_id":"ZhangSan"}]}`)
	if st != 200 || out["created"] != 1.0 {
		t.Fatalf("JSON sync: %d %v", st, out)
	}
	if st, u := call(t, p, tok, "GET", "/users/zhang.san", "", ""); st != 200 || u["mobile"] != "13800000001" || u["wecom_id"] != "ZhangSan" {
		t.Errorf("contacts of a JSON sync: %d %v", st, u)
	}
	st, out = call(t, p, tok, "POST", "/users/sync", "text/csv",
		"login,name,mobile,wecom_id,dingtalk_id\nzhang.san,张三,13800000002,ZhangSan,zs-ding\nli.si,李四,13800000003,,\n")
	if st != 200 || out["created"] != 1.0 || out["updated"] != 1.0 {
		t.Fatalf("CSV sync: %d %v", st, out)
	}
	if _, u := call(t, p, tok, "GET", "/users/zhang.san", "", ""); u["mobile"] != "13800000002" || u["dingtalk_id"] != "zs-ding" {
		t.Errorf("contacts of a CSV sync, updated: %v", u)
	}
	if _, u := call(t, p, tok, "GET", "/users/li.si", "", ""); u["mobile"] != "13800000003" {
		t.Errorf("contacts of a CSV sync, created: %v", u)
	}
	// A bad mobile number is the row's field error, nothing stored.
	_, out = call(t, p, tok, "POST", "/users/sync", "application/json", `{"users":[{"login":"li.si","name":"李四","mobile":"call me"}]}`)
	if res := out["results"].([]any)[0].(map[string]any); res["status"] != "invalid" || res["error"].(map[string]any)["field"] != "mobile" {
		t.Errorf("a bad mobile in a sync: %v", out)
	}
}

// TestSyncEmptyListDeactivatesNobody: deactivate_missing with an empty
// list (an HR system's failed export) is refused, not a company-wide
// lock-out.
func TestSyncEmptyListDeactivatesNobody(t *testing.T) {
	p, tok := syncPortal(t)
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "staff", Name: "员工", Password: "sync review password"}); err != nil {
		t.Fatal(err)
	}
	if st, out := call(t, p, tok, "POST", "/users/sync", "application/json", `{"users":[],"deactivate_missing":true}`); st != 422 || errField(out) != "users" {
		t.Errorf("empty JSON list: %d %v", st, out)
	}
	if st, out := call(t, p, tok, "POST", "/users/sync?deactivate_missing=true", "text/csv", "login,name\n"); st != 422 || errField(out) != "users" {
		t.Errorf("header-only CSV: %d %v", st, out)
	}
	if _, u := call(t, p, tok, "GET", "/users/staff", "", ""); u["active"] != true {
		t.Errorf("staff was turned off: %v", u)
	}
	// Without deactivate_missing an empty list is harmless, and says so.
	if st, out := call(t, p, tok, "POST", "/users/sync", "application/json", `{"users":[]}`); st != 200 || out["deactivated"] != 0.0 {
		t.Errorf("empty list alone: %d %v", st, out)
	}
}

func errField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// TestSyncTokenUseIsAudited: a sync with a write scope leaves its
// token.use line, like every other write (the sync's own longer deadline
// must not cancel the context the audit is written with).
func TestSyncTokenUseIsAudited(t *testing.T) {
	p, tok := syncPortal(t)
	if st, out := call(t, p, tok, "POST", "/users/sync", "application/json", `{"users":[{"login":"wang.wu","name":"王五"}]}`); st != 200 {
		t.Fatalf("sync: %d %v", st, out)
	}
	req, _ := http.NewRequest("GET", p.Base+"/api/v1/audit?action=token.use", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"detail":"POST /api/v1/users/sync -\u003e 200`) {
		t.Errorf("no token.use line for the sync:\n%s", body)
	}
	if strings.Contains(p.LogText(), "audit not recorded") {
		t.Errorf("an audit line was lost:\n%s", p.LogText())
	}
}
