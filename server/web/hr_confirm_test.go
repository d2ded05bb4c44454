package web_test

import (
	"context"
	"errors"
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

// postCSRF posts a form with the CSRF token given, not the caller's.
func (cl *caller) postCSRF(t *testing.T, u, csrf string, form url.Values) int {
	t.Helper()
	form.Set("_csrf", csrf)
	res, err := cl.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestHRConfirmations: deactivating, reactivating, resetting a password,
// turning off a second step and discarding a draft each ask first, naming
// the person or lesson and what will happen, and change nothing until
// confirmed; a confirmed post with a wrong CSRF token is refused (403) and
// changes nothing; the confirmed post acts, is audited, and the notice
// after it names the person or lesson. Both languages.
func TestHRConfirmations(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "confirmations test password"
	for _, nu := range []auth.NewUser{
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		{Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
		{Login: "li.na", Name: "李娜", Department: "前台"},
		{Login: "wang.qiang", Name: "王强"},
		{Login: "zhou.min", Name: "周敏"},
	} {
		nu.Password = pw
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	user := func(login string) *model.User {
		t.Helper()
		p.Store.DropCaches()
		u, err := p.Store.UserByLogin(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	hr, root := newCaller(t, p.Base, "hr", pw), newCaller(t, p.Base, "root", pw)
	lina, wang := newCaller(t, p.Base, "li.na", pw), newCaller(t, p.Base, "wang.qiang", pw)
	signedIn := func(cl *caller) bool {
		t.Helper()
		st, _ := cl.get(t, p.Base+"/")
		return st == http.StatusOK
	}
	// ask posts the action's own form (no confirm) and checks the question.
	ask := func(cl *caller, path string, want ...string) {
		t.Helper()
		st, body := cl.post(t, p.Base+path, url.Values{})
		if st != http.StatusOK {
			t.Fatalf("%s asked: %d", path, st)
		}
		want = append(want, `<form method="post" action="`+path+`"`, `name="confirm" value="1"`, `id="confirm-cancel"`)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("the question of %s lacks %q\n%s", path, w, body)
			}
		}
	}
	notice := func(cl *caller, path, want string) {
		t.Helper()
		st, body := cl.get(t, p.Base+path)
		if st != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %d, the notice %q missing", path, st, want)
		}
	}
	confirm := url.Values{"confirm": {"1"}}
	redirect := func(cl *caller, path, want string) {
		t.Helper()
		res, err := cl.c.PostForm(p.Base+path, url.Values{"_csrf": {cl.csrf}, "confirm": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Fatalf("%s confirmed: %d to %q, want 303 to %q", path, res.StatusCode, res.Header.Get("Location"), want)
		}
	}

	// Deactivate.
	ask(hr, "/hr/people/li.na/deactivate", "停用 李娜 的账号？", "李娜 (li.na) · 前台", "签署记录和证书都会保留", `class="danger" id="confirm-yes"`, `href="/hr/people/li.na"`)
	if !user("li.na").Active || !signedIn(lina) {
		t.Fatal("asking deactivated the account or ended its session")
	}
	if st := hr.postCSRF(t, p.Base+"/hr/people/li.na/deactivate", "wrong", confirm); st != http.StatusForbidden || !user("li.na").Active {
		t.Fatalf("a wrong CSRF token: %d, active %t", st, user("li.na").Active)
	}
	redirect(hr, "/hr/people/li.na/deactivate", "/hr/people/li.na?m=hr.person.deactivated")
	if user("li.na").Active || signedIn(lina) {
		t.Fatal("the confirmed deactivation left the account on or its session open")
	}
	notice(hr, "/hr/people/li.na?m=hr.person.deactivated", "李娜 的账号已停用")

	// Reactivate: offered on a deactivated person's page only.
	if _, body := hr.get(t, p.Base+"/hr/people/li.na"); !strings.Contains(body, `action="/hr/people/li.na/reactivate"`) || strings.Contains(body, `action="/hr/people/li.na/deactivate"`) {
		t.Error("a deactivated person's page does not offer reactivation (only)")
	}
	ask(hr, "/hr/people/li.na/reactivate", "重新启用 李娜 的账号？", "之前撤销的 API 令牌不会恢复")
	if user("li.na").Active {
		t.Fatal("asking reactivated the account")
	}
	if st := hr.postCSRF(t, p.Base+"/hr/people/li.na/reactivate", "", confirm); st != http.StatusForbidden || user("li.na").Active {
		t.Fatalf("no CSRF token: %d", st)
	}
	redirect(hr, "/hr/people/li.na/reactivate", "/hr/people/li.na?m=hr.person.reactivated")
	if !user("li.na").Active || !signedIn(newCaller(t, p.Base, "li.na", pw)) {
		t.Fatal("the reactivated person cannot sign in with their password")
	}
	notice(hr, "/hr/people/li.na?m=hr.person.reactivated", "李娜 的账号已重新启用")

	// Reset a password.
	hash := user("wang.qiang").PasswordHash
	ask(hr, "/hr/people/wang.qiang/password", "重置 王强 的密码？", "一次性密码")
	if user("wang.qiang").PasswordHash != hash || !signedIn(wang) {
		t.Fatal("asking reset the password or ended the session")
	}
	if st := hr.postCSRF(t, p.Base+"/hr/people/wang.qiang/password", "wrong", confirm); st != http.StatusForbidden || user("wang.qiang").PasswordHash != hash {
		t.Fatalf("a wrong CSRF token: %d", st)
	}
	if st, body := hr.post(t, p.Base+"/hr/people/wang.qiang/password", confirm); st != http.StatusOK || oneTime.FindStringSubmatch(body) == nil {
		t.Fatalf("the confirmed reset: %d", st)
	}
	if user("wang.qiang").PasswordHash == hash || signedIn(wang) {
		t.Fatal("the confirmed reset kept the password or the session")
	}
	// Nobody is offered to deactivate their own account, nor asked.
	if _, body := hr.get(t, p.Base+"/hr/people/hr"); strings.Contains(body, `action="/hr/people/hr/deactivate"`) {
		t.Error("HR is offered to deactivate their own account")
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/hr/deactivate", url.Values{}); st != http.StatusForbidden {
		t.Errorf("HR asked to deactivate their own account: %d", st)
	}
	// HR may not touch an admin, not even to be asked.
	if st, _ := hr.post(t, p.Base+"/hr/people/root/password", url.Values{}); st != http.StatusForbidden {
		t.Errorf("HR asked to reset an admin's password: %d", st)
	}

	// Turn off a second step: an admin's action.
	if err := p.Store.SetMFA(ctx, user("zhou.min").ID, model.MFA{Enabled: true, Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/zhou.min/mfa/off", url.Values{}); st != http.StatusForbidden {
		t.Errorf("HR asked to turn off a second step: %d", st)
	}
	if _, body := hr.get(t, p.Base+"/hr/people/zhou.min"); strings.Contains(body, "/mfa/off") {
		t.Error("HR is offered to turn off a second step")
	}
	if _, body := root.get(t, p.Base+"/hr/people/zhou.min"); !strings.Contains(body, `action="/hr/people/zhou.min/mfa/off"`) {
		t.Error("the admin is not offered to turn off the second step")
	}
	ask(root, "/hr/people/zhou.min/mfa/off", "关闭 周敏 的两步验证？", "恢复码")
	if !user("zhou.min").MFA.Enabled {
		t.Fatal("asking turned the second step off")
	}
	if st := root.postCSRF(t, p.Base+"/hr/people/zhou.min/mfa/off", "wrong", confirm); st != http.StatusForbidden || !user("zhou.min").MFA.Enabled {
		t.Fatalf("a wrong CSRF token: %d", st)
	}
	redirect(root, "/hr/people/zhou.min/mfa/off", "/hr/people/zhou.min?m=hr.person.mfa_offed")
	if m := user("zhou.min").MFA; m.Enabled || m.Secret != "" || len(m.Recovery) != 0 {
		t.Fatalf("the confirmed turn-off left %+v", m)
	}
	notice(root, "/hr/people/zhou.min?m=hr.person.mfa_offed", "周敏 的两步验证已关闭")
	if _, body := root.get(t, p.Base+"/hr/people/zhou.min"); strings.Contains(body, "/mfa/off") {
		t.Error("a person without a second step is offered to turn it off")
	}

	// Discard a draft.
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	if _, probs, err := p.Authoring.SaveDraft(ctx, "hr", "dress", model.LangZH, strings.TrimRight(d.Files[model.LangZH], "\n")+"\n\n草稿里的新句子。\n", d.Quiz); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	ask(hr, "/hr/lessons/dress/discard", "删除《着装规范》的草稿？", "读者看到的仍是已发布的第 1 版", `href="/hr/lessons/dress/edit"`)
	if _, err := p.Store.Draft(ctx, "dress"); err != nil {
		t.Fatalf("asking discarded the draft: %v", err)
	}
	if st := hr.postCSRF(t, p.Base+"/hr/lessons/dress/discard", "wrong", confirm); st != http.StatusForbidden {
		t.Fatalf("a wrong CSRF token: %d", st)
	}
	if _, err := p.Store.Draft(ctx, "dress"); err != nil {
		t.Fatalf("a refused post discarded the draft: %v", err)
	}
	redirect(hr, "/hr/lessons/dress/discard", "/hr/lessons?m=hr.draft.discarded&slug=dress")
	if _, err := p.Store.Draft(ctx, "dress"); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("the confirmed discard left the draft: %v", err)
	}
	notice(hr, "/hr/lessons?m=hr.draft.discarded&slug=dress", "《着装规范》的草稿已删除。")
	// Nothing left to discard: back to the editor, which says so.
	redirect(hr, "/hr/lessons/dress/discard", "/hr/lessons/dress/edit?m=hr.draft.none")

	// Every confirmed action is in the audit log.
	_, csv := hr.get(t, p.Base+"/hr/audit.csv")
	for _, want := range []string{",hr,user.deactivate,li.na,", ",hr,user.reactivate,li.na,", ",hr,user.password_reset,wang.qiang,", ",root,user.mfa_off,zhou.min,", ",hr,draft.discard,dress,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}

	// In English, the same questions and notices.
	if st, _ := hr.post(t, p.Base+"/lang", url.Values{"lang": {"en"}}); st != http.StatusSeeOther {
		t.Fatalf("switch to English: %d", st)
	}
	ask(hr, "/hr/people/li.na/deactivate", "Deactivate 李娜?", "Their receipts and certificates stay")
	ask(hr, "/hr/people/li.na/password", "Reset 李娜&#39;s password?")
	ask(root, "/hr/people/li.na/deactivate", "停用 李娜 的账号？") // root reads Chinese still
	if !user("li.na").Active {
		t.Fatal("asking in English deactivated the account")
	}
	redirect(hr, "/hr/people/li.na/deactivate", "/hr/people/li.na?m=hr.person.deactivated")
	notice(hr, "/hr/people/li.na?m=hr.person.deactivated", "李娜 deactivated")
}
