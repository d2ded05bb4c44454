package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretBox: what is sealed opens with the key only, and the sealed
// text does not contain the plaintext.
func TestSecretBox(t *testing.T) {
	key, err := ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := NewBox(key)
	const plain = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=very-secret-key"
	sealed, err := box.Seal(plain)
	if err != nil || strings.Contains(sealed, "very-secret-key") || !Sealed(sealed) || Sealed(plain) {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	if got, err := box.Open(sealed); err != nil || got != plain {
		t.Fatalf("open: %q %v", got, err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{7}, 32))
	if _, err := other.Open(sealed); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key opened it: %v", err)
	}
	var none *Box
	if _, err := none.Seal(plain); !errors.Is(err, ErrNoKey) {
		t.Errorf("no key sealed: %v", err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("z", 64)} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	// The embedded mode's key file: made once, 0600, the same key after,
	// in a folder made for it when missing.
	dir := filepath.Join(t.TempDir(), "data")
	k1, created, err := LoadOrCreateKey(dir)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	k2, created, err := LoadOrCreateKey(dir)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v %v", created, err)
	}
	if st, _ := os.Stat(filepath.Join(dir, KeyFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
}
