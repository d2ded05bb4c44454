package web

import (
	"bytes"
	"fmt"
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/training"
)

// hostile holds every character html/template escapes in some context,
// invalid UTF-8, a NUL, valid and broken percent escapes, a script scheme
// and markup.
var hostile = []string{
	"",
	"plain",
	"/lessons/a b",
	`<script>alert("x&y'+z")</script>`,
	"javascript:alert(1)",
	"JaVaScRiPt:x",
	"https://example.com/a?b=c&d=e+f#g",
	"mailto:a@b.c",
	"a/b:c",
	"%41%zz%4",
	"\x00\xff\xfe中文 é \u2028 \ufdd0 \ufffe",
	"!#$&*+,/:;=?@[]-._~()'\" `{}|^\\",
	"data:text/html,<b>",
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func hostileString(r *rand.Rand) string { return pick(r, hostile...) }

// randomPage is a page with every field the layout reads chosen at random.
func randomPage(r *rand.Rand) *page {
	p := &page{
		Lang:    pick(r, model.LangZH, model.LangEN),
		CSRF:    pick(r, "tok-0123456789abcdef", hostileString(r)),
		Title:   hostileString(r),
		Notice:  pick(r, "", hostileString(r)),
		Error:   pick(r, "", hostileString(r)),
		Path:    pick(r, "/", "/lessons/x", "/attempts/y", "/receipts", "/receipts/z", "/team", "/people/li", "/organisation", "/notifications", "/hr", "/hr/people", "/admin/settings", "/password", "/mfa/setup", "/certificate", "/tokens", "/verify", hostileString(r)),
		Company: pick(r, "", "物业公司", hostileString(r)),
		Logo:    pick(r, "", "/static/logo-abc.png", hostileString(r)),
		Demo:    r.IntN(2) == 0,
		Tokens:  r.IntN(2) == 0,
	}
	prefix := pick(r, "/static/", hostileString(r))
	p.Static = func(name string) string { return prefix + name }
	if r.IntN(5) > 0 {
		roles := [][]string{{model.RoleEmployee}, {model.RoleManager}, {model.RoleHR}, {model.RoleAdmin}, {model.RoleManager, model.RoleHR, model.RoleAdmin}}
		p.User = &model.User{Name: pick(r, "李娜", hostileString(r)), Roles: pick(r, roles...),
			MustChangePassword: r.IntN(4) == 0, Unread: pick(r, 0, 0, 3, 120)}
	}
	return p
}

// TestLayoutMatchesTemplate writes pages of every kind of user, path and
// hostile value through layout.go and through layout.html, which must agree
// byte for byte: the Go layout is the template, without the reflection.
func TestLayoutMatchesTemplate(t *testing.T) {
	tpl, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		t.Fatal(err)
	}
	if tpl, err = tpl.Parse(`{{define "content"}}<p title="{{.Title}}">{{.Path}}</p>{{end}}`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		p := randomPage(r)
		comparePages(t, fmt.Sprintf("page %d (%+v, user %+v)", i, *p, p.User), tpl, "other", p)
	}
}

// comparePages fails unless writePage writes what executing want does.
func comparePages(t *testing.T, what string, want *template.Template, name string, p *page) {
	t.Helper()
	var a, b bytes.Buffer
	if err := want.Execute(&a, p); err != nil {
		t.Fatalf("%s: template: %v", what, err)
	}
	if err := writePage(&b, want, name, p); err != nil {
		t.Fatalf("%s: writePage: %v", what, err)
	}
	if a.String() != b.String() {
		t.Fatalf("%s: the Go page differs from the template's at byte %d:\ntemplate: %q\nGo:       %q",
			what, firstDiff(a.String(), b.String()), around(a.String(), firstDiff(a.String(), b.String())), around(b.String(), firstDiff(a.String(), b.String())))
	}
}

func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(s string, i int) string { return s[max(0, i-80):min(len(s), i+80)] }

// TestLessonPageMatchesTemplate writes the lesson page in each of its
// states (every status, read or not, cool-down, renewal, receipt,
// translation notices, a diff, hostile text, slugs and clause ids) through
// lesson_html.go and through lesson.html: they must agree byte for byte.
func TestLessonPageMatchesTemplate(t *testing.T) {
	tpls, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tpl := tpls.pages["lesson"]
	r := rand.New(rand.NewPCG(3, 4))
	day := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	codes := []string{training.StatusNotStarted, training.StatusReading, training.StatusQuizPassed, training.StatusDone, training.StatusNeedsReack}
	seen := map[string]bool{}
	for i := range 3000 {
		p := randomPage(r)
		version := 1 + r.IntN(3)
		st := &training.Standing{Code: pick(r, codes...), QuizDone: r.IntN(2) == 0, Renewal: r.IntN(3) == 0,
			Progress: model.LessonProgress{ReadVersion: r.IntN(4), AckVersion: r.IntN(4)}}
		if st.Renewal {
			st.Expires = day.AddDate(0, r.IntN(12), 0)
		}
		var clauses []model.Clause
		for range r.IntN(4) {
			clauses = append(clauses, model.Clause{ID: pick(r, "c-1", "clause-two", hostileString(r)), Title: hostileString(r)})
		}
		d := lessonPage{
			Lesson:   &model.Lesson{Slug: pick(r, "attendance", "dress", hostileString(r))},
			Version:  &model.LessonVersion{Version: version, Published: day.AddDate(0, 0, r.IntN(400))},
			Text:     model.LessonText{Title: hostileString(r), Summary: hostileString(r), Clauses: clauses, HTML: pick(r, "<h2 id=\"a\">A</h2><p>x &amp; y</p>", "")},
			Standing: st,
			TextLang: pick(r, model.LangZH, model.LangEN, hostileString(r)),
			Outdated: r.IntN(3) == 0,
			Other:    pick(r, "", model.LangZH, model.LangEN),
			Journey:  journey{N: r.IntN(3), M: 6},
		}
		if r.IntN(2) == 0 {
			d.ReceiptID = pick(r, "rcpt-1", hostileString(r))
		}
		if r.IntN(3) == 0 {
			d.SignedVersion = version - 1
			d.Diff = template.HTML(pick(r, "<ins>new</ins>", "<del>&lt;old&gt;</del>")) // #nosec G203 -- test data
		}
		if r.IntN(3) == 0 {
			d.CooldownUntil = day.Add(time.Duration(r.IntN(100)) * time.Hour)
		}
		for _, k := range []string{stepRead, stepQuiz, stepSign} {
			done := r.IntN(2) == 0
			d.Journey.Steps = append(d.Journey.Steps, journeyStep{Key: k, Done: done, Current: !done && r.IntN(2) == 0})
		}
		p.Data = d
		seen[fmt.Sprintf("%s quiz=%v unread=%v cooldown=%v", st.Code, st.QuizDone, st.Progress.ReadVersion < version, !d.CooldownUntil.IsZero())] = true
		comparePages(t, fmt.Sprintf("lesson page %d (%+v, %+v)", i, d, *st), tpl, "lesson", p)
	}
	// Every branch of the actions was written at least once.
	if len(seen) < len(codes)*2*2*2 {
		t.Errorf("only %d of %d states of the actions were compared", len(seen), len(codes)*8)
	}
}

func TestProcessURL(t *testing.T) {
	for _, c := range []struct {
		in        string
		norm      bool
		want      string
		allocates bool
	}{
		{"attendance", true, "attendance", false},
		{"a b/é", true, "a%20b/%c3%a9", true},
		{"%41%zz", true, "%41%25zz", true},
		{"a/b?c=d", false, "a%2fb%3fc%3dd", true},
	} {
		if got := processURL(c.in, c.norm); got != c.want {
			t.Errorf("processURL(%q, %v) = %q, want %q", c.in, c.norm, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { processURL("attendance-2", true) }); n != 0 {
		t.Errorf("a URL with nothing to encode allocates %v times", n)
	}
}

// The writer's text escaping is html/template's, character for character.
func TestTextEscapesAsTemplate(t *testing.T) {
	tpl := template.Must(template.New("x").Parse(`<p title="{{.}}">{{.}}</p>`))
	for c := range 256 {
		s := strings.Repeat(string([]byte{byte(c)}), 2) + "中"
		var a, b bytes.Buffer
		if err := tpl.Execute(&a, s); err != nil {
			t.Fatal(err)
		}
		w := htmlWriter{&b}
		w.raw(`<p title="`)
		w.text(s)
		w.raw(`">`)
		w.text(s)
		w.raw(`</p>`)
		if a.String() != b.String() {
			t.Errorf("byte %#x: template %q, writer %q", c, a.String(), b.String())
		}
	}
}

// TestTrainingPageMatchesTemplate writes the home page (no lessons, some
// to do, all done, overdue, renewal, a certificate line, a manager's team
// summary, hostile titles and slugs) through training_html.go and through
// training.html: they must agree byte for byte.
func TestTrainingPageMatchesTemplate(t *testing.T) {
	tpls, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tpl := tpls.pages["training"]
	r := rand.New(rand.NewPCG(5, 6))
	day := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	codes := []string{training.StatusNotStarted, training.StatusReading, training.StatusQuizPassed, training.StatusDone, training.StatusNeedsReack}
	for i := range 2000 {
		p := randomPage(r)
		d := trainingPage{Certificate: pick(r, "", hostileString(r))}
		for range r.IntN(5) {
			st := training.Standing{Lesson: model.Lesson{Slug: pick(r, "dress", hostileString(r))}, Code: pick(r, codes...),
				Overdue: r.IntN(3) == 0, Renewal: r.IntN(4) == 0, Due: day.AddDate(0, 0, r.IntN(90))}
			d.Rows = append(d.Rows, trainingRow{Standing: st, Title: hostileString(r)})
		}
		d.Total = len(d.Rows)
		for j := range d.Rows {
			if d.Rows[j].Code == training.StatusDone {
				d.Done++
			} else if d.Next == nil {
				d.Next = &d.Rows[j]
			}
		}
		if r.IntN(3) == 0 {
			d.Team = &teamSummary{People: r.IntN(9), Percent: r.IntN(101), OverduePeople: r.IntN(2), FailedPeople: r.IntN(2), ReackPeople: r.IntN(2),
				Export: newExportForm("home-export", "/team/export.csv", "/team/export.xlsx", nil)}
		}
		p.Data = d
		comparePages(t, fmt.Sprintf("home page %d (%+v)", i, d), tpl, "training", p)
	}
}

// TestQuizPageMatchesTemplate writes the quiz form (single and multiple
// choice, answers given again after a refused submit, blank questions,
// hostile prompts, options and ids) through quiz_html.go and through
// quiz.html: they must agree byte for byte.
func TestQuizPageMatchesTemplate(t *testing.T) {
	tpls, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	tpl := tpls.pages["quiz"]
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 2000 {
		p := randomPage(r)
		d := quizPage{Attempt: &model.Attempt{ID: pick(r, "a-1", hostileString(r)), PassMark: r.IntN(101)},
			Journey: journey{N: r.IntN(3), M: 6, Steps: []journeyStep{{Key: stepRead, Done: true}, {Key: stepQuiz, Current: true}, {Key: stepSign}}}}
		for n := range r.IntN(4) {
			q := quizQuestion{N: n + 1, ID: pick(r, "q1", hostileString(r)), Prompt: hostileString(r), Multiple: r.IntN(2) == 0, Unanswered: r.IntN(3) == 0}
			for range r.IntN(4) {
				q.Options = append(q.Options, quizOption{ID: pick(r, "a", hostileString(r)), Text: hostileString(r), Chosen: r.IntN(2) == 0})
			}
			if q.Unanswered {
				d.Unanswered = append(d.Unanswered, q.N)
			} else {
				d.Answered++
			}
			d.Questions = append(d.Questions, q)
		}
		p.Data = d
		comparePages(t, fmt.Sprintf("quiz page %d (%+v)", i, d), tpl, "quiz", p)
	}
}
