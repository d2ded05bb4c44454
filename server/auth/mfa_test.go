package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
)

func TestSecondFactor(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	u, err := a.CreateUser(ctx, auth.NewUser{Login: "m", Name: "M", Password: "mfa test password", Roles: []string{"hr"}})
	if err != nil {
		t.Fatal(err)
	}
	if !auth.MFARequired(u, []string{"manager", "hr"}) || auth.MFARequired(u, []string{"admin"}) {
		t.Fatal("MFARequired")
	}
	if e, err := a.Enrolment(u, "星河物业"); e != nil || err != nil {
		t.Fatalf("an enrolment before starting one: %v %v", e, err)
	}
	if err := a.StartEnrolment(ctx, u); err != nil {
		t.Fatal(err)
	}
	e, err := a.Enrolment(u, "星河物业")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret) < 16 || !strings.HasPrefix(e.QRCode, "data:image/png;base64,") || !strings.Contains(e.URL, "secret="+e.Secret) {
		t.Fatalf("enrolment: %+v", e)
	}
	again, _ := a.Enrolment(u, "星河物业")
	if again.Secret != e.Secret {
		t.Fatal("reloading the setup page changed the secret")
	}
	if _, err := a.ConfirmEnrolment(ctx, u, "000000"); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("wrong first code: %v", err)
	}
	codes, err := a.ConfirmEnrolment(ctx, u, auth.CodeAt(e.Secret, c.Now()))
	if err != nil || len(codes) != 10 || !u.MFA.Enabled {
		t.Fatalf("confirm: %v %v", codes, err)
	}
	for _, h := range u.MFA.Recovery {
		for _, code := range codes {
			if strings.Contains(h, code) {
				t.Fatal("recovery codes must be stored hashed")
			}
		}
	}
	// The code used to confirm cannot log in again.
	if err := a.CheckSecondFactor(ctx, u, auth.CodeAt(e.Secret, c.Now())); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("the confirming code reused: %v", err)
	}
	c.add(30 * time.Second)
	code := auth.CodeAt(e.Secret, c.Now())
	fresh, _ := a.UserByID(ctx, u.ID)
	if err := a.CheckSecondFactor(ctx, fresh, code); err != nil {
		t.Fatalf("a fresh code: %v", err)
	}
	fresh, _ = a.UserByID(ctx, u.ID)
	if err := a.CheckSecondFactor(ctx, fresh, code); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("the same code twice: %v", err)
	}
	// One step of clock drift either way is accepted; two are not.
	c.add(90 * time.Second)
	fresh, _ = a.UserByID(ctx, u.ID)
	if err := a.CheckSecondFactor(ctx, fresh, auth.CodeAt(e.Secret, c.Now().Add(-30*time.Second))); err != nil {
		t.Fatalf("a code one step old: %v", err)
	}
	c.add(120 * time.Second)
	fresh, _ = a.UserByID(ctx, u.ID)
	if err := a.CheckSecondFactor(ctx, fresh, auth.CodeAt(e.Secret, c.Now().Add(-60*time.Second))); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("a code two steps old: %v", err)
	}
	// A recovery code works once, typed in any case with spaces.
	typed := " " + strings.ToUpper(codes[3]) + " "
	if err := a.CheckSecondFactor(ctx, fresh, typed); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := a.CheckSecondFactor(ctx, fresh, codes[3]); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("recovery code twice: %v", err)
	}
	// Reset: off, and sessions end.
	tok, _, _ := a.StartSession(ctx, fresh, "")
	if err := a.ResetMFA(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("session after reset: %v", err)
	}
	fresh, _ = a.UserByID(ctx, u.ID)
	if fresh.MFA.Enabled || fresh.MFA.Secret != "" {
		t.Fatalf("after reset: %+v", fresh.MFA)
	}
}

// TestRenewCodesAndTurnOff: new recovery codes need a current code and
// replace the old ones; a person turns their own second factor off with a
// code unless their role must use one; both are audited.
func TestRenewCodesAndTurnOff(t *testing.T) {
	a, store, c := newAuthStore(t)
	ctx := context.Background()
	u, err := a.CreateUser(ctx, auth.NewUser{Login: "own", Name: "Own", Password: "mfa test password", Roles: []string{"hr"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartEnrolment(ctx, u); err != nil {
		t.Fatal(err)
	}
	e, _ := a.Enrolment(u, "x")
	old, err := a.ConfirmEnrolment(ctx, u, auth.CodeAt(e.Secret, c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.NewRecoveryCodes(ctx, u, "000000", ""); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("renew with a wrong code: %v", err)
	}
	fresh, err := a.NewRecoveryCodes(ctx, u, old[0], "192.0.2.7")
	if err != nil || len(fresh) != 10 {
		t.Fatalf("renew: %v %v", fresh, err)
	}
	stored, _ := a.UserByID(ctx, u.ID)
	if err := a.CheckSecondFactor(ctx, stored, old[1]); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("an old recovery code still works: %v", err)
	}
	// Turning off: refused for a role that must use it, nothing changed.
	if err := a.TurnOffMFA(ctx, stored, fresh[0], []string{"hr"}, ""); !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("turn off when required: %v", err)
	}
	if again, _ := a.UserByID(ctx, u.ID); !again.MFA.Enabled {
		t.Fatal("a refused turn-off changed the factor")
	}
	if err := a.TurnOffMFA(ctx, stored, "000000", nil, ""); !errors.Is(err, auth.ErrBadCode) {
		t.Fatalf("turn off with a wrong code: %v", err)
	}
	if err := a.TurnOffMFA(ctx, stored, fresh[0], nil, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if off, _ := a.UserByID(ctx, u.ID); off.MFA.Enabled || off.MFA.Secret != "" || len(off.MFA.Recovery) != 0 {
		t.Fatalf("after turning off: %+v", off.MFA)
	}
	entries, err := store.AuditSearch(ctx, model.AuditFilter{Actor: "own"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action+"@"+en.Client)
	}
	if !slices.Contains(actions, "mfa.codes@192.0.2.7") || !slices.Contains(actions, "mfa.off@192.0.2.7") {
		t.Fatalf("audit: %v", actions)
	}
}
