// Package auth owns passwords, sessions and API tokens.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"conductportal/server/fault"

	"golang.org/x/crypto/argon2"
)

// Password limits. Long passphrases, Chinese included, are welcome; the
// upper bound only keeps hashing cheap to refuse abuse.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// Errors of password checks.
var (
	ErrPasswordShort error = &fault.Error{Kind: fault.Invalid, Text: "auth: password too short",
		Key: "password.short", Args: []any{MinPasswordLen}, Message: "password too short", Field: "password"}
	ErrPasswordLong error = &fault.Error{Kind: fault.Invalid, Text: "auth: password too long",
		Key: "password.long", Args: []any{MaxPasswordLen}, Message: "password too long", Field: "password"}
	ErrPasswordCommon error = &fault.Error{Kind: fault.Invalid, Text: "auth: password is one of the most common ones",
		Key: "password.common", Message: "password is one of the most common ones", Field: "password"}
)

//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords holds the 10,000 most common passwords, lower case.
var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line != "" && !strings.HasPrefix(line, "# ") {
			m[line] = struct{}{}
		}
	}
	return m
}()

// argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// hashSlots bounds how many argon2id computations (19 MiB, ~40 ms of a
// core each) run at once: one per core.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func argonKey(pw, salt []byte, t, mem uint32, threads uint8, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, t, mem, threads, n)
}

// CheckPasswordPolicy says whether a new password is acceptable.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return ErrPasswordShort
	}
	if n > MaxPasswordLen {
		return ErrPasswordLong
	}
	if _, ok := commonPasswords[strings.ToLower(pw)]; ok {
		return ErrPasswordCommon
	}
	return nil
}

// HashPassword returns an argon2id hash in PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argonKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is compared against when the login does not exist, so that
// unknown and known logins take the same time to refuse.
var dummyHash, _ = HashPassword("conduct-portal-dummy-password")

// VerifyPassword reports whether pw matches hash, in constant time. It
// waits for a hash slot.
func VerifyPassword(hash, pw string) bool {
	return verify(hash, pw, argonKey)
}

func verify(hash, pw string, key func(pw, salt []byte, t, mem uint32, threads uint8, n uint32) []byte) bool {
	h, ok := parseHash(hash)
	if !ok {
		return false
	}
	got := key([]byte(pw), h.salt, h.t, h.mem, h.threads, uint32(len(h.key))) // #nosec G115 -- at most 64, checked by parseHash
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// phc is an argon2id hash in PHC string format, taken apart.
type phc struct {
	mem, t    uint32
	threads   uint8
	salt, key []byte
}

// parseHash reads a hash HashPassword wrote; ok is false for anything
// else, parameters this portal never writes included.
func parseHash(hash string) (phc, bool) {
	var h phc
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.mem, &h.t, &h.threads); err != nil {
		return h, false
	}
	b64 := base64.RawStdEncoding
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return h, false
	}
	h.key, err = b64.DecodeString(parts[5])
	if err != nil || len(h.key) == 0 || len(h.key) > 64 {
		return h, false
	}
	if h.mem > 256*1024 || h.t > 10 || h.threads == 0 {
		return h, false // not parameters this portal writes
	}
	return h, true
}

// RandomPassword returns a password for first use: 16 characters from an
// alphabet without look-alikes (about 90 bits).
func RandomPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("auth: crypto/rand failed: %w", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
