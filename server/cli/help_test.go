package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/cli"
)

// run calls the CLI in a folder with no database and no environment of
// the machine's: help must not need one.
func runHelp(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("PORTAL_DATA", filepath.Join(t.TempDir(), "data"))
	t.Setenv("MONGODB_URI", "")
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestEveryCommandHasHelp walks the command table: each command and
// sub-command answers --help and "portal help CMD" with its usage on
// standard output and exit 0, touching no database; an unknown flag
// exits 2 with one line and a hint on standard error.
func TestEveryCommandHasHelp(t *testing.T) {
	names := cli.Commands()
	if len(names) < 12 {
		t.Fatalf("the command table lists %d commands: %v", len(names), names)
	}
	code, overview, errs := runHelp(t, "--help")
	if code != 0 || errs != "" || !strings.Contains(overview, "Usage: portal") {
		t.Fatalf("portal --help: %d %q %q", code, overview, errs)
	}
	for _, name := range names {
		if name == "help" {
			continue
		}
		words := strings.Fields(name)
		t.Run(strings.Join(words, "_"), func(t *testing.T) {
			if !strings.Contains(overview, "  "+name+" ") {
				t.Errorf("portal --help does not list %q", name)
			}
			code, out, errs := runHelp(t, append(words, "--help")...)
			if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: portal "+name) {
				t.Fatalf("portal %s --help: exit %d, stdout %q, stderr %q", name, code, out, errs)
			}
			if len(strings.TrimSpace(out)) <= len("Usage: portal "+name) && !strings.Contains(out, "\n\n") {
				t.Errorf("portal %s --help says nothing but its name: %q", name, out)
			}
			code2, out2, _ := runHelp(t, append([]string{"help"}, words...)...)
			if code2 != 0 || out2 != out {
				t.Errorf("portal help %s: exit %d, %q; want the same as --help", name, code2, out2)
			}
			if _, err := os.Stat(os.Getenv("PORTAL_DATA")); err == nil {
				t.Errorf("portal %s --help made a data folder", name)
			}
			code, out, errs = runHelp(t, append(words, "--no-such-flag")...)
			lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
			if code != 2 || out != "" || len(lines) != 2 || !strings.Contains(lines[0], "no-such-flag") ||
				!strings.Contains(lines[1], "portal "+name+" --help") {
				t.Errorf("portal %s --no-such-flag: exit %d, stdout %q, stderr %q; want 2 and an error line with a hint", name, code, out, errs)
			}
		})
	}
}

// TestUnknownCommands: a command that does not exist, a group without its
// sub-command, and a sub-command that does not exist exit 2 with a hint.
func TestUnknownCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hint string
	}{
		{[]string{"frobnicate"}, "portal --help"},
		{[]string{"user"}, "portal user --help"},
		{[]string{"user", "frobnicate"}, "portal user --help"},
		{[]string{"token", "--no-such-flag"}, "portal token --help"},
		{[]string{"help", "frobnicate"}, "portal --help"},
	} {
		code, out, errs := runHelp(t, tc.args...)
		lines := strings.Split(strings.TrimRight(errs, "\n"), "\n")
		if code != 2 || out != "" || len(lines) != 2 || !strings.Contains(lines[1], tc.hint) {
			t.Errorf("portal %v: exit %d, stdout %q, stderr %q; want 2 and a hint to %s", tc.args, code, out, errs, tc.hint)
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "help"}, {"user", "--help"}, {"help", "token"}} {
		if code, out, errs := runHelp(t, args...); code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: portal") && !strings.Contains(out, "\nUsage: portal") {
			t.Errorf("portal %v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if code, out, _ := runHelp(t, "help", "user"); code != 0 || !strings.Contains(out, "user add") || strings.Contains(out, "token create") {
		t.Errorf("portal help user lists: %d %q", code, out)
	}
}

// TestVersion prints the version lines with or without the linker's
// values (go test stamps none).
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errs := runHelp(t, args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "Conduct Portal ") ||
			!strings.Contains(out, "\ncommit: ") || !strings.Contains(out, "\nbuilt:  ") || !strings.Contains(out, "\ngo:     go1.") {
			t.Errorf("portal %v: %d %q %q", args, code, out, errs)
		}
	}
	if code, _, errs := runHelp(t, "version", "extra"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Errorf("portal version extra: %d %q", code, errs)
	}
}
