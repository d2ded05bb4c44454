package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestEditorWarnsOfGuessableQuiz: a quiz a form-only guesser passes is
// saved (a warning, not a problem) and the editor says so in the reader's
// language, naming the questions that give their key away; the shipped
// quiz draws no warning.
func TestEditorWarnsOfGuessableQuiz(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "guess test password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)
	edit := p.Base + "/hr/lessons/dress/edit"
	if st, body := hr.get(t, edit); st != http.StatusOK || strings.Contains(body, `id="quiz-guess"`) {
		t.Fatalf("shipped quiz: %d, warning shown: %v", st, strings.Contains(body, `id="quiz-guess"`))
	}
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	pool := testkit.GuessablePool("dress", "principles")
	st, _ := hr.post(t, edit, url.Values{"lang": {model.LangZH}, "text": {d.Files[model.LangZH]}, "quiz": {pool}, "do": {"save"}})
	if st != http.StatusSeeOther {
		t.Fatalf("save: %d", st)
	}
	if _, saved, _, err := p.Authoring.Draft(ctx, "dress"); err != nil || saved.Quiz != pool {
		t.Fatalf("the guessable quiz was not saved: %v", err)
	}
	for _, c := range []struct{ ui, want string }{
		{model.LangZH, "在中文版中首次测验的通过率为 100.0%（上限 5%）"},
		{model.LangEN, "in English, a guesser who never reads the lesson and answers by form alone passes a first attempt 100.0% of the time (limit 5%)"},
	} {
		if st, _ := hr.post(t, p.Base+"/lang", url.Values{"lang": {c.ui}}); st != http.StatusSeeOther {
			t.Fatalf("switch to %s: %d", c.ui, st)
		}
		st, body := hr.get(t, edit)
		if st != http.StatusOK || !strings.Contains(body, `id="quiz-guess"`) || !strings.Contains(body, c.want) {
			t.Fatalf("%s editor: %d, want %q in\n%s", c.ui, st, c.want, body)
		}
		if !strings.Contains(body, "dress-q01, dress-q02") || !strings.Contains(body, "single:longest") {
			t.Errorf("%s: the warning names neither the questions nor the strategy", c.ui)
		}
	}
}
