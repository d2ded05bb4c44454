package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
)

func TestSessionLifetimes(t *testing.T) {
	a, c := newAuth(t)
	ctx := context.Background()
	u, err := a.CreateUser(ctx, auth.NewUser{Login: "s", Name: "S", Password: "session password"})
	if err != nil {
		t.Fatal(err)
	}
	tok, sess, err := a.StartSession(ctx, u, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// At least 256 random bits, and only a hash of it stored.
	if len(tok) < 43 || sess.ID == tok {
		t.Fatalf("token %q, stored id %q", tok, sess.ID)
	}
	tok2, _, _ := a.StartSession(ctx, u, "127.0.0.1")
	if tok2 == tok {
		t.Fatal("two sessions share an id")
	}
	// Idle timeout: active use keeps it alive, 8 idle hours end it.
	c.add(7 * time.Hour)
	if _, _, err := a.Session(ctx, tok); err != nil {
		t.Fatalf("after 7 busy hours: %v", err)
	}
	c.add(auth.IdleTimeout + time.Minute)
	if _, _, err := a.Session(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after the idle timeout: %v", err)
	}
	// Absolute lifetime: even a session in constant use ends after 7 days.
	tok, _, _ = a.StartSession(ctx, u, "127.0.0.1")
	for elapsed := time.Duration(0); elapsed < auth.AbsoluteTimeout-6*time.Hour; elapsed += 6 * time.Hour {
		c.add(6 * time.Hour)
		if _, _, err := a.Session(ctx, tok); err != nil {
			t.Fatalf("in use after %v: %v", elapsed, err)
		}
	}
	c.add(7 * time.Hour)
	if _, _, err := a.Session(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after the absolute lifetime: %v", err)
	}
	// Deactivation ends every session and token at once.
	tok, _, _ = a.StartSession(ctx, u, "127.0.0.1")
	apiTok, _, err := a.CreateToken(ctx, nil, u, auth.TokenSpec{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TokenUser(ctx, apiTok); err != nil {
		t.Fatal(err)
	}
	if err := a.Deactivate(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("session after deactivation: %v", err)
	}
	if _, _, err := a.TokenUser(ctx, apiTok); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("token after deactivation: %v", err)
	}
	if _, err := a.Login(ctx, "s", "session password"); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("login after deactivation: %v", err)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	a, _ := newAuth(t)
	ctx := context.Background()
	u, _ := a.CreateUser(ctx, auth.NewUser{Login: "p", Name: "P", Password: "first long password"})
	mine, sess, _ := a.StartSession(ctx, u, "")
	other, _, _ := a.StartSession(ctx, u, "")
	if err := a.ChangePassword(ctx, u, "wrong", "second long password", sess.ID, ""); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("without the current password: %v", err)
	}
	if err := a.ChangePassword(ctx, u, "first long password", "password1", sess.ID, ""); !errors.Is(err, auth.ErrPasswordCommon) {
		t.Fatalf("a common password: %v", err)
	}
	if err := a.ChangePassword(ctx, u, "first long password", "second long password", sess.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, mine); err != nil {
		t.Fatalf("the session that changed it: %v", err)
	}
	if _, _, err := a.Session(ctx, other); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("another session: %v", err)
	}
}

func TestRoleChangeEndsSessions(t *testing.T) {
	a, _ := newAuth(t)
	ctx := context.Background()
	hr, _ := a.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "HR", Password: "hr long password", Roles: []string{"hr"}})
	u, _ := a.CreateUser(ctx, auth.NewUser{Login: "e", Name: "E", Password: "employee password", Roles: []string{"employee"}})
	tok, _, _ := a.StartSession(ctx, u, "")
	// A change that keeps the roles keeps the session.
	if _, err := a.UpdatePerson(ctx, hr, model.Origin{}, u, auth.Person{Login: "e", Name: "E 2", Roles: []string{"employee"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, tok); err != nil {
		t.Fatalf("after a name change: %v", err)
	}
	u, _ = a.UserByID(ctx, u.ID)
	if _, err := a.UpdatePerson(ctx, hr, model.Origin{}, u, auth.Person{Login: "e", Name: "E 2", Roles: []string{"employee", "manager"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(ctx, tok); !errors.Is(err, auth.ErrNoSession) {
		t.Fatalf("after a role change the old session must end: %v", err)
	}
}
