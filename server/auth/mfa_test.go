package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
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
