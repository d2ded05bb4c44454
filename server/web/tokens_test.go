package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

var tokenRef = regexp.MustCompile(`<code>([0-9a-f]{12})</code>`)

// bearer GETs an API path with a token and returns the status and body.
func bearer(t *testing.T, base, tok, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// TestTokenPages: a person makes a personal token on /tokens (shown once,
// stored as a hash, never beyond their roles), sees its last use, and
// revokes it (then 401); nobody revokes another's token from their page;
// an admin makes an integration token for an HR account at /admin/tokens
// with chosen scopes and an expiry, and revokes anyone's. Forms need CSRF.
func TestTokenPages(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_EMPLOYEE_TOKENS": "on"})
	ctx := context.Background()
	const pw = "token test password"
	for _, nu := range []auth.NewUser{
		{Login: "emp", Name: "员工"},
		{Login: "other", Name: "别人"},
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		{Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
	} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	emp := newCaller(t, p.Base, "emp", pw)

	// Beyond the roles: refused, nothing stored.
	st, body := emp.post(t, p.Base+"/tokens", url.Values{"name": {"mine"}, "scope": {"reports:read"}, "expires": {"30d"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "范围") {
		t.Fatalf("a scope beyond the roles: %d", st)
	}
	// Without CSRF: refused.
	res, err := emp.c.PostForm(p.Base+"/tokens", url.Values{"name": {"mine"}, "scope": {"learner"}, "expires": {"30d"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}
	if ts, _ := p.Auth.Tokens(ctx, nil); len(ts) != 0 {
		t.Fatalf("refused forms stored tokens: %v", ts)
	}

	st, body = emp.post(t, p.Base+"/tokens", url.Values{"name": {"我的脚本"}, "scope": {"learner"}, "expires": {"30d"}})
	m := oneTime.FindStringSubmatch(body)
	if st != http.StatusOK || m == nil {
		t.Fatalf("create: %d", st)
	}
	tok := m[1]
	if st, _ := bearer(t, p.Base, tok, "/me/lessons"); st != http.StatusOK {
		t.Fatalf("the new token: %d", st)
	}
	ts, _ := p.Auth.Tokens(ctx, nil)
	if len(ts) != 1 || ts[0].ID == tok || strings.Contains(ts[0].ID, tok) || ts[0].Expires.IsZero() || ts[0].LastUsed.IsZero() {
		t.Fatalf("stored: %+v", ts)
	}
	// The list shows it, used, and never the token again.
	_, body = emp.get(t, p.Base+"/tokens")
	if strings.Contains(body, tok) || !strings.Contains(body, ts[0].Ref()) || !strings.Contains(body, "我的脚本") || strings.Contains(body, "从未使用") {
		t.Errorf("the list: %s", body)
	}
	// Scopes are said in words, in the form and on the token's row.
	if !strings.Contains(body, `<code title="以本人身份学习：查看课程、参加测验、签字确认">learner</code>`) {
		t.Errorf("the token's scope is not described: %s", body)
	}
	root := newCaller(t, p.Base, "root", pw)
	if _, body := root.get(t, p.Base+"/admin/tokens"); !strings.Contains(body, "新增、修改、停用人员，批量操作") || !strings.Contains(body, "供身份提供方（SCIM 2.0）同步人员") {
		t.Errorf("the admin's scopes are not described: %s", body)
	}
	// Another person cannot revoke it.
	other := newCaller(t, p.Base, "other", pw)
	if st, _ := other.post(t, p.Base+"/tokens/"+ts[0].Ref()+"/revoke", url.Values{}); st != http.StatusNotFound {
		t.Errorf("another's revoke: %d", st)
	}
	// The first post asks, naming the token, and revokes nothing.
	if st, body := emp.post(t, p.Base+"/tokens/"+ts[0].Ref()+"/revoke", url.Values{}); st != http.StatusOK ||
		!strings.Contains(body, `id="confirm-yes"`) || !strings.Contains(body, "我的脚本") || !strings.Contains(body, `name="confirm" value="1"`) {
		t.Errorf("revoke asks first: %d %s", st, body)
	}
	if st, _ := bearer(t, p.Base, tok, "/me"); st != http.StatusOK {
		t.Errorf("the token after the question only: %d", st)
	}
	if st, _ := emp.post(t, p.Base+"/tokens/"+ts[0].Ref()+"/revoke", url.Values{"confirm": {"1"}}); st != http.StatusSeeOther {
		t.Errorf("revoke: %d", st)
	}
	if st, body := bearer(t, p.Base, tok, "/me"); st != http.StatusUnauthorized || !strings.Contains(body, "token_revoked") {
		t.Errorf("a revoked token: %d %s", st, body)
	}

	// An admin's integration token acts as the HR account, within scopes.
	st, body = root.post(t, p.Base+"/admin/tokens", url.Values{"name": {"HR sync"}, "login": {"hr"},
		"scope": {"users:read", "users:write"}, "expires": {"90d"}})
	m = oneTime.FindStringSubmatch(body)
	if st != http.StatusOK || m == nil {
		t.Fatalf("admin create: %d", st)
	}
	hrTok := m[1]
	if st, _ := bearer(t, p.Base, hrTok, "/users"); st != http.StatusOK {
		t.Errorf("integration token on users: %d", st)
	}
	if st, body := bearer(t, p.Base, hrTok, "/reports/organisation"); st != http.StatusForbidden || !strings.Contains(body, "reports:read") {
		t.Errorf("integration token beyond its scopes: %d %s", st, body)
	}
	if st, _ := root.post(t, p.Base+"/admin/tokens", url.Values{"name": {"x"}, "login": {"nobody"}, "scope": {"learner"}, "expires": {"30d"}}); st != http.StatusUnprocessableEntity {
		t.Errorf("for nobody: %d", st)
	}
	_, body = root.get(t, p.Base+"/admin/tokens")
	refs := tokenRef.FindAllStringSubmatch(body, -1)
	if len(refs) != 2 || !strings.Contains(body, ">hr<") || !strings.Contains(body, ">emp<") {
		t.Fatalf("the admin list: %v", refs)
	}
	hrTokens, _ := p.Auth.Tokens(ctx, &model.User{ID: userID(t, p, "hr")})
	if st, _ := root.post(t, p.Base+"/admin/tokens/"+hrTokens[0].Ref()+"/revoke", url.Values{"confirm": {"1"}}); st != http.StatusSeeOther {
		t.Errorf("admin revoke: %d", st)
	}
	if st, _ := bearer(t, p.Base, hrTok, "/users"); st != http.StatusUnauthorized {
		t.Errorf("a revoked integration token: %d", st)
	}
	// Creating and revoking are audited, with ids, never the tokens.
	entries, err := p.Audit.Search(ctx, auditFilter("token."), 100)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
		if strings.Contains(e.Detail, tok) || strings.Contains(e.Detail, hrTok) {
			t.Errorf("a token in the audit log: %+v", e)
		}
	}
	if actions["token.create"] != 2 || actions["token.revoke"] != 2 {
		t.Errorf("audited: %v", actions)
	}
}

func userID(t *testing.T, p *testkit.Portal, login string) string {
	t.Helper()
	u, err := p.Auth.UserByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func auditFilter(action string) model.AuditFilter { return model.AuditFilter{Action: action} }

// TestHRImportOfManyPeople: HR's CSV import of hundreds of new people (a
// password hash each, longer than the 4 s request deadline) completes.
func TestHRImportOfManyPeople(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	const pw = "import test password"
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)
	hr.c.Timeout = 3 * time.Minute
	const n = 200
	var csv strings.Builder
	csv.WriteString("login,name,department\n")
	for i := range n {
		fmt.Fprintf(&csv, "p%04d,员工%04d,客服部\n", i, i)
	}
	st, body := hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {csv.String()}, "do": {"confirm"}})
	if st != http.StatusOK || strings.Count(body, `<td class="invited">`) != n || strings.Contains(body, `class="code"`) {
		t.Fatalf("import: %d, %d invited", st, strings.Count(body, `<td class="invited">`))
	}
}

// TestEmployeeTokensOff: by default someone who is only an employee has no
// API tokens: no menu link, the page and the form answer 403 saying why,
// nothing is stored; a manager still has them.
func TestEmployeeTokensOff(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "token test password"
	for _, nu := range []auth.NewUser{{Login: "emp", Name: "员工"}, {Login: "mgr", Name: "经理", Roles: []string{model.RoleManager}}} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	emp := newCaller(t, p.Base, "emp", pw)
	if _, home := emp.get(t, p.Base+"/"); strings.Contains(home, `href="/tokens"`) {
		t.Error("an employee's menu links to API tokens while they are off")
	}
	if st, body := emp.get(t, p.Base+"/tokens"); st != http.StatusForbidden || !strings.Contains(body, "管理员未开放普通员工创建 API 令牌") {
		t.Errorf("the tokens page for an employee: %d", st)
	}
	if st, _ := emp.post(t, p.Base+"/tokens", url.Values{"name": {"mine"}, "scope": {"learner"}, "expires": {"30d"}}); st != http.StatusForbidden {
		t.Errorf("an employee's token form: %d", st)
	}
	if ts, _ := p.Auth.Tokens(ctx, nil); len(ts) != 0 {
		t.Fatalf("a refused form stored tokens: %v", ts)
	}
	mgr := newCaller(t, p.Base, "mgr", pw)
	if _, home := mgr.get(t, p.Base+"/"); !strings.Contains(home, `href="/tokens"`) {
		t.Error("a manager's menu has no API tokens")
	}
	if st, _ := mgr.get(t, p.Base+"/tokens"); st != http.StatusOK {
		t.Errorf("the tokens page for a manager: %d", st)
	}
}
