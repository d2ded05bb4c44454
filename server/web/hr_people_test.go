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

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// post sends a form as the caller and returns the status and body.
func (cl *caller) post(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	form.Set("_csrf", cl.csrf)
	res, err := cl.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (cl *caller) get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := cl.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

var oneTime = regexp.MustCompile(`<p class="code onetime">([^<]+)</p>`)

// TestHRPeople: HR creates an account with a one-time password, resets a
// password, deactivates an account (its session ends at once), cannot
// touch admin accounts, and imports a CSV that is previewed with per-row
// errors, writes nothing until confirmed, and is idempotent by login.
// Every step is in the audit log and its CSV export.
func TestHRPeople(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "people test password"
	for _, nu := range []auth.NewUser{
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		{Login: "emp", Name: "员工"},
		{Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
	} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	hr, emp := newCaller(t, p.Base, "hr", pw), newCaller(t, p.Base, "emp", pw)

	// Create: the one-time password is shown once and must be changed.
	st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"new.one"}, "name": {"新人"}, "roles": {"employee"},
		"department": {"前台"}, "manager": {"hr"}, "hired": {"2026-02-01"}, "confirm": {"1"}})
	m := oneTime.FindStringSubmatch(body)
	if st != http.StatusOK || m == nil {
		t.Fatalf("create: %d\n%s", st, body)
	}
	first := newCaller(t, p.Base, "", "")
	if st, _ := first.post(t, p.Base+"/login", url.Values{"login": {"new.one"}, "password": {m[1]}}); st != http.StatusSeeOther {
		t.Fatalf("log in with the one-time password: %d", st)
	}
	if st, _ := first.get(t, p.Base+"/password"); st != http.StatusOK {
		t.Fatalf("the password page: %d", st)
	}
	if st, _ := first.get(t, p.Base+"/"); st != http.StatusSeeOther {
		t.Errorf("a one-time password reached the training page: %d", st)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"new.one"}, "name": {"又一个"}}); st != http.StatusUnprocessableEntity {
		t.Errorf("a taken login: %d", st)
	}
	// Bad input: a message in the reader's language, nothing stored.
	if st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"bad.mobile"}, "name": {"号码错"}, "mobile": {"call me"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "手机号 “callme” 不是有效号码") {
		t.Errorf("a bad mobile number: %d", st)
	}
	if _, err := p.Store.UserByLogin(ctx, "bad.mobile"); err == nil {
		t.Error("a person with a bad mobile number was stored")
	}

	// Reset: a new one-time password; the old session ends.
	st, body = hr.post(t, p.Base+"/hr/people/new.one/password", url.Values{"confirm": {"1"}})
	if st != http.StatusOK || oneTime.FindStringSubmatch(body) == nil {
		t.Fatalf("reset: %d", st)
	}
	if st, _ := first.get(t, p.Base+"/password"); st != http.StatusSeeOther {
		t.Errorf("the session survived a password reset: %d", st)
	}

	// Edit, then deactivate: the employee's open session ends at once.
	if st, _ := hr.post(t, p.Base+"/hr/people/emp", url.Values{"name": {"员工甲"}, "roles": {"employee", "manager"}, "department": {"客房"}, "confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("edit: %d", st)
	}
	if u, _ := p.Store.UserByLogin(ctx, "emp"); u.Name != "员工甲" || u.Department != "客房" || !u.HasRole(model.RoleManager) {
		t.Errorf("edit not stored: %+v", u)
	}
	// Exceptions: a reason is required; an exempt lesson leaves the list.
	if st, body := hr.post(t, p.Base+"/hr/people/emp/exceptions", url.Values{"lesson": {"grooming"}, "kind": {"exempt"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "需要写明原因") {
		t.Fatalf("an exemption without a reason: %d", st)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/emp/exceptions", url.Values{"lesson": {"grooming"}, "kind": {"exempt"}, "reason": {"外包岗位"}}); st != http.StatusSeeOther {
		t.Fatalf("exempt: %d", st)
	}
	if st, body := hr.get(t, p.Base+"/hr/people/emp"); st != http.StatusOK || !strings.Contains(body, "外包岗位") {
		t.Fatalf("the person page shows the exemption: %d", st)
	}
	// The edit gave emp a new role: their session ended with it.
	if st, _ := emp.get(t, p.Base+"/"); st != http.StatusSeeOther {
		t.Fatalf("a role change must end the person's session: %d", st)
	}
	emp = newCaller(t, p.Base, "emp", pw)
	st, body = emp.get(t, p.Base+"/")
	if st != http.StatusOK || strings.Contains(body, `href="/lessons/grooming"`) || !strings.Contains(body, `href="/lessons/dress"`) {
		t.Fatalf("employee before: %d (the exempt lesson must not be listed)", st)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/emp/deactivate", url.Values{"confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", st)
	}
	if st, _ := emp.get(t, p.Base+"/"); st != http.StatusSeeOther {
		t.Errorf("a deactivated account's session still works: %d", st)
	}

	// HR cannot touch an admin account, nor give the admin role.
	if st, _ := hr.post(t, p.Base+"/hr/people/root/password", url.Values{}); st != http.StatusForbidden {
		t.Errorf("HR reset an admin's password: %d", st)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/emp", url.Values{"name": {"员工甲"}, "roles": {"admin"}}); st != http.StatusForbidden {
		t.Errorf("HR gave the admin role: %d", st)
	}

	// Import: errors per row, nothing written; then confirmed; then again.
	count := func() int {
		us, _ := p.Store.Users(ctx)
		return len(us)
	}
	before := count()
	bad := "login,name,roles,department,manager,hired\nzhao,赵一,employee,前台,hr,2026-03-01\nqian,,employee,,,\nsun,孙三,king,,,\nzhao,赵一,employee,,,\n"
	st, body = hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {bad}, "do": {"confirm"}})
	if st != http.StatusUnprocessableEntity || strings.Count(body, `class="import-error"`) != 3 || count() != before {
		t.Fatalf("a CSV with errors: %d, %d error rows, %d users (was %d)\n%s", st, strings.Count(body, `class="import-error"`), count(), before, body)
	}
	for _, want := range []string{"请填写姓名", "未知角色 “king”", "账号 “zhao” 在第 2 行已经出现过"} {
		if !strings.Contains(body, want) {
			t.Errorf("the import's errors are not in the reader's language: %q missing", want)
		}
	}
	good := "login,name,roles,department,manager,hired\nzhao,赵一,employee,前台,hr,2026-03-01\nqian,钱二,employee;manager,客房,,\nemp,员工甲,employee;manager,餐饮,,\n"
	st, body = hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {good}, "do": {"preview"}})
	if st != http.StatusOK || count() != before || !strings.Contains(body, `class="import-create"`) || !strings.Contains(body, `class="import-update"`) {
		t.Fatalf("preview: %d, %d users\n%s", st, count(), body)
	}
	st, body = hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {good}, "do": {"confirm"}})
	// New people get no password: an invitation (no mail server here, so
	// the page says it was not delivered).
	if st != http.StatusOK || count() != before+2 || strings.Count(body, `<td class="invited">未送达</td>`) != 2 {
		t.Fatalf("confirm: %d, %d users\n%s", st, count(), body)
	}
	if u, _ := p.Store.UserByLogin(ctx, "zhao"); u.PasswordHash != "" || u.Invitation == "" {
		t.Errorf("an imported person: password %t, invitation %q", u.PasswordHash != "", u.Invitation)
	}
	if u, _ := p.Store.UserByLogin(ctx, "emp"); u.Department != "餐饮" {
		t.Errorf("the import did not update emp: %+v", u)
	}
	st, body = hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {good}, "do": {"confirm"}})
	if st != http.StatusOK || count() != before+2 || !strings.Contains(body, "新建 0 个账号，更新 0 个账号。") {
		t.Fatalf("the same import again: %d, %d users", st, count())
	}

	// The audit log has it all, filterable and exportable.
	st, body = hr.get(t, p.Base+"/hr/audit?actor=hr&action=user.")
	for _, want := range []string{"<td>创建账号</td>", "<td>重置密码</td>", "<td>修改账号</td>", "<td>停用账号</td>", "<td>导入人员（CSV）</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page (%d) lacks %s", st, want)
		}
	}
	if strings.Contains(body, "<td>登录</td>") {
		t.Error("the filter let other actions through")
	}
	st, body = hr.get(t, p.Base+"/hr/audit.csv?action=user.deactivate")
	if st != http.StatusOK || !strings.HasPrefix(body, "at,actor,action,target,detail,client,count\n") || strings.Count(body, "\n") != 2 || !strings.Contains(body, ",hr,user.deactivate,emp,") {
		t.Errorf("the export: %d\n%s", st, body)
	}
}

// TestHRPeopleSearch: HR's people list shows 50 people a page by login
// with a link to the next, and a search narrows it, in either language.
func TestHRPeopleSearch(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "people test password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	var users []model.User
	for i := range 70 {
		users = append(users, model.User{ID: fmt.Sprintf("id-%03d", i), Login: fmt.Sprintf("p%03d", i), Name: fmt.Sprintf("员工%03d", i),
			Roles: []string{model.RoleEmployee}, Department: []string{"前台", "客房"}[i%2], Active: true})
	}
	if err := p.Store.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)
	row := regexp.MustCompile(`<td><a href="/hr/people/([^"]+)">`)
	logins := func(body string) []string {
		var out []string
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	next := regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next" id="people-next">`)
	st, body := hr.get(t, p.Base+"/hr/people")
	first := logins(body)
	if st != http.StatusOK || len(first) != 50 || first[0] != "admin" {
		t.Fatalf("first page: %d %v", st, first)
	}
	m := next.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to the next page")
	}
	_, body = hr.get(t, p.Base+strings.ReplaceAll(m[1], "&amp;", "&"))
	if second := logins(body); len(second) != 22 || second[0] != "p048" || next.MatchString(body) {
		t.Errorf("second page: %v", second)
	}
	_, body = hr.get(t, p.Base+"/hr/people?q="+url.QueryEscape("客房 员工06"))
	if got := strings.Join(logins(body), ","); got != "p061,p063,p065,p067,p069" {
		t.Errorf("search: %s", got)
	}
	_, body = hr.get(t, p.Base+"/hr/people?q=nobody")
	if len(logins(body)) != 0 || !strings.Contains(body, "没有找到人员") {
		t.Errorf("a search that finds nobody: %.300s", body)
	}
}
