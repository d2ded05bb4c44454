// Package secret seals the secrets the portal keeps in its database
// (channel webhooks and signing secrets, SMTP URLs, second-factor
// secrets) with AES-256-GCM under one key: PORTAL_SECRET_KEY, or the
// embedded mode's secret.key beside the data.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoKey: a secret was to be stored or read but the portal has no key
// (PORTAL_SECRET_KEY unset with an external MongoDB).
var ErrNoKey = errors.New("secret: no PORTAL_SECRET_KEY: set it (64 hex characters, e.g. from `openssl rand -hex 32`) to store secrets")

// ErrWrongKey: a stored secret does not open with this key (the key was
// changed, or the data comes from another portal).
var ErrWrongKey = errors.New("secret: a stored secret does not open with PORTAL_SECRET_KEY (was the key changed?); enter the secret again")

// Box seals and opens secrets with AES-256-GCM. The stored form is
// "v1:" + base64(nonce | ciphertext | tag). A nil Box has no key.
type Box struct {
	aead cipher.AEAD
}

// ParseKey reads a 32-byte key written as 64 hex characters or as base64.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, errors.New("secret: PORTAL_SECRET_KEY must be 32 bytes, as 64 hex characters or base64 (openssl rand -hex 32)")
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, errors.New("secret: the secret key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// KeyFile is the key the embedded mode keeps beside its data when
// PORTAL_SECRET_KEY is unset.
const KeyFile = "secret.key"

// LoadOrCreateKey reads <dir>/secret.key, creating it (mode 0600) with a
// random key the first time; created says it was made now.
func LoadOrCreateKey(dir string) (key []byte, created bool, err error) {
	k, err := ReadKey(dir)
	if !errors.Is(err, os.ErrNotExist) {
		return k, false, err
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, fmt.Errorf("secret: random key: %w", err)
	}
	if err := WriteKey(dir, k); errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(dir) // another process made it first
	} else if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// ReadKey reads <dir>/secret.key; an error wrapping os.ErrNotExist says
// there is none.
func ReadKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	raw, err := os.ReadFile(path) // #nosec G304 -- the portal's own data folder
	if err != nil {
		return nil, fmt.Errorf("secret: read %s: %w", path, err)
	}
	k, err := ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("secret: %s: %w", path, err)
	}
	return k, nil
}

// WriteKey stores key as <dir>/secret.key (mode 0600, synced); an error
// wrapping os.ErrExist says the file is there already.
func WriteKey(dir string, key []byte) error {
	return WriteKeyFile(filepath.Join(dir, KeyFile), hex.EncodeToString(key)+"\n")
}

// WriteKeyFile writes a key file (this package's and the checkpoint
// signing key): its folder made when missing, mode 0600, created only
// when absent (an error wrapping os.ErrExist says it is there, so a key
// another process made first is never overwritten) and synced.
func WriteKeyFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the portal's own data folder
	if err != nil {
		return fmt.Errorf("secret: create %s: %w", path, err)
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("secret: write %s: %w", path, err)
	}
	return nil
}

// Seal encrypts plain; an empty plain stays empty.
func (b *Box) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if b == nil {
		return "", ErrNoKey
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return "v1:" + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal made.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if b == nil {
		return "", ErrNoKey
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil || !strings.HasPrefix(sealed, "v1:") || len(raw) < b.aead.NonceSize() {
		return "", ErrWrongKey
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

// Sealed says whether s is in the sealed form (a stored value from before
// encryption is not).
func Sealed(s string) bool { return strings.HasPrefix(s, "v1:") }
