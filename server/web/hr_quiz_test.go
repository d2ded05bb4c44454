package web_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	portal "conductportal"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/testkit"

	"golang.org/x/net/html"
)

// formValues reads the fields of the form with class cls from a page, as
// a browser would post them (checked boxes, selected options, textareas),
// without its buttons.
func formValues(t *testing.T, page, cls string) url.Values {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	text := func(n *html.Node) string {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(c.Data)
		}
		return b.String()
	}
	out := url.Values{}
	var walk func(n *html.Node, in bool)
	walk = func(n *html.Node, in bool) {
		if n.Type == html.ElementNode {
			if c, _ := attr(n, "class"); n.Data == "form" && strings.Contains(c, cls) {
				in = true
			}
			name, named := attr(n, "name")
			switch {
			case !in || !named:
			case n.Data == "input":
				typ, _ := attr(n, "type")
				v, _ := attr(n, "value")
				_, checked := attr(n, "checked")
				if typ != "checkbox" || checked {
					out.Add(name, v)
				}
			case n.Data == "textarea":
				// The parser drops one newline after <textarea>, as browsers do.
				out.Add(name, text(n))
			case n.Data == "select":
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if _, sel := attr(o, "selected"); o.Type == html.ElementNode && sel {
						v, _ := attr(o, "value")
						out.Add(name, v)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, false)
	return out
}

// Every shipped quiz, shown in the form and posted back unchanged, is
// saved as the draft's quiz byte for byte: the form stores what the YAML
// editor would.
func TestQuizFormRoundTripShipped(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	files, _ := fs.Glob(portal.Assets, "quizzes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no shipped quizzes")
	}
	for _, f := range files {
		slug := strings.TrimSuffix(strings.TrimPrefix(f, "quizzes/"), ".yaml")
		raw, _ := fs.ReadFile(portal.Assets, f)
		u := p.Base + "/hr/lessons/" + slug + "/quiz"
		st, body := hr.get(t, u)
		if st != http.StatusOK || strings.Contains(body, `class="field-error"`) || strings.Contains(body, "hr.quiz.") {
			t.Fatalf("%s: %d, field errors or raw keys on the form", slug, st)
		}
		form := formValues(t, body, "quiz-form")
		form.Set("do", "save")
		if st, _ := hr.post(t, u, form); st != http.StatusSeeOther {
			t.Fatalf("%s: save %d", slug, st)
		}
		_, d, stored, err := p.Authoring.Draft(ctx, slug)
		if err != nil || !stored {
			t.Fatalf("%s: no draft: %v", slug, err)
		}
		if d.Quiz != string(raw) {
			t.Errorf("%s: the form saved a different quiz:\n%s", slug, d.Quiz)
		}
	}
}

// The form's buttons add, move and delete questions without saving; a
// mistake is pointed out next to its field in the reader's language, the
// typed text kept, nothing stored; a good form saves the draft.
func TestQuizFormEditAndErrors(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	u := p.Base + "/hr/lessons/dress/quiz"
	_, body := hr.get(t, u)
	form := formValues(t, body, "quiz-form")
	n := len(mustFile(t, p, "dress").Questions)

	// Add: a new, empty question at the end, nothing stored.
	form.Set("do", "add")
	st, body := hr.post(t, u, form)
	if st != http.StatusOK || !strings.Contains(body, `id="question-20"`) || !strings.Contains(body, `value="dress-q20"`) {
		t.Fatalf("add: %d", st)
	}
	if _, _, stored, _ := p.Authoring.Draft(ctx, "dress"); stored {
		t.Fatal("adding a question stored a draft")
	}
	form = formValues(t, body, "quiz-form")
	if form.Get("questions") != "20" || form.Get("q19.options") != "4" {
		t.Fatalf("the new question's fields: %v", form)
	}
	// Saving it half filled: 422, the problems in Chinese by question and
	// field, the typed prompt kept.
	form.Set("q19.prompt.zh-CN", "新题<b>粗</b>")
	form.Set("do", "save")
	st, body = hr.post(t, u, form)
	for _, want := range []string{"第 20 题：请填写English题干。", "第 20 题：请填写选项 1 的中文文字。", "第 20 题：单选题至少要有 2 个选项，并且恰好勾选 1 个正确答案。",
		`新题&lt;b&gt;粗&lt;/b&gt;</textarea>`, `id="q19-prompt-en" name="q19.prompt.en" rows="3" lang="en" aria-invalid="true" aria-describedby="q19-prompt-en-err"`} {
		if !strings.Contains(body, want) {
			t.Errorf("save with problems: want %q on the page", want)
		}
	}
	if st != http.StatusUnprocessableEntity {
		t.Fatalf("save with problems: %d", st)
	}
	if _, _, stored, _ := p.Authoring.Draft(ctx, "dress"); stored {
		t.Fatal("a form with problems was stored")
	}
	// In English, the same problems in English.
	hr.useLang(t, p.Base, model.LangEN)
	_, body = hr.post(t, u, form)
	if !strings.Contains(body, "Question 20: write the question in English.") || !strings.Contains(body, "Question 20: write option 1 in 中文.") {
		t.Errorf("the English page's problems:\n%s", body)
	}

	// Filled in, moved up to first, true/false: saved.
	form = formValues(t, body, "quiz-form")
	form.Set("q19.type", quiz.TrueFalse)
	form.Set("q19.prompt.en", "New question")
	form.Set("q19.explanation.zh-CN", "解析")
	form.Set("q19.explanation.en", "Why")
	form.Set("do", "check") // the type's two options appear
	_, body = hr.post(t, u, form)
	form = formValues(t, body, "quiz-form")
	if form.Get("q19.options") != "2" || form.Get("q19.o0.id") != "true" || form.Get("q19.o1.en") != "False" {
		t.Fatalf("true/false options: %v", form)
	}
	form.Set("q19.o1.right", "1")
	for i := 19; i > 0; i-- {
		form.Set("do", "up."+strconv.Itoa(i))
		st, body = hr.post(t, u, form)
		if st != http.StatusOK {
			t.Fatalf("up.%d: %d", i, st)
		}
		form = formValues(t, body, "quiz-form")
	}
	if form.Get("q0.id") != "dress-q20" || form.Get("q1.id") != "dress-q01" || form.Get("q0.o1.right") != "1" {
		t.Fatalf("after moving up: q0 %s q1 %s", form.Get("q0.id"), form.Get("q1.id"))
	}
	// Delete the second (dress-q01), then save.
	form.Set("do", "delete.1")
	_, body = hr.post(t, u, form)
	form = formValues(t, body, "quiz-form")
	form.Set("draw", "19")
	form.Set("do", "save")
	if st, body := hr.post(t, u, form); st != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", st, body)
	}
	f := mustFile(t, p, "dress")
	if len(f.Questions) != n || f.Questions[0].ID != "dress-q20" || f.Questions[1].ID != "dress-q02" || f.Draw != "19" {
		t.Fatalf("saved: %d questions, first %s, second %s, draw %s", len(f.Questions), f.Questions[0].ID, f.Questions[1].ID, f.Draw)
	}
	q := f.Questions[0]
	if q.Type != quiz.TrueFalse || q.Prompt[model.LangZH] != "新题<b>粗</b>" || !q.Options[1].Right || q.Options[0].Right || q.Clause != "shorts-and-skirts" {
		t.Fatalf("the new question: %+v", q)
	}
	// A crafted action or a wrong CSRF token changes nothing.
	form.Set("do", "delete.99")
	if st, _ := hr.post(t, u, form); st != http.StatusBadRequest {
		t.Errorf("a crafted action: %d", st)
	}
	form.Set("do", "save")
	form.Set("_csrf", "wrong")
	form.Set("draw", "1")
	res, err := hr.c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a wrong CSRF token: %d", res.StatusCode)
	}
	if mustFile(t, p, "dress").Draw != "19" {
		t.Error("a refused post changed the draft")
	}
}

// mustFile reads the quiz of a lesson's draft (or current version).
func mustFile(t *testing.T, p *testkit.Portal, slug string) *quiz.File {
	t.Helper()
	_, d, _, err := p.Authoring.Draft(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	f, err := quiz.FileOf(d.Quiz)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
