package auth

import (
	"errors"
	"testing"

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
