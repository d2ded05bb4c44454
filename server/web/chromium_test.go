package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChromiumVerdict: without Chromium a browser test skips with a message
// that says why, unless CI is set, when it fails; with it, it runs.
func TestChromiumVerdict(t *testing.T) {
	absent := filepath.Join(t.TempDir(), "chromium")
	missing, fatal, msg := chromiumVerdict(absent, "")
	if !missing || fatal || !strings.HasPrefix(msg, "skipped: ") || !strings.Contains(msg, absent) || !strings.Contains(msg, "CI is unset") {
		t.Fatalf("absent, CI unset: missing %v fatal %v %q; want a skip that says why", missing, fatal, msg)
	}
	missing, fatal, msg = chromiumVerdict(absent, "true")
	if !missing || !fatal || !strings.Contains(msg, absent) {
		t.Fatalf("absent, CI set: missing %v fatal %v %q; want a failure", missing, fatal, msg)
	}
	present := filepath.Join(t.TempDir(), "chromium")
	if err := os.WriteFile(present, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if missing, fatal, msg := chromiumVerdict(present, "true"); missing || fatal || msg != "" {
		t.Fatalf("present: missing %v fatal %v %q", missing, fatal, msg)
	}
}
