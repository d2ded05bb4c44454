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

// startAsHR starts a portal and logs an HR account in.
func startAsHR(t *testing.T) (*testkit.Portal, *caller) {
	t.Helper()
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	const pw = "hr test password"
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	return p, newCaller(t, p.Base, "hr", pw)
}

// useLang switches the caller's pages to lang.
func (cl *caller) useLang(t *testing.T, base, lang string) {
	t.Helper()
	if st, _ := cl.post(t, base+"/lang", url.Values{"lang": {lang}}); st != http.StatusSeeOther {
		t.Fatalf("switch to %s: %d", lang, st)
	}
}

// TestEditorWarnsOfGuessableQuiz: a quiz a form-only guesser passes is
// saved (a warning, not a problem) and the editor says so in the reader's
// language, naming the questions that give their key away; the shipped
// quiz draws no warning.
func TestEditorWarnsOfGuessableQuiz(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
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
		hr.useLang(t, p.Base, c.ui)
		st, body := hr.get(t, edit)
		if st != http.StatusOK || !strings.Contains(body, `id="quiz-guess"`) || !strings.Contains(body, c.want) {
			t.Fatalf("%s editor: %d, want %q in\n%s", c.ui, st, c.want, body)
		}
		if !strings.Contains(body, "dress-q01, dress-q02") || !strings.Contains(body, "single:longest") {
			t.Errorf("%s: the warning names neither the questions nor the strategy", c.ui)
		}
	}
}

// TestHistoryShowsEditorialRepairs: the repairs a shipped lesson makes to
// the handbook (front matter "editorial") are on HR's history page in
// HR's language, and the editor's draft keeps them for the next version.
func TestHistoryShowsEditorialRepairs(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	for _, c := range []struct{ ui, heading, note string }{
		{model.LangZH, "编辑修订（本文对手册原文的修补，请人事部确认）：", "读作“不可头也不抬”"},
		{model.LangEN, "Editorial repairs (where this text mends the handbook&#39;s wording; for HR to confirm):", "is read as “do not keep your head down”"},
	} {
		hr.useLang(t, p.Base, c.ui)
		st, body := hr.get(t, p.Base+"/hr/lessons/deportment/history")
		if st != http.StatusOK || !strings.Contains(body, c.heading) || !strings.Contains(body, c.note) {
			t.Fatalf("%s history: %d, want %q and %q in\n%s", c.ui, st, c.heading, c.note, body)
		}
		if _, body := hr.get(t, p.Base+"/hr/lessons/dress/history"); strings.Contains(body, c.heading) {
			t.Errorf("%s: dress has no editorial repairs, yet its history lists some", c.ui)
		}
	}
	_, d, _, err := p.Authoring.Draft(ctx, "deportment")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Files[model.LangEN], "\neditorial:\n") || !strings.Contains(d.Files[model.LangZH], "不可头也不抬") {
		t.Errorf("the draft lost the editorial notes:\n%s", d.Files[model.LangEN])
	}
}
