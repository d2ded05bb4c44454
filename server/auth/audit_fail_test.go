package auth_test

import (
	"context"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/testkit"
)

// HR's changes to an account fail, saying the change is made, when their
// audit entry cannot be stored; a reset password is then not handed out.
func TestPersonChangesFailWhenAuditFails(t *testing.T) {
	k := testkit.Store(t)
	a := auth.New(k.Store, k.Clock.Now)
	ctx := context.Background()
	admin, err := a.CreateUser(ctx, auth.NewUser{Login: "boss", Name: "Boss", Password: "admin long password", Roles: []string{"admin", "hr"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.CreateUser(ctx, auth.NewUser{Login: "e", Name: "E", Password: "employee password", Roles: []string{"employee"}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.RefuseAudit(t, k.DB)
	pw, err := a.ResetPassword(ctx, admin, u, "192.0.2.1")
	if err == nil || pw != "" || !strings.Contains(err.Error(), "user.password_reset e is done but its audit entry is not stored") {
		t.Fatalf("reset with the audit log refusing: %q %v", pw, err)
	}
	if stored, _ := a.UserByID(ctx, u.ID); stored == nil || !stored.MustChangePassword {
		t.Fatalf("the reset should be stored as the error says: %+v", stored)
	}
	if err := a.ResetMFABy(ctx, admin, u, "192.0.2.1"); err == nil || !strings.Contains(err.Error(), "user.mfa_off e is done") {
		t.Fatalf("second step off with the audit log refusing: %v", err)
	}
	if err := a.Deactivate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := a.ReactivateBy(ctx, admin, u, "192.0.2.1"); err == nil || !strings.Contains(err.Error(), "user.reactivate e is done") {
		t.Fatalf("reactivate with the audit log refusing: %v", err)
	}
	if err := a.ChangePassword(ctx, admin, "admin long password", "admin second password", "", "192.0.2.1"); err == nil || !strings.Contains(err.Error(), "password.change boss is done") {
		t.Fatalf("password change with the audit log refusing: %v", err)
	}
	if stored, _ := a.UserByID(ctx, admin.ID); stored == nil || !auth.VerifyPassword(stored.PasswordHash, "admin second password") {
		t.Fatal("the new password should be stored as the error says")
	}
	tok, made, err := a.CreateToken(ctx, admin, admin, auth.TokenSpec{Name: "script", Client: "192.0.2.1"})
	if err == nil || tok != "" || made != nil || !strings.Contains(err.Error(), "token.create boss is done but its audit entry is not stored") {
		t.Fatalf("token with the audit log refusing: %q %v", tok, err)
	}
}
