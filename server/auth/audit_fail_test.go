package auth_test

import (
	"context"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
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
	pw, err := a.ResetPassword(ctx, admin, model.Origin{Client: "192.0.2.1"}, u)
	if err == nil || pw != "" || !strings.Contains(err.Error(), "user.password_reset e is done but its audit entry is not stored") {
		t.Fatalf("reset with the audit log refusing: %q %v", pw, err)
	}
	if stored, _ := a.UserByID(ctx, u.ID); stored == nil || !stored.MustChangePassword {
		t.Fatalf("the reset should be stored as the error says: %+v", stored)
	}
	if err := a.ResetMFABy(ctx, admin, model.Origin{Client: "192.0.2.1"}, u); err == nil || !strings.Contains(err.Error(), "user.mfa_off e is done") {
		t.Fatalf("second step off with the audit log refusing: %v", err)
	}
	if err := a.Deactivate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := a.ReactivateBy(ctx, admin, model.Origin{Client: "192.0.2.1"}, u); err == nil || !strings.Contains(err.Error(), "user.reactivate e is done") {
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

// The changes auth now audits itself fail, saying the change is made, when
// their entry cannot be stored: no one-time password is handed out, no
// session opens unrecorded, and the rest say so.
func TestOwnAuditsFailTheChange(t *testing.T) {
	k := testkit.Store(t)
	a := auth.New(k.Store, k.Clock.Now)
	ctx := context.Background()
	hr, err := a.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "HR", Password: "hr long password", Roles: []string{"hr"}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.CreateUser(ctx, auth.NewUser{Login: "e", Name: "E", Password: "employee password", Roles: []string{"employee"}})
	if err != nil {
		t.Fatal(err)
	}
	web := model.Origin{Client: "192.0.2.1"}
	testkit.RefuseAudit(t, k.DB)
	u, pw, err := a.CreatePerson(ctx, hr, web, auth.Person{Login: "new", Name: "New"})
	if err == nil || u != nil || pw != "" || !strings.Contains(err.Error(), "user.create new is done but its audit entry is not stored") {
		t.Fatalf("create with the audit log refusing: %v %q %v", u, pw, err)
	}
	if _, err := a.UpdatePerson(ctx, hr, web, e, auth.Person{Name: "E 2", Roles: []string{"employee"}}); err == nil || !strings.Contains(err.Error(), "user.update e is done") {
		t.Fatalf("update with the audit log refusing: %v", err)
	}
	tok, err := a.SignIn(ctx, e, web, "test agent")
	if err == nil || tok != "" || !strings.Contains(err.Error(), "login is done but its audit entry is not stored") {
		t.Fatalf("sign-in with the audit log refusing: %q %v", tok, err)
	}
	if n, err := k.Store.SessionCount(ctx); err != nil || n != 0 {
		t.Fatalf("the unrecorded sign-in left %d sessions (%v)", n, err)
	}
	rows, err := a.PlanImport(ctx, hr, strings.NewReader("login,name\nimp,Imp\ne,E 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.ApplyImport(ctx, hr, web, rows); err == nil || !strings.Contains(err.Error(), "is done but its audit entr") {
		t.Fatalf("import with the audit log refusing: %v", err)
	}
	rep, err := a.Sync(ctx, hr, model.Origin{Via: model.ViaSync}, []auth.SyncRow{{Person: auth.Person{Login: "e", Name: "E 4"}}}, false)
	if err == nil || rep == nil || !strings.Contains(err.Error(), "user.sync is done but its audit entries are not stored") {
		t.Fatalf("sync with the audit log refusing: %v", err)
	}
	if err := a.DeactivateBy(ctx, hr, web, e); err == nil || !strings.Contains(err.Error(), "user.deactivate e is done") {
		t.Fatalf("deactivate with the audit log refusing: %v", err)
	}
	if stored, _ := a.UserByID(ctx, e.ID); stored == nil || stored.Active || stored.Name != "E 4" {
		t.Fatalf("the changes should be stored as the errors say: %+v", stored)
	}
}
