package cli_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	portal "conductportal"
	"conductportal/server/testkit"
)

// TestImportWarnsOfGuessablePool: "import --check" and "import" name a
// pool that a form-only guesser passes, and import it all the same; the
// shipped pools draw no warning.
func TestImportWarnsOfGuessablePool(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(portal.Assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasPrefix(p, "content/") || strings.HasPrefix(p, "quizzes/")) {
			return err
		}
		src, err := fs.ReadFile(portal.Assets, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o750); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), src, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	code, out, errs := runCLI(t, data, "import", "--check", dir)
	if code != 0 || strings.Contains(out, "warning") || !strings.Contains(out, "ok, 6 lessons") {
		t.Fatalf("shipped content: %d\n%s\n%s", code, out, errs)
	}
	if err := os.WriteFile(filepath.Join(dir, "quizzes", "dress.yaml"), []byte(testkit.GuessablePool("dress", "principles")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "--check", dir}, {"import", dir}} {
		code, out, errs := runCLI(t, data, args...)
		if code != 0 {
			t.Fatalf("%v: %d\n%s\n%s", args, code, out, errs)
		}
		for _, lang := range []string{"zh-CN", "en"} {
			want := "quizzes/dress.yaml: warning (" + lang + "): a guesser who never reads the lesson passes a first attempt 100.0 %"
			if !strings.Contains(out, want) {
				t.Errorf("%v: no warning %q in\n%s", args, want, out)
			}
		}
		if strings.Count(out, "warning") != 2 {
			t.Errorf("%v: only the dress quiz is guessable:\n%s", args, out)
		}
	}
	if code, out, _ := runCLI(t, data, "import", dir); code != 0 || !strings.Contains(out, "dress: unchanged (version 1)") {
		t.Errorf("the warned quiz was not imported: %d\n%s", code, out)
	}
}
