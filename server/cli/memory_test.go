package cli

import (
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"testing"
)

// TestDefaultMemoryLimit: serve sets the soft memory limit when GOMEMLIMIT
// is unset, and leaves the runtime's own reading of it alone when set.
func TestDefaultMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30) // as the runtime read it at start
	setMemoryLimit(log)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Fatalf("GOMEMLIMIT set: limit %d, want %d", got, 1<<30)
	}

	t.Setenv("GOMEMLIMIT", "") // t.Setenv restores it; unset it for the second half
	if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
		t.Fatal(err)
	}
	setMemoryLimit(log)
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Fatalf("GOMEMLIMIT unset: limit %d, want %d", got, defaultMemoryLimit)
	}
}
