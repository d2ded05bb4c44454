package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHashing(t *testing.T) {
	for _, pw := range []string{"correct horse battery", "我的密码是一句很长的中文话", strings.Repeat("长", 200)} {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, pw) {
			t.Fatalf("hash %q", h)
		}
		if !VerifyPassword(h, pw) {
			t.Fatalf("%q does not verify", pw)
		}
		// No silent truncation: a change in the last character matters.
		if VerifyPassword(h, pw[:len(pw)-1]+"x") || VerifyPassword(h, "") {
			t.Fatalf("%q: a different password verified", pw)
		}
	}
	h1, _ := HashPassword("same password")
	h2, _ := HashPassword("same password")
	if h1 == h2 {
		t.Fatal("hashes are not salted")
	}
	if VerifyPassword("$2a$12$garbage", "x") || VerifyPassword("", "") {
		t.Fatal("malformed hashes must not verify")
	}
}

func TestPasswordPolicy(t *testing.T) {
	if !errors.Is(CheckPasswordPolicy("1234567"), ErrPasswordShort) || CheckPasswordPolicy("kx7!pq2z") != nil {
		t.Fatal("minimum length is 8")
	}
	if CheckPasswordPolicy(strings.Repeat("密", 64)) != nil || !errors.Is(CheckPasswordPolicy(strings.Repeat("密", 257)), ErrPasswordLong) {
		t.Fatal("64 Chinese characters must be accepted, 257 refused")
	}
	for _, pw := range []string{"password", "Password1", "12345678", "iloveyou", "QWERTYUIOP"} {
		if !errors.Is(CheckPasswordPolicy(pw), ErrPasswordCommon) && !errors.Is(CheckPasswordPolicy(pw), ErrPasswordShort) {
			t.Errorf("%q must be refused as common", pw)
		}
	}
	if !errors.Is(CheckPasswordPolicy("password1"), ErrPasswordCommon) || len(commonPasswords) < 9900 {
		t.Fatalf("the common list is not loaded (%d entries)", len(commonPasswords))
	}
	if a, b := RandomPassword(), RandomPassword(); len(a) != 16 || a == b {
		t.Fatal("random passwords")
	}
}
