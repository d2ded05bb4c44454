package web_test

import (
	"context"
	"html"
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

// TestHRPersonEmail: the account form reads and shows the email; a bad
// address is refused with the field's message and stores nothing; the
// account page links to the person's training record, which HR may open.
func TestHRPersonEmail(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "people email password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)

	st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"li.na"}, "name": {"李娜"}, "roles": {"employee"}, "email": {"not an address"}})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "不是 name@example.com 这样的地址") || !strings.Contains(body, `value="not an address"`) {
		t.Fatalf("a bad email: %d\n%s", st, body)
	}
	if _, err := p.Store.UserByLogin(ctx, "li.na"); err == nil {
		t.Fatal("a refused form stored the account")
	}
	if st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"li.na"}, "name": {"李娜"}, "roles": {"employee"}, "email": {" li.na@example.com "}}); st != http.StatusOK {
		t.Fatalf("create: %d\n%s", st, body)
	}
	if u, err := p.Store.UserByLogin(ctx, "li.na"); err != nil || u.Email != "li.na@example.com" {
		t.Fatalf("stored: %+v %v", u, err)
	}
	st, body = hr.post(t, p.Base+"/hr/people/li.na", url.Values{"name": {"李娜"}, "roles": {"employee"}, "email": {"na.li@example.com"}})
	if st != http.StatusSeeOther {
		t.Fatalf("update: %d\n%s", st, body)
	}
	st, body = hr.get(t, p.Base+"/hr/people/li.na")
	if st != http.StatusOK || !strings.Contains(body, `name="email" type="email" value="na.li@example.com"`) {
		t.Fatalf("the account page: %d\n%s", st, body)
	}
	if !strings.Contains(body, `<a href="/people/li.na">培训记录</a>`) {
		t.Fatalf("no link to the training record:\n%s", body)
	}
	if st, body := hr.get(t, p.Base+"/people/li.na"); st != http.StatusOK || !strings.Contains(body, "李娜") {
		t.Fatalf("the training record: %d\n%s", st, body)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/li.na", url.Values{"name": {"李娜"}, "roles": {"employee"}, "email": {"@bad"}}); st != http.StatusUnprocessableEntity {
		t.Fatalf("a bad email on update: %d", st)
	}
	if u, _ := p.Store.UserByLogin(ctx, "li.na"); u.Email != "na.li@example.com" {
		t.Fatalf("a refused update changed the email to %q", u.Email)
	}
}

// TestHRImportFile: the template downloads as a CSV with the import's
// header and an example row in the reader's language, which the import
// itself accepts; a chosen file is previewed (its text in the box, so
// the confirmation imports what was seen), with its email; a file that is
// not UTF-8 is refused with a clear message and stores nothing.
func TestHRImportFile(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	res, err := hr.c.Get(p.Base + "/hr/people/import/template.csv")
	if err != nil {
		t.Fatal(err)
	}
	tpl, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(tpl), "\ufefflogin,name,roles,department,manager,hired,email,mobile,wecom_id,dingtalk_id\n") ||
		!strings.Contains(string(tpl), "zhang.wei,张伟,employee,前台,li.na,2026-03-01,zhang.wei@example.com,") {
		t.Fatalf("the template: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), tpl)
	}
	if _, body := hr.get(t, p.Base+"/hr/people/import"); !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, `href="/hr/people/import/template.csv"`) {
		t.Fatal("the import page has no file field or template link")
	}

	// The template's own example, as a file: previewed, then imported.
	csvText := strings.Replace(string(tpl), ",li.na,", ",hr,", 1) // a manager who exists
	st, body := hr.postFile(t, p.Base+"/hr/people/import", url.Values{"do": {"preview"}}, "file", "people.csv", csvText)
	if st != http.StatusOK || !strings.Contains(body, "zhang.wei") || !strings.Contains(body, "zhang.wei@example.com") {
		t.Fatalf("the file's preview: %d\n%s", st, body)
	}
	if _, err := p.Store.UserByLogin(ctx, "zhang.wei"); err == nil {
		t.Fatal("the preview stored the account")
	}
	st, body = hr.postFile(t, p.Base+"/hr/people/import", url.Values{"do": {"confirm"}}, "file", "people.csv", csvText)
	if st != http.StatusOK {
		t.Fatalf("the file's import: %d\n%s", st, body)
	}
	u, err := p.Store.UserByLogin(ctx, "zhang.wei")
	if err != nil || u.Email != "zhang.wei@example.com" || u.Department != "前台" || u.Name != "张伟" {
		t.Fatalf("imported: %+v %v", u, err)
	}

	// Not UTF-8 (GBK bytes): refused, nothing stored.
	gbk := "login,name\nwang.fang,\xcd\xf5\xb7\xbc\n"
	st, body = hr.postFile(t, p.Base+"/hr/people/import", url.Values{"do": {"confirm"}}, "file", "people.csv", gbk)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "不是 UTF-8 编码的 CSV") {
		t.Fatalf("a GBK file: %d\n%s", st, body)
	}
	if _, err := p.Store.UserByLogin(ctx, "wang.fang"); err == nil {
		t.Fatal("a refused file stored an account")
	}

	// In English, the example row is in English; the header is the same.
	hr.useLang(t, p.Base, model.LangEN)
	_, en := hr.get(t, p.Base+"/hr/people/import/template.csv")
	if !strings.Contains(en, "login,name,roles,department,manager,hired,email") || !strings.Contains(en, "zhang.wei,Zhang Wei,employee,Front desk,") {
		t.Fatalf("the English template:\n%s", en)
	}
}

// TestHRPersonNewValues: the account form offers the departments and
// managers in use as lists; a value no one has yet is asked about first,
// naming it and storing nothing, and the confirmation carries the whole
// form (every role included) to the save.
func TestHRPersonNewValues(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	for _, nu := range []auth.NewUser{
		{Login: "boss", Name: "王经理", Roles: []string{model.RoleManager}, Department: "前台"},
		{Login: "emp", Name: "员工", Department: "客房", Manager: "boss"},
	} {
		nu.Password = "new values password"
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	_, form := hr.get(t, p.Base+"/hr/people/new")
	for _, want := range []string{`list="departments"`, `<option value="前台"></option>`, `<option value="客房"></option>`,
		`list="managers"`, `<option value="boss">王经理</option>`} {
		if !strings.Contains(form, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(form, `<option value="emp">`) {
		t.Error("the form offers someone who manages no one as a manager")
	}

	// Values in use: saved at once.
	if st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"a.one"}, "name": {"甲"}, "roles": {"employee"}, "department": {"前台"}, "manager": {"boss"}}); st != http.StatusOK || !oneTime.MatchString(body) {
		t.Fatalf("known values: %d\n%s", st, body)
	}
	// A new department and manager: asked first, nothing stored.
	st, body := hr.post(t, p.Base+"/hr/people", url.Values{"login": {"b.two"}, "name": {"乙"}, "roles": {"employee", "manager"},
		"department": {"前厅"}, "manager": {"bos"}, "email": {"b.two@example.com"}})
	if st != http.StatusOK || !strings.Contains(body, "部门：前厅（新）") || !strings.Contains(body, "直属经理：bos（新）") || oneTime.MatchString(body) {
		t.Fatalf("new values: %d\n%s", st, body)
	}
	if _, err := p.Store.UserByLogin(ctx, "b.two"); err == nil {
		t.Fatal("the question stored the account")
	}
	// The confirmation posts the carried fields again, with confirm=1.
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		if m[1] != "_csrf" {
			fields.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	if fields.Get("confirm") != "1" || fields.Get("roles") != "employee,manager" {
		t.Fatalf("the confirmation carries %v", fields)
	}
	if st, body := hr.post(t, p.Base+"/hr/people", fields); st != http.StatusOK || !oneTime.MatchString(body) {
		t.Fatalf("confirmed: %d\n%s", st, body)
	}
	u, err := p.Store.UserByLogin(ctx, "b.two")
	if err != nil || u.Department != "前厅" || u.Manager != "bos" || u.Email != "b.two@example.com" || strings.Join(u.Roles, ",") != "employee,manager" {
		t.Fatalf("stored: %+v %v", u, err)
	}
	// An edit to a new department asks too; the person's page is the way back.
	st, body = hr.post(t, p.Base+"/hr/people/emp", url.Values{"name": {"员工"}, "roles": {"employee"}, "department": {"厨房"}})
	if st != http.StatusOK || !strings.Contains(body, "部门：厨房（新）") || !strings.Contains(body, `href="/hr/people/emp"`) {
		t.Fatalf("edit to a new department: %d\n%s", st, body)
	}
	if u, _ := p.Store.UserByLogin(ctx, "emp"); u.Department != "客房" {
		t.Fatalf("the question changed the department to %q", u.Department)
	}
}
