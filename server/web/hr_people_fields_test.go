package web_test

import (
	"context"
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
