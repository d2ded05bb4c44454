package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

var inviteLinkRe = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{43})\b`)

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestSyncInvitesInsteadOfPasswords: a sync of new people answers no
// secret; each person with an address gets one invitation email; the link
// is stored only as its hash, works once, sets the password and signs the
// person in; a resent link replaces the old one, a revoked or expired one
// says so; sending the list again sends nothing.
func TestSyncInvitesInsteadOfPasswords(t *testing.T) {
	mb := testkit.StartSMTP(t)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_SMTP_URL": mb.URL})
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenFor(t, p, hr)
	c := &http.Client{Timeout: 20 * time.Second}
	users := []map[string]any{
		{"login": "li.na", "name": "李娜", "department": "客服部", "email": "li.na@example.com"},
		{"login": "zhao.lei", "name": "赵雷", "department": "客服部", "email": "zhao.lei@example.com"},
		{"login": "sun.li", "name": "孙丽", "department": "客服部"},
	}
	st, obj, err := call(c, p.Base, tok, "POST", "/users/sync", map[string]any{"users": users})
	if err != nil || st != http.StatusOK || obj["created"] != float64(3) {
		t.Fatalf("sync: %d %v %v", st, obj, err)
	}
	invited := map[string]string{}
	for _, r := range obj["results"].([]any) {
		row := r.(map[string]any)
		if _, ok := row["one_time_password"]; ok {
			t.Errorf("a sync answered a password: %v", row)
		}
		s, _ := row["invited"].(string)
		invited[row["login"].(string)] = s
	}
	if invited["li.na"] != "email" || invited["zhao.lei"] != "email" || invited["sun.li"] != "" {
		t.Errorf("invited: %v", invited)
	}
	mails := mb.WaitMails(2)
	if len(mails) != 2 {
		t.Fatalf("mails: %+v", mails)
	}
	links := map[string]string{}
	for _, m := range mails {
		lm := inviteLinkRe.FindStringSubmatch(m.Body)
		if lm == nil || len(m.To) != 1 {
			t.Fatalf("an invitation without a link: %+v", m)
		}
		links[m.To[0]] = lm[1]
	}
	liTok := links["li.na@example.com"]
	if liTok == "" || links["zhao.lei@example.com"] == "" {
		t.Fatalf("links: %v", links)
	}
	li, err := p.Store.UserByLogin(ctx, "li.na")
	if err != nil {
		t.Fatal(err)
	}
	if li.PasswordHash != "" || li.MustChangePassword {
		t.Errorf("a synced person has a password: %+v", li)
	}
	// Stored only as the hash: the token itself is no _id, the hash is.
	if _, err := p.Store.Invitation(ctx, liTok); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the token itself is stored: %v", err)
	}
	inv, err := p.Store.Invitation(ctx, sha256Hex(liTok))
	if err != nil || inv.UserID != li.ID || inv.Expires.Sub(inv.Created) != auth.InvitationTTL {
		t.Fatalf("stored invitation: %+v %v", inv, err)
	}
	if _, err := p.Auth.Login(ctx, "li.na", ""); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("a person without a password signed in: %v", err)
	}

	// The link: a form; a post without the CSRF token is refused; a
	// mismatch changes nothing; the right one sets the password and signs in.
	br := newBrowser(t, p.Base)
	page := br.get("/invite/" + liTok)
	if page.status != http.StatusOK || !strings.Contains(page.body, "李娜") {
		t.Fatalf("invitation page: %d %.300s", page.status, page.body)
	}
	expect(t, br.do("POST", "/invite/"+liTok, url.Values{"new": {"a fresh passphrase"}, "confirm": {"a fresh passphrase"}}), http.StatusForbidden, "")
	expect(t, br.post("/invite/"+liTok, "/invite/"+liTok, url.Values{"new": {"a fresh passphrase"}, "confirm": {"other"}}), http.StatusUnprocessableEntity, "")
	if u, _ := p.Store.User(ctx, li.ID); u.PasswordHash != "" {
		t.Fatal("a refused form stored a password")
	}
	expect(t, br.post("/invite/"+liTok, "/invite/"+liTok, url.Values{"new": {"a fresh passphrase"}, "confirm": {"a fresh passphrase"}}), http.StatusSeeOther, "/")
	expect(t, br.get("/"), http.StatusOK, "")
	if _, err := p.Auth.Login(ctx, "li.na", "a fresh passphrase"); err != nil {
		t.Errorf("the chosen password: %v", err)
	}
	// Single use.
	if a := br.get("/invite/" + liTok); a.status != http.StatusNotFound {
		t.Errorf("a used link: %d", a.status)
	}

	// HR re-sends from the person's page: the old link stops working, the
	// new one arrives.
	hrBr := newBrowser(t, p.Base)
	expect(t, hrBr.post("/login", "/login", url.Values{"login": {"hr"}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
	if page := hrBr.get("/hr/people/zhao.lei"); !strings.Contains(page.body, `action="/hr/people/zhao.lei/invite/revoke"`) {
		t.Fatalf("the person page offers no revocation: %.300s", page.body)
	}
	oldTok := links["zhao.lei@example.com"]
	expect(t, hrBr.post("/hr/people/zhao.lei", "/hr/people/zhao.lei/invite", nil), http.StatusSeeOther, "/hr/people/zhao.lei?m=invite.sent")
	mails = mb.WaitMails(3)
	newTok := inviteLinkRe.FindStringSubmatch(mails[len(mails)-1].Body)
	if len(mails) != 3 || newTok == nil || newTok[1] == oldTok {
		t.Fatalf("resent: %+v", mails)
	}
	if a := br.get("/invite/" + oldTok); a.status != http.StatusNotFound {
		t.Errorf("a replaced link: %d", a.status)
	}
	if a := br.get("/invite/" + newTok[1]); a.status != http.StatusOK {
		t.Errorf("the new link: %d", a.status)
	}
	expect(t, hrBr.post("/hr/people/zhao.lei", "/hr/people/zhao.lei/invite/revoke", nil), http.StatusSeeOther, "/hr/people/zhao.lei?m=invite.revoked")
	if a := br.get("/invite/" + newTok[1]); a.status != http.StatusNotFound {
		t.Errorf("a revoked link: %d", a.status)
	}

	// Expired after its 7 days: the page says so.
	sun, _ := p.Store.UserByLogin(ctx, "sun.li")
	const old = "expired-token-expired-token-expired-token-0"
	past := time.Now().Add(-8 * 24 * time.Hour).UTC()
	if err := p.Store.CreateInvitation(ctx, &model.Invitation{ID: sha256Hex(old), UserID: sun.ID, Login: sun.Login, Created: past, Expires: past.Add(auth.InvitationTTL)}); err != nil {
		t.Fatal(err)
	}
	if a := br.get("/invite/" + old); a.status != http.StatusGone || !strings.Contains(a.body, "已过期") {
		t.Errorf("an expired link: %d %.300s", a.status, a.body)
	}

	// Every send audited; the same list again sends nothing.
	entries, err := p.Store.AuditSearch(ctx, model.AuditFilter{Action: "invite."}, 100)
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
	}
	if err != nil || count["invite.send"] != 4 || count["invite.revoke"] != 1 || count["invite.accept"] != 1 {
		t.Errorf("invitation audit: %v %v", count, err)
	}
	st, obj, _ = call(c, p.Base, tok, "POST", "/users/sync", map[string]any{"users": users})
	if st != http.StatusOK || obj["unchanged"] != float64(3) {
		t.Errorf("second sync: %d %v", st, obj)
	}
	if n := len(mb.Mails()); n != 3 {
		t.Errorf("a second sync sent mails: %d", n)
	}
	p.Notify.Wait()
}
