// Package checkpoint signs the heads of every receipt chain with an
// Ed25519 key kept outside the database, appends the signed checkpoints
// to a file in the data folder, and proves later that the receipts a
// checkpoint covers are still in the database, unchanged and in order.
// Whoever can write the database can rewrite a user's whole chain
// consistently; they cannot re-sign the checkpoints kept elsewhere.
package checkpoint

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"conductportal/server/secret"
)

// KeyFile is the signing key kept beside the data when PORTAL_SIGNING_KEY
// is unset: base64 of the 32-byte Ed25519 seed.
const KeyFile = "signing.key"

// ParseKey reads a 32-byte Ed25519 seed written as base64 (or 64 hex
// characters) and returns the private key.
func ParseKey(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	seed, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		if h, herr := hex.DecodeString(s); herr == nil && len(h) == ed25519.SeedSize {
			seed, err = h, nil
		} else {
			return nil, errors.New("checkpoint: the signing key must be a 32-byte Ed25519 seed in base64 (openssl rand -base64 32)")
		}
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// EncodeKey is the form ParseKey reads: base64 of the seed.
func EncodeKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Seed())
}

// PublicKey is the form checkpoints name their key in: base64.
func PublicKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// Key returns the signing key: env (PORTAL_SIGNING_KEY) when set, else
// <dir>/signing.key, made (mode 0600) the first time when create is set;
// created says it was made now. Without create and without a key it
// returns nil, nil.
func Key(env, dir string, create bool) (k ed25519.PrivateKey, created bool, err error) {
	if env != "" {
		k, err := ParseKey(env)
		if err != nil {
			return nil, false, fmt.Errorf("checkpoint: PORTAL_SIGNING_KEY: %w", err)
		}
		return k, false, nil
	}
	k, err = ReadKey(dir)
	switch {
	case err == nil:
		return k, false, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, err
	case !create:
		return nil, false, nil
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, false, fmt.Errorf("checkpoint: random key: %w", err)
	}
	k = ed25519.NewKeyFromSeed(seed)
	if err := WriteKey(dir, k); errors.Is(err, os.ErrExist) {
		return Key(env, dir, create) // another process made it first
	} else if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// ReadKey reads <dir>/signing.key; an error wrapping os.ErrNotExist says
// there is none.
func ReadKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	raw, err := os.ReadFile(path) // #nosec G304 -- the portal's own data folder
	if err != nil {
		return nil, fmt.Errorf("checkpoint: read %s: %w", path, err)
	}
	k, err := ParseKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return k, nil
}

// WriteKey stores k as <dir>/signing.key (mode 0600, synced); an error
// wrapping os.ErrExist says the file is there already.
func WriteKey(dir string, k ed25519.PrivateKey) error {
	if err := secret.WriteKeyFile(filepath.Join(dir, KeyFile), EncodeKey(k)+"\n"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
