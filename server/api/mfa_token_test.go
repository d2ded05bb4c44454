package api_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestTokenNeedsTheSecondFactorItsPersonMustHave: a token acts as its
// person, so a person whose role requires a second factor and who has not
// set one up gets 403 mfa_required by token, as by session; once enrolled,
// the same token works.
func TestTokenNeedsTheSecondFactorItsPersonMustHave(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_MFA_REQUIRED": "hr"})
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	emp, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "emp", Name: "李娜", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	hrTok, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "hr script", Scopes: []string{auth.ScopeUsersRead}})
	if err != nil {
		t.Fatal(err)
	}
	empTok, _, err := p.Auth.CreateToken(ctx, emp, emp, auth.TokenSpec{Name: "mine", Scopes: []string{auth.ScopeLearner}})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, p.Base)
	if e := s.object(hrTok, "GET", "/users", nil, 403); errCode(e) != "mfa_required" {
		t.Fatalf("an unenrolled HR person's token: %v", e)
	}
	if e := s.object(hrTok, "GET", "/me", nil, 403); errCode(e) != "mfa_required" {
		t.Fatalf("/me by that token: %v", e)
	}
	s.do(empTok, "GET", "/me", nil, 200) // a role without the requirement is not affected

	testkit.EnrolSecondFactor(t, p, hr)
	p.Store.DropCaches()
	s.do(hrTok, "GET", "/users", nil, 200)
}
