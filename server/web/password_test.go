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

// TestPasswordStrengthRefusals: the password page shows its rules before
// anything is typed and refuses password123, the person's own name and the
// company's name with the reason in the reader's language, changing
// nothing; a passphrase is taken.
func TestPasswordStrengthRefusals(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_COMPANY_NAME": "Acme Trading"})
	ctx := context.Background()
	const pw = "correct horse battery"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "zhang.wei", Name: "Zhang Wei", Password: pw}); err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, "zhang.wei", pw)
	for _, c := range []struct {
		lang, rules, guessable, personal string
	}{
		{model.LangZH, "至少 8 个字符", "太容易被猜到", "你自己的姓名、登录名、邮箱或公司名称"},
		{model.LangEN, "At least 8 characters", "too easy to guess", "your own name, login, email or company name"},
	} {
		cl.useLang(t, p.Base, c.lang)
		if st, body := cl.get(t, p.Base+"/password"); st != http.StatusOK || !strings.Contains(body, `id="password-rules"`) ||
			!strings.Contains(body, c.rules) || !strings.Contains(body, `aria-describedby="password-rules"`) {
			t.Errorf("%s: the rules are not shown before typing: %d", c.lang, st)
		}
		for next, want := range map[string]string{"password123": c.guessable, "zhangwei2024": c.personal, "AcmeTrading2026": c.personal} {
			st, body := cl.post(t, p.Base+"/password", url.Values{"current": {pw}, "new": {next}, "confirm": {next}})
			if st != http.StatusUnprocessableEntity || !strings.Contains(errorLine(body), want) {
				t.Errorf("%s %q: %d %s", c.lang, next, st, errorLine(body))
			}
		}
	}
	p.Store.DropCaches()
	if u, err := p.Auth.UserByLogin(ctx, "zhang.wei"); err != nil || !auth.VerifyPassword(u.PasswordHash, pw) {
		t.Fatalf("a refused password was stored: %v", err)
	}
	const next = "Blue-Tea-Kettle-Moon-42"
	if st, body := cl.post(t, p.Base+"/password", url.Values{"current": {pw}, "new": {next}, "confirm": {next}}); st != http.StatusSeeOther {
		t.Fatalf("a passphrase: %d %s", st, errorLine(body))
	}
}

// TestBrowserPasswordPage: the password page, the first login's (no
// current password asked) and the ordinary one with a refusal, passes axe
// and fits 375 and 1280 px in both languages.
func TestBrowserPasswordPage(t *testing.T) {
	needChromium(t)
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	for _, lang := range []string{model.LangZH, model.LangEN} {
		t.Run(lang, func(t *testing.T) {
			for _, nu := range []auth.NewUser{{Login: "new-" + lang, Name: "新人", Password: firstPass, MustChangePassword: true},
				{Login: "old-" + lang, Name: "老员工", Password: firstPass}} {
				if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
					t.Fatal(err)
				}
			}
			b := newBrowser(t, p.Base)
			b.acceptLanguage(lang)
			b.login("new-" + lang)
			b.wantPath("/password")
			b.wantNone("#current")
			b.axeAtWidths("password-first-" + lang)
			b.submit(`form[action="/logout"] button`, 200)

			b.login("old-" + lang)
			b.open("/password")
			b.typeInto("#current", firstPass)
			b.typeInto("#new", "password123")
			b.typeInto("#confirm", "password123")
			b.submit(`form[action="/password"] button[type="submit"]`, 422)
			b.wait("p.error")
			if key := rawKey.FindString(b.text("main")); key != "" {
				b.fail("the password page shows the raw key %q", key)
			}
			b.axeAtWidths("password-refused-" + lang)
			// The account menu open, the password page marked in it.
			b.click("#account-menu summary")
			b.wait(`#account-menu a[href="/password"][aria-current="page"]`)
			b.axeAtWidths("account-menu-" + lang)
		})
	}
}

// TestAccountMenuAndCurrentPage: the header's account menu leads to the
// password, two-step, certificate and token pages, and the header marks
// the page one is on (aria-current="page"), one link at a time.
func TestAccountMenuAndCurrentPage(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_EMPLOYEE_TOKENS": "on"})
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "emp", Name: "李娜", Password: firstPass}); err != nil {
		t.Fatal(err)
	}
	cl := newCaller(t, p.Base, "emp", firstPass)
	for _, lang := range []string{model.LangZH, model.LangEN} {
		cl.useLang(t, p.Base, lang)
		for path, link := range map[string]string{
			"/": "/", "/lessons/dress": "/", "/receipts": "/receipts", "/notifications": "/notifications",
			"/password": "/password", "/mfa/setup": "/mfa/setup", "/tokens": "/tokens", "/certificate": "/certificate",
		} {
			_, body := cl.get(t, p.Base+path)
			header, _, _ := strings.Cut(body, "</header>")
			for _, l := range []string{"/password", "/mfa/setup", "/certificate", "/tokens"} {
				if !strings.Contains(header, `href="`+l+`"`) {
					t.Errorf("%s %s: the account menu has no %s", lang, path, l)
				}
			}
			if n := strings.Count(header, `aria-current="page"`); n != 1 || !strings.Contains(header, `href="`+link+`" aria-current="page"`) &&
				!strings.Contains(header, `href="`+link+`" class="bell" id="bell" aria-current="page"`) {
				t.Errorf("%s %s: %d marked links, want %s marked", lang, path, n, link)
			}
		}
	}
}
