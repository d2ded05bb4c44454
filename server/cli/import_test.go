package cli_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	portal "conductportal"
)

// guessablePool is a dress quiz whose every key is the longest option: a
// guesser passes it without reading the lesson.
func guessablePool() string {
	var b strings.Builder
	b.WriteString("lesson: dress\npass_mark: 80\ndraw: 6\ncooldown_minutes: 0\nmax_attempts: 0\nquestions:\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, `  - id: dress-q%02d
    clause: principles
    type: single
    prompt: {zh-CN: "着装原则是什么？", en: "What are the principles?"}
    options:
      - {id: a, zh-CN: "端庄、大方、整洁、得体、便于工作", en: "Dignified, decorous, neat, appropriate and practical"}
      - {id: b, zh-CN: 随意, en: Casual}
      - {id: c, zh-CN: 时尚, en: Trendy}
    answer: [a]
    explanation: {zh-CN: "着装原则。", en: "The principles."}
`, i)
	}
	return b.String()
}

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
	if err := os.WriteFile(filepath.Join(dir, "quizzes", "dress.yaml"), []byte(guessablePool()), 0o600); err != nil {
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
