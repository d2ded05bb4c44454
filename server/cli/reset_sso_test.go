package cli_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestUserResetSSO: `portal user reset-sso` unbinds an account from its
// sign-on account, audited, so the next sign-on binds by login again; an
// account not bound, or no such login, is said so.
func TestUserResetSSO(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "wang.qiang", Name: "王强", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Store.LinkSSO(ctx, u.ID, "https://idp.example.com", "sub-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	p.Stop()

	code, out, errOut := runCLI(t, dir, "user", "reset-sso", "--login", "wang.qiang")
	if code != 0 || !strings.Contains(out, "wang.qiang is no longer bound to https://idp.example.com sub sub-1") {
		t.Fatalf("reset-sso: %d %s %s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, dir, "user", "reset-sso", "--login", "wang.qiang"); code != 0 || !strings.Contains(out, "not bound") {
		t.Errorf("reset-sso again: %d %s", code, out)
	}
	if code, _, errOut := runCLI(t, dir, "user", "reset-sso", "--login", "nobody"); code == 0 || !strings.Contains(errOut, `no user "nobody"`) {
		t.Errorf("reset-sso of nobody: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, dir, "user", "reset-sso"); code == 0 || !strings.Contains(errOut, "--login is required") {
		t.Errorf("reset-sso without --login: %d %s", code, errOut)
	}

	p = testkit.Start(t, dir, io.Discard)
	if _, err := p.Store.SSOLinkOfUser(ctx, u.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("still bound: %v", err)
	}
	if _, err := p.Store.SSOLinkBySubject(ctx, "https://idp.example.com", "sub-1"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the subject is still bound: %v", err)
	}
	entries, err := p.Audit.Search(ctx, model.AuditFilter{Actor: "cli"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Action == "sso.unbind" && e.Target == "wang.qiang" && e.Detail == "https://idp.example.com sub sub-1")
	}
	if !found {
		t.Errorf("reset-sso not audited: %+v", entries)
	}
}
