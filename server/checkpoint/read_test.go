package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLastSigned: the serve job counts its day from the file's last
// checkpoint; no file or a damaged last line means sign now.
func TestLastSigned(t *testing.T) {
	dir := t.TempDir()
	if last, err := LastSigned(dir); err != nil || !last.IsZero() {
		t.Fatalf("no file: %v %v", last, err)
	}
	lines := `{"seq":1,"time":"2026-12-01T08:00:00Z"}` + "\n" + `{"seq":2,"time":"2026-12-02T08:00:00Z"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, File), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	last, err := LastSigned(dir)
	if want := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC); err != nil || !last.Equal(want) {
		t.Fatalf("last signed %v (%v), want %v", last, err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, File), []byte(lines+"{damaged\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if last, err := LastSigned(dir); err != nil || !last.IsZero() {
		t.Fatalf("a damaged last line: %v %v", last, err)
	}
}
