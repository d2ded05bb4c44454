package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// settingsSecrets are secret values set in the environment of the settings
// tests: the page must show none of them.
var settingsSecrets = map[string]string{
	"PORTAL_OIDC_CLIENT_SECRET": "oidc-client-secret-value-7f3a",
	"PORTAL_METRICS_TOKEN":      "metrics-token-value-91c2d4e5",
	"PORTAL_SECRET_KEY":         "5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a5ec12e7a",
	"PORTAL_SIGNING_KEY":        "c2lnbmluZy1rZXktc2VjcmV0LXZhbHVlLTMyYnl0ZXM=",
}

// TestAdminSettingsPage: an admin sees the effective settings with where
// each came from, in both languages, and never a secret's value (an SMTP
// password, the SSO client secret, the metrics token, the keys); the test
// message reports the mail server's refusal in the admin's language and
// stores nothing but the audit row; without CSRF it is refused. Someone
// who is not an admin gets 403 (and no menu link).
func TestAdminSettingsPage(t *testing.T) {
	mb := testkit.StartSMTP(t)
	// The mailbox offers no AUTH: a URL with a user and password is refused
	// by it, which is the failure the page must report.
	smtpURL := strings.Replace(mb.URL, "smtp://", "smtp://mailer:smtp-password-value-44b1@", 1)
	env := map[string]string{"PORTAL_SMTP_URL": smtpURL, "PORTAL_COMPANY_NAME": "示例公司",
		"PORTAL_OIDC_ISSUER": "http://127.0.0.1:1", "PORTAL_OIDC_CLIENT_ID": "portal-client-id", "PORTAL_MFA_REQUIRED": "manager",
		"PORTAL_TRUSTED_PROXIES": "10.0.0.0/8"}
	for k, v := range settingsSecrets {
		env[k] = v
	}
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, env)
	ctx := context.Background()
	const pw = "settings test password"
	for _, nu := range []auth.NewUser{
		{Login: "root", Name: "管理员", Email: "root@example.com", Roles: []string{model.RoleAdmin}},
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
	} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	root := newCaller(t, p.Base, "root", pw)

	noSecret := func(where, body string) {
		t.Helper()
		for k, v := range settingsSecrets {
			if strings.Contains(body, v) {
				t.Errorf("%s shows %s's value", where, k)
			}
		}
		if strings.Contains(body, "smtp-password-value-44b1") {
			t.Errorf("%s shows the SMTP password", where)
		}
	}
	row := func(body, key string) string {
		t.Helper()
		_, after, ok := strings.Cut(body, `<tr id="setting-`+key+`">`)
		if !ok {
			t.Fatalf("no %s row", key)
		}
		r, _, _ := strings.Cut(after, "</tr>")
		return r
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.SplitN(mb.URL, "?", 2)[0], "smtp://"))
	for _, c := range []struct {
		lang                                     string
		title, fromEnv, served, set, roleManager string
		refused                                  string
	}{
		{model.LangZH, "系统设置", "环境变量", "实际监听的地址", "已设置", "经理", "测试邮件未能发送到 root@example.com：邮件服务器拒绝了登录（服务器答复：523"},
		{model.LangEN, "Settings", "Environment variable", "The address served", "Set", "Manager", "The test message to root@example.com was not sent: the mail server refused the sign-in (its reply: 523"},
	} {
		root.useLang(t, p.Base, c.lang)
		st, body := root.get(t, p.Base+"/admin/settings")
		if st != http.StatusOK || !strings.Contains(body, "<h1>"+c.title+"</h1>") {
			t.Fatalf("%s: settings %d", c.lang, st)
		}
		noSecret("the settings page ("+c.lang+")", body)
		if !strings.Contains(body, `href="/admin/settings" aria-current="page"`) {
			t.Errorf("%s: the menu does not mark the settings page", c.lang)
		}
		for key, want := range map[string][]string{
			"company":            {"<code>示例公司</code>", c.fromEnv, "PORTAL_COMPANY_NAME"},
			"base_url":           {"<code>" + p.Base + "</code>", c.served},
			"smtp_host":          {"<code>" + net.JoinHostPort(host, port) + "</code>", "PORTAL_SMTP_URL"},
			"smtp_from":          {"<code>training@example.com</code>"},
			"smtp_user":          {"<code>mailer</code>"},
			"smtp_password":      {c.set},
			"oidc_issuer":        {"<code>http://127.0.0.1:1</code>"},
			"oidc_client_id":     {"<code>portal-client-id</code>"},
			"oidc_client_secret": {c.set, "PORTAL_OIDC_CLIENT_SECRET"},
			"metrics_token":      {c.set},
			"secret_key":         {c.set},
			"signing_key":        {c.set},
			"mfa_required":       {c.roleManager},
			"trusted_proxies":    {"<code>10.0.0.0/8</code>"},
			"channels_stored":    {"<code>0</code>"},
		} {
			r := row(body, key)
			for _, w := range want {
				if !strings.Contains(r, w) {
					t.Errorf("%s: the %s row lacks %q: %s", c.lang, key, w, r)
				}
			}
		}

		st, body = root.post(t, p.Base+"/admin/settings/test", url.Values{})
		if st != http.StatusBadGateway || !strings.Contains(body, c.refused) {
			t.Errorf("%s: a refused test message: %d %s", c.lang, st, errorLine(body))
		}
		noSecret("the refused test message", body)
		t.Logf("%s: %s", c.lang, errorLine(body))
	}
	if n := len(mb.Mails()); n != 0 {
		t.Errorf("%d mails arrived through a refused login", n)
	}

	// Without CSRF: refused before anything is sent.
	res, err := root.c.PostForm(p.Base+"/admin/settings/test", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF: %d", res.StatusCode)
	}

	hr := newCaller(t, p.Base, "hr", pw)
	if st, _ := hr.get(t, p.Base+"/admin/settings"); st != http.StatusForbidden {
		t.Errorf("HR on the settings page: %d", st)
	}
	if _, body := hr.get(t, p.Base+"/hr/lessons"); strings.Contains(body, `href="/admin/settings"`) {
		t.Error("HR's menu links to the settings page")
	}
	if _, body := root.get(t, p.Base+"/hr/lessons"); !strings.Contains(body, `href="/admin/settings"`) {
		t.Error("the admin's menu has no link to the settings page")
	}
}

// TestAdminSettingsTestMessage: with a mail server that takes the message,
// the admin is told it went and it arrives at their own address, in their
// language, linking to the portal as served; an admin with no address is
// told to add one and nothing is sent.
func TestAdminSettingsTestMessage(t *testing.T) {
	mb := testkit.StartSMTP(t)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_SMTP_URL": mb.URL})
	ctx := context.Background()
	const pw = "settings test password"
	for _, nu := range []auth.NewUser{
		{Login: "root", Name: "管理员", Email: "root@example.com", Roles: []string{model.RoleAdmin}},
		{Login: "noaddr", Name: "无地址", Roles: []string{model.RoleAdmin}},
	} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	root := newCaller(t, p.Base, "root", pw)
	root.useLang(t, p.Base, model.LangEN)
	st, body := root.post(t, p.Base+"/admin/settings/test", url.Values{})
	if st != http.StatusOK || !strings.Contains(body, "The test message to root@example.com was sent") {
		t.Fatalf("test message: %d %s", st, errorLine(body))
	}
	mails := mb.WaitMails(1)
	if len(mails) != 1 || mails[0].To[0] != "root@example.com" || mails[0].Subject != "Test message" ||
		!strings.Contains(mails[0].Body, p.Base+"/") || !strings.Contains(mails[0].Body, "Hello 管理员") {
		t.Fatalf("the test message: %+v", mails)
	}

	none := newCaller(t, p.Base, "noaddr", pw)
	st, body = none.post(t, p.Base+"/admin/settings/test", url.Values{})
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "你的账户没有电子邮件地址") {
		t.Errorf("no address: %d %s", st, errorLine(body))
	}
	if n := len(mb.Mails()); n != 1 {
		t.Errorf("%d mails, want the one", n)
	}

	// notify records the try itself; when it cannot, the page says
	// nothing went well (the generic error), not "sent".
	es, err := p.Audit.Search(ctx, model.AuditFilter{Action: "settings.test"}, 10)
	if err != nil || len(es) != 1 || es[0].Actor != "root" || es[0].Target != "root@example.com" || es[0].Detail != "the test message was sent" ||
		es[0].DetailKey != "audit.detail.test_sent" || es[0].Client == "" {
		t.Fatalf("settings.test entries: %+v %v", es, err)
	}
	testkit.RefuseAudit(t, p.DB)
	if st, body := root.post(t, p.Base+"/admin/settings/test", url.Values{}); st != http.StatusInternalServerError || strings.Contains(body, "was sent") {
		t.Errorf("test message with the audit log refusing: %d %s", st, errorLine(body))
	}
}

// errorLine is the page's error message, for a failure's log.
func errorLine(body string) string {
	_, after, ok := strings.Cut(body, `<p class="error" role="alert">`)
	if !ok {
		return "(no error shown)"
	}
	line, _, _ := strings.Cut(after, "</p>")
	return line
}

// TestBrowserAdminSettings: the settings page, before and after a test
// message, has no WCAG 2.1 A/AA violation and fits a phone and a desktop
// screen in both languages, with no raw locale key.
func TestBrowserAdminSettings(t *testing.T) {
	needChromium(t)
	mb := testkit.StartSMTP(t)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_SMTP_URL": mb.URL,
		"PORTAL_OIDC_ISSUER": "http://127.0.0.1:1", "PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET": "secret"})
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "root", Name: "管理员", Email: "root@example.com",
		Password: firstPass, Roles: []string{model.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{model.LangZH, model.LangEN} {
		t.Run(lang, func(t *testing.T) {
			b := newBrowser(t, p.Base)
			b.acceptLanguage(lang)
			b.login("root")
			b.open("/admin/settings")
			b.wait("#settings-test")
			if key := rawKey.FindString(b.text("main")); key != "" {
				b.fail("the settings page shows the raw locale key %q", key)
			}
			b.axeAtWidths("settings-" + lang)
			b.submit("#settings-test", 200)
			b.wait(`p.notice`)
			b.axeAtWidths("settings-sent-" + lang)
		})
	}
}
