package web

import (
	"errors"
	"strconv"
	"strings"

	"conductportal/server/authoring"
	"conductportal/server/lesson"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/quiz"

	"github.com/gofiber/fiber/v2"
)

// The form editor's bounds: what no quiz needs, so a crafted post cannot
// make the page build an unbounded form.
const (
	maxFormQuestions = 500
	maxFormOptions   = 26
)

// quizFormPage is a lesson's quiz as a form: one fieldset per question,
// both languages side by side, the problems next to their fields.
type quizFormPage struct {
	Lesson  *model.Lesson
	Title   string
	Stored  bool
	Draft   *model.Draft
	File    *quiz.File
	Langs   []string
	Types   []string
	Clauses []lesson.Clause // of the draft's text, titles in the reader's language
	// Errors are the field problems by field name, in the reader's language;
	// Summary lists them all, in order, for the box at the top.
	Errors  map[string][]string
	Summary []fieldMessage
	Other   []lesson.Problem // the quiz check's problems no field names
	Drawn   []*quiz.Question
	Unsaved bool // the form shows changes not saved yet
	// Rewrites: the stored YAML is laid out otherwise (comments, order):
	// saving from the form writes the same quiz in the standard layout.
	Rewrites bool
	Broken   string // the stored YAML cannot be read as a form: why
}

// fieldMessage is one problem, with the id of the field it belongs to.
type fieldMessage struct {
	ID   string
	Text string
}

// Err returns the problems of a field.
func (p quizFormPage) Err(field string) []string { return p.Errors[field] }

// ID is the HTML id of a form field ("q0.prompt.en" → "q0-prompt-en").
func (p quizFormPage) ID(field string) string { return fieldID(field) }

// Known says whether a clause id is one of the lesson's.
func (p quizFormPage) Known(id string) bool {
	for _, c := range p.Clauses {
		if c.ID == id {
			return true
		}
	}
	return false
}

func fieldID(field string) string { return strings.ReplaceAll(field, ".", "-") }

// quizClauses lists the clauses of the draft's source text, titled in ui
// where that language's text has the same clause.
func quizClauses(d *model.Draft, ui string) []lesson.Clause {
	src, _ := lesson.Parse(model.LangZH, model.LangZH, []byte(d.Files[model.LangZH]))
	if src == nil {
		return nil
	}
	titles := map[string]string{}
	if doc, _ := lesson.Parse(ui, ui, []byte(d.Files[ui])); doc != nil {
		for _, c := range doc.Clauses {
			titles[c.ID] = c.Title
		}
	}
	out := make([]lesson.Clause, 0, len(src.Clauses))
	for _, c := range src.Clauses {
		if t := titles[c.ID]; t != "" {
			c.Title = t
		}
		out = append(out, lesson.Clause{ID: c.ID, Title: c.Title})
	}
	return out
}

func (h *handler) hrQuizShow(c *fiber.Ctx) error {
	l, d, stored, err := h.Authoring.Draft(ctx(c), c.Params("slug"))
	if err != nil {
		return err
	}
	p := quizFormPage{Lesson: l, Stored: stored, Draft: d}
	f, err := quiz.FileOf(d.Quiz)
	if err != nil {
		p.Broken = err.Error()
		return h.renderQuizForm(c, &p, "")
	}
	p.File, p.Rewrites = f, f.YAML() != d.Quiz
	h.checkQuizForm(c, &p)
	return h.renderQuizForm(c, &p, "")
}

// checkQuizForm fills the page's problems and, when there are none, a
// drawn attempt.
func (h *handler) checkQuizForm(c *fiber.Ctx, p *quizFormPage) {
	ui := langOf(c)
	clauses := authoring.ClauseIDs(model.LangZH, p.Draft.Files[model.LangZH])
	p.Errors = map[string][]string{}
	for _, e := range p.File.Check(clauses) {
		msg := fieldErrorText(ui, e)
		p.Errors[e.Field] = append(p.Errors[e.Field], msg)
		p.Summary = append(p.Summary, fieldMessage{ID: fieldID(e.Field), Text: msg})
	}
	src := p.File.YAML()
	_, probs := authoring.Check(p.Lesson.Slug, p.Draft.Files, src)
	if len(p.Summary) == 0 {
		p.Other = probs[authoring.QuizPart]
	}
	if len(p.Summary) == 0 && len(p.Other) == 0 {
		p.Drawn, _ = authoring.DrawPreview(src, clauses)
	}
}

// fieldErrorText says what is wrong with a field in ui: the question's
// number first, then the problem naming the field and the language.
func fieldErrorText(ui string, e quiz.FieldError) string {
	var args []any
	if e.Lang != "" {
		args = append(args, locale.T(ui, "lang."+e.Lang))
	}
	if e.N != 0 {
		args = append(args, e.N)
	}
	msg := locale.T(ui, "hr.quiz.err."+e.Code, args...)
	if e.Q > 0 {
		msg = locale.T(ui, "hr.quiz.err.in", e.Q) + msg
	}
	return msg
}

func (h *handler) renderQuizForm(c *fiber.Ctx, p *quizFormPage, errMsg string) error {
	ui := langOf(c)
	p.Title, p.Langs, p.Types = p.Lesson.Title(ui), model.Languages, quiz.Types
	p.Clauses = quizClauses(p.Draft, ui)
	pg := &page{Title: locale.T(ui, "hr.quiz.title", p.Title), Data: *p, Error: errMsg}
	return h.renderPage(c, "hr_quiz", pg)
}

// hrQuizSubmit applies the form's button: save (the whole quiz as the
// draft's quiz, when it has no problems), check (problems and a drawn
// attempt), or a change to the questions (add, move, delete, options),
// shown back unsaved. Nothing but save stores anything.
func (h *handler) hrQuizSubmit(c *fiber.Ctx) error {
	slug := c.Params("slug")
	l, d, stored, err := h.Authoring.Draft(ctx(c), slug)
	if err != nil {
		return err
	}
	f := quizFileOfForm(c)
	f.Lesson = l.Slug
	p := quizFormPage{Lesson: l, Stored: stored, Draft: d, File: f, Unsaved: true}
	do := c.FormValue("do")
	switch do {
	case "save":
		h.checkQuizForm(c, &p)
		if len(p.Summary) > 0 || len(p.Other) > 0 {
			c.Status(fiber.StatusUnprocessableEntity)
			return h.renderQuizForm(c, &p, locale.T(langOf(c), "hr.quiz.not_saved"))
		}
		if _, _, err := h.Authoring.SaveDraft(ctx(c), actor(c), slug, "", "", f.YAML()); err != nil {
			return err
		}
		return c.Redirect("/hr/lessons/"+slug+"/quiz?m=hr.draft.saved", fiber.StatusSeeOther)
	case "check", "":
		h.checkQuizForm(c, &p)
		if len(p.Summary) > 0 || len(p.Other) > 0 {
			c.Status(fiber.StatusUnprocessableEntity)
		}
		return h.renderQuizForm(c, &p, "")
	}
	if err := applyQuizAction(f, slug, do); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return h.renderQuizForm(c, &p, "")
}

var errQuizAction = errors.New("web: unknown quiz form action")

// applyQuizAction changes the questions as a button asks: add, up.N,
// down.N, delete.N, addopt.N, delopt.N.M (N and M count from 0).
func applyQuizAction(f *quiz.File, slug, do string) error {
	verb, rest, _ := strings.Cut(do, ".")
	a, rest, _ := strings.Cut(rest, ".")
	i, err := strconv.Atoi(a)
	if verb == "add" {
		i, err = 0, nil
	}
	if err != nil || i < 0 || (verb != "add" && i >= len(f.Questions)) {
		return errQuizAction
	}
	qs := f.Questions
	switch verb {
	case "add":
		if len(qs) >= maxFormQuestions {
			return errQuizAction
		}
		q := quiz.FileQuestion{ID: f.NextQuestionID(slug), Type: quiz.Single, Prompt: quiz.Text{}, Explanation: quiz.Text{}}
		if len(qs) > 0 {
			q.Clause = qs[len(qs)-1].Clause // questions of one clause come together
		}
		for range 4 {
			q.Options = append(q.Options, quiz.FileOption{ID: q.NextOptionID(), Text: quiz.Text{}})
		}
		f.Questions = append(qs, q)
	case "up":
		if i > 0 {
			qs[i-1], qs[i] = qs[i], qs[i-1]
		}
	case "down":
		if i+1 < len(qs) {
			qs[i+1], qs[i] = qs[i], qs[i+1]
		}
	case "delete":
		f.Questions = append(qs[:i], qs[i+1:]...)
	case "addopt":
		q := &qs[i]
		if q.Type == quiz.TrueFalse || len(q.Options) >= maxFormOptions {
			return errQuizAction
		}
		q.Options = append(q.Options, quiz.FileOption{ID: q.NextOptionID(), Text: quiz.Text{}})
	case "delopt":
		q := &qs[i]
		j, err := strconv.Atoi(rest)
		if err != nil || j < 0 || j >= len(q.Options) || q.Type == quiz.TrueFalse {
			return errQuizAction
		}
		q.Options = append(q.Options[:j], q.Options[j+1:]...)
	default:
		return errQuizAction
	}
	return nil
}

// quizFileOfForm reads the form's fields back into a quiz file, as typed.
// A true/false question gets its two options (choosing the type is all
// HR does); its right answer is kept.
func quizFileOfForm(c *fiber.Ctx) *quiz.File {
	v := func(name string) string { return c.FormValue(name) }
	text := func(prefix string) quiz.Text {
		t := quiz.Text{}
		for _, lang := range model.Languages {
			t[lang] = normalizeNewlines(v(prefix + "." + lang))
		}
		return t
	}
	count := func(name string, most int) int {
		n, _ := strconv.Atoi(v(name))
		return min(max(n, 0), most)
	}
	f := &quiz.File{PassMark: strings.TrimSpace(v("pass_mark")), Draw: strings.TrimSpace(v("draw")),
		CooldownMinutes: v("cooldown_minutes"), MaxAttempts: v("max_attempts"),
		Review: v("review"), CooldownAfter: v("cooldown_after"), CooldownWait: v("cooldown_wait")}
	for i := range count("questions", maxFormQuestions) {
		q := quiz.FileQuestion{ID: strings.TrimSpace(v(quiz.QField(i, "id"))), Type: v(quiz.QField(i, "type")), Clause: v(quiz.QField(i, "clause")),
			Scenario: v(quiz.QField(i, "scenario")) != "", Prompt: text(quiz.QField(i, "prompt")), Explanation: text(quiz.QField(i, "explanation"))}
		for j := range count(quiz.QField(i, "options"), maxFormOptions) {
			o := quiz.FileOption{ID: v(quiz.OptField(i, j, "id")), Right: v(quiz.OptField(i, j, "right")) != "", Text: quiz.Text{}}
			for _, lang := range model.Languages {
				o.Text[lang] = v(quiz.OptField(i, j, lang))
			}
			q.Options = append(q.Options, o)
		}
		if q.Type == quiz.TrueFalse && !(len(q.Options) == 2 && q.Options[0].ID == "true" && q.Options[1].ID == "false") {
			tf := quiz.TrueFalseOptions()
			for k := range tf {
				for _, o := range q.Options {
					if o.ID == tf[k].ID {
						tf[k].Right = o.Right
					}
				}
			}
			q.Options = tf
		}
		f.Questions = append(f.Questions, q)
	}
	return f
}
