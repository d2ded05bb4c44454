package auth

import (
	"errors"
	"strings"
	"unicode"

	"conductportal/server/model"

	"github.com/trustelem/zxcvbn"
)

// Refusals of the strength estimate, beyond CheckPasswordPolicy's.
var (
	ErrPasswordGuessable = errors.New("auth: password is easy to guess")
	ErrPasswordPersonal  = errors.New("auth: password is made of the person's own name, login or company")
)

// MinPasswordScore is the least zxcvbn score (0 to 4) a new password
// needs: 3 is "safely unguessable" (about 10^8 guesses and more), which
// refuses password123 and a name with a year, not a long passphrase.
const MinPasswordScore = 3

// passwordInputs are the words of a person a guesser tries first: their
// login (and its parts), name, email and the company's name.
func passwordInputs(u *model.User, company string) []string {
	var in []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if len([]rune(s)) < 2 {
			return
		}
		in = append(in, s)
		parts := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if len(parts) > 1 {
			in = append(in, strings.Join(parts, ""))
			for _, p := range parts {
				if len([]rune(p)) >= 2 {
					in = append(in, p)
				}
			}
		}
	}
	if u != nil {
		add(u.Login)
		add(u.Name)
		local, _, _ := strings.Cut(u.Email, "@")
		add(local)
	}
	add(company)
	return in
}

// CheckNewPassword is CheckPasswordPolicy and a strength estimate by
// zxcvbn that knows the person (u may be nil) and the company: a password
// that is easy to guess is refused, and one guessable because it is made
// of their own name, login or company says so.
func CheckNewPassword(pw string, u *model.User, company string) error {
	if err := CheckPasswordPolicy(pw); err != nil {
		return err
	}
	r := zxcvbn.PasswordStrength(pw, passwordInputs(u, company))
	if r.Score >= MinPasswordScore {
		return nil
	}
	for _, m := range r.Sequence {
		if m.DictionaryName == "user_inputs" {
			return ErrPasswordPersonal
		}
	}
	return ErrPasswordGuessable
}

// SetCompany names the company, whose name a password may not lean on.
func (s *Service) SetCompany(name string) { s.company = name }

// Company is the company's name SetCompany gave.
func (s *Service) Company() string { return s.company }
