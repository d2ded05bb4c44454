package auth

import (
	"errors"
	"testing"
	"time"

	"conductportal/server/model"
)

// The strength estimate refuses what the common list lets through, says
// when a password leans on the person's own words, and lets a passphrase in.
func TestCheckNewPassword(t *testing.T) {
	u := &model.User{Login: "zhang.wei", Name: "Zhang Wei", Email: "wei.zhang@example.com"}
	for pw, want := range map[string]error{
		"password123":             ErrPasswordGuessable,
		"qwertyuiop1":             ErrPasswordGuessable,
		"zhangwei2024":            ErrPasswordPersonal,
		"Zhang.Wei.1990":          ErrPasswordPersonal,
		"acmetrading1":            ErrPasswordPersonal,
		"short":                   ErrPasswordShort,
		"correct horse battery":   nil,
		"工牌端正佩戴在左胸前":              nil,
		"Blue-Tea-Kettle-Moon-42": nil,
	} {
		if got := CheckNewPassword(pw, u, "Acme Trading"); !errors.Is(got, want) {
			t.Errorf("%q: %v, want %v", pw, got, want)
		}
	}
	// Without the person, their name is only a word like any other.
	if err := CheckNewPassword("password123", nil, ""); !errors.Is(err, ErrPasswordGuessable) {
		t.Errorf("password123 with nobody: %v", err)
	}
}

// The first password is set without the one-time one only in the session
// that just used it, within FirstPasswordWindow; later it is asked again.
func TestFirstPasswordWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	s := New(nil, func() time.Time { return now })
	u := &model.User{ID: "u1", MustChangePassword: true}
	sess := &model.Session{ID: "s1", UserID: "u1", Created: now.Add(-time.Minute)}
	if !s.FirstPasswordWithoutCurrent(u, sess) {
		t.Error("a minute after logging in with the one-time password: asked again")
	}
	for what, c := range map[string]struct {
		u    *model.User
		sess *model.Session
	}{
		"after the window":        {u, &model.Session{ID: "s1", UserID: "u1", Created: now.Add(-FirstPasswordWindow)}},
		"a password of their own": {&model.User{ID: "u1"}, sess},
		"a second step still due": {u, &model.Session{ID: "s1", UserID: "u1", Created: now, Pending: true}},
		"someone else's session":  {u, &model.Session{ID: "s2", UserID: "u2", Created: now}},
	} {
		if s.FirstPasswordWithoutCurrent(c.u, c.sess) {
			t.Errorf("%s: the current password is not asked", what)
		}
	}
}
