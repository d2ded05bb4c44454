package api_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/testkit"
)

// TestChangePasswordRefusals: POST /me/password refuses what the password
// page refuses, with the same words in the caller's language and the field
// named (password123, the person's own name, the company's), changes
// nothing then, and sets a good one after checking the current password.
func TestChangePasswordRefusals(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_COMPANY_NAME": "Acme Trading"})
	ctx := context.Background()
	const old = "correct horse battery"
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "zhang.wei", Name: "Zhang Wei", Password: old})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, u, u, auth.TokenSpec{Name: "mine", Scopes: []string{auth.ScopeLearner}})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, p.Base)
	for _, c := range []struct {
		path, pw, code, field, words string
	}{
		{"/me/password", "password123", "password_guessable", "new", "太容易被猜到"},
		{"/me/password?lang=en", "password123", "password_guessable", "new", "too easy to guess"},
		{"/me/password?lang=en", "zhangwei2024", "password_personal", "new", "your own name"},
		{"/me/password", "acmetrading1", "password_personal", "new", "公司名称"},
		{"/me/password?lang=en", "short", "password_short", "new", "at least 8 characters"},
	} {
		e := s.object(tok, "POST", c.path, map[string]string{"current": old, "new": c.pw}, 422)
		inner, _ := e["error"].(map[string]any)
		if errCode(e) != c.code || inner["field"] != c.field || !strings.Contains(inner["message"].(string), c.words) {
			t.Errorf("%s %q: %v", c.path, c.pw, e)
		}
	}
	e := s.object(tok, "POST", "/me/password", map[string]string{"current": "not it at all", "new": "Blue-Tea-Kettle-Moon-42"}, 422)
	if inner, _ := e["error"].(map[string]any); errCode(e) != "wrong_password" || inner["field"] != "current" {
		t.Errorf("a wrong current password: %v", e)
	}
	p.Store.DropCaches()
	if got, err := p.Auth.UserByLogin(ctx, "zhang.wei"); err != nil || !auth.VerifyPassword(got.PasswordHash, old) {
		t.Fatalf("a refused change changed the password: %v", err)
	}
	s.object(tok, "POST", "/me/password", map[string]string{"current": old, "new": "Blue-Tea-Kettle-Moon-42"}, 200)
	p.Store.DropCaches()
	if got, err := p.Auth.UserByLogin(ctx, "zhang.wei"); err != nil || !auth.VerifyPassword(got.PasswordHash, "Blue-Tea-Kettle-Moon-42") {
		t.Fatalf("the new password is not set: %v", err)
	}
}
