package web

import (
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"conductportal/server/authoring"
	"conductportal/server/fault"
	"conductportal/server/lesson"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/quiz"

	"github.com/gofiber/fiber/v2"
)

type hrLessonsPage struct {
	Rows []authoring.LessonRow
}

func (h *handler) hrLessons(c *fiber.Ctx) error {
	rows, err := h.Authoring.Lessons(ctx(c))
	if err != nil {
		return err
	}
	pg := &page{Title: locale.T(langOf(c), "hr.lessons.title"), Data: hrLessonsPage{Rows: rows}}
	if c.Query("m") == "hr.draft.discarded" {
		// The notice names the lesson whose draft went.
		for _, r := range rows {
			if r.Lesson.Slug == c.Query("slug") {
				pg.Notice = locale.T(langOf(c), "hr.draft.discarded", r.Lesson.Title(langOf(c)))
			}
		}
	}
	return h.renderPage(c, "hr_lessons", pg)
}

// editPage is the editor of one language of a lesson's draft.
type editPage struct {
	Lesson        *model.Lesson
	Title         string
	Lang          string // the language of the text being edited
	Langs         []string
	File          string
	Quiz          string
	Stored        bool // a draft is stored
	Draft         *model.Draft
	Preview       *authoring.Preview
	Problems      []lesson.Problem // of this language's text
	QuizProblems  []lesson.Problem
	QuizWarnings  []string // a form-only guesser passes the quiz: a warning, not a problem
	OtherProblems int      // in the other languages
	Drawn         []*quiz.Question
	Previewing    bool // the page shows unsaved text
	// Settings are the quiz's review policy and cool-down, for the
	// controls beside the quiz text; Reviews the policies offered.
	Settings quiz.Settings
	Reviews  []string
}

// quizSettings applies the editor's review and cool-down controls to the
// quiz text, but only those HR changed (each control sends the value it
// was shown with): a change typed in the text itself is kept.
func quizSettings(c *fiber.Ctx, src string) string {
	was := quiz.Settings{Review: c.FormValue("review_was"), CooldownWait: c.FormValue("cooldown_wait_was")}
	now := quiz.Settings{Review: c.FormValue("review"), CooldownWait: strings.TrimSpace(c.FormValue("cooldown_wait"))}
	was.CooldownAfter, _ = strconv.Atoi(c.FormValue("cooldown_after_was"))
	after := strings.TrimSpace(c.FormValue("cooldown_after"))
	now.CooldownAfter, _ = strconv.Atoi(after)
	switch {
	case after == "":
		now.CooldownAfter, now.CooldownWait = 0, "" // no cool-down
	case after != strconv.Itoa(now.CooldownAfter):
		now.CooldownAfter = -1 // not a number: Parse names the field
	}
	if c.FormValue("review") == "" || now == was {
		return src
	}
	return quiz.WithSettings(src, now)
}

// editLang is the language of the text to edit: ?lang= or the form's.
func editLang(c *fiber.Ctx) string {
	lang := c.FormValue("lang", c.Query("lang"))
	if slices.Contains(model.Languages, lang) {
		return lang
	}
	return model.LangZH
}

func (h *handler) hrEditShow(c *fiber.Ctx) error {
	l, d, stored, err := h.Authoring.Draft(ctx(c), c.Params("slug"))
	if err != nil {
		return err
	}
	lang := editLang(c)
	return h.renderEdit(c, l, d, stored, lang, d.Files[lang], d.Quiz, false, "")
}

// renderEdit shows the editor with file and quizSrc as the texts of lang,
// checked together with the draft's other languages.
func (h *handler) renderEdit(c *fiber.Ctx, l *model.Lesson, d *model.Draft, stored bool, lang, file, quizSrc string, previewing bool, errMsg string) error {
	files := map[string]string{}
	for k, v := range d.Files {
		files[k] = v
	}
	files[lang] = file
	_, probs := authoring.Check(l.Slug, files, quizSrc)
	pv, err := h.Authoring.Preview(lang, file)
	if err != nil {
		return err
	}
	p := editPage{
		Lesson: l, Title: l.Title(langOf(c)), Lang: lang, Langs: model.Languages, File: file, Quiz: quizSrc,
		Stored: stored, Draft: d, Preview: pv, Problems: probs[lang], QuizProblems: probs[authoring.QuizPart], Previewing: previewing,
		Settings: quiz.SettingsOf(quizSrc), Reviews: quiz.Reviews,
	}
	for k, ps := range probs {
		if k != lang && k != authoring.QuizPart {
			p.OtherProblems += len(ps)
		}
	}
	if len(p.QuizProblems) == 0 {
		p.Drawn, _ = authoring.DrawPreview(quizSrc, authoring.ClauseIDs(model.LangZH, files[model.LangZH]))
		p.QuizWarnings = guessWarnings(langOf(c), quizSrc)
	}
	pg := &page{Title: locale.T(langOf(c), "hr.edit.title", p.Title), Data: p, Error: errMsg}
	if (previewing && len(probs) > 0) || errMsg != "" {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return h.renderPage(c, "hr_edit", pg)
}

// hrEditSubmit saves the draft (do=save) or shows the text previewed
// without saving it (do=preview, the form's other button).
func (h *handler) hrEditSubmit(c *fiber.Ctx) error {
	slug := c.Params("slug")
	lang := editLang(c)
	file, quizSrc := normalizeNewlines(c.FormValue("text")), quizSettings(c, normalizeNewlines(c.FormValue("quiz")))
	if c.FormValue("do") == "save" {
		_, probs, err := h.Authoring.SaveDraft(ctx(c), actor(c), slug, lang, file, quizSrc)
		var le *authoring.LimitError
		if errors.As(err, &le) {
			// Not stored; the text stays in the editor with the reason.
			l, d, stored, err := h.Authoring.Draft(ctx(c), slug)
			if err != nil {
				return err
			}
			return h.renderEdit(c, l, d, stored, lang, file, quizSrc, false, limitMessage(langOf(c), le.LimitError))
		}
		if err != nil {
			return err
		}
		back := "/hr/lessons/" + slug + "/edit?lang=" + lang
		if n := probs.Count(); n > 0 {
			// Stored, but not "saved" as if done: the page lists what
			// blocks publishing below the notice.
			return c.Redirect(withCount(back, "hr.draft.saved_blocked", n), fiber.StatusSeeOther)
		}
		return c.Redirect(back+"&m=hr.draft.saved", fiber.StatusSeeOther)
	}
	l, d, stored, err := h.Authoring.Draft(ctx(c), slug)
	if err != nil {
		return err
	}
	return h.renderEdit(c, l, d, stored, lang, file, quizSrc, true, "")
}

// limitMessage says which Markdown limit a text exceeds, in lang.
func limitMessage(lang string, e *lesson.LimitError) string {
	if e.Kind == lesson.LimitSize {
		return locale.T(lang, "md.limit.size", e.Limit>>10)
	}
	return locale.T(lang, "md.limit."+e.Kind, e.Line, e.Limit)
}

// hrPreview answers the editor's script with the preview block alone.
func (h *handler) hrPreview(c *fiber.Ctx) error {
	l, d, stored, err := h.Authoring.Draft(ctx(c), c.Params("slug"))
	if err != nil {
		return err
	}
	lang := editLang(c)
	file := normalizeNewlines(c.FormValue("text"))
	files := map[string]string{}
	for k, v := range d.Files {
		files[k] = v
	}
	files[lang] = file
	quizSrc := d.Quiz
	if q := c.FormValue("quiz"); q != "" {
		quizSrc = normalizeNewlines(q)
	}
	_, probs := authoring.Check(l.Slug, files, quizSrc)
	pv, err := h.Authoring.Preview(lang, file)
	if err != nil {
		return err
	}
	p := editPage{Lesson: l, Lang: lang, File: file, Stored: stored, Draft: d, Preview: pv, Problems: probs[lang]}
	if len(probs[lang]) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return h.renderBlock(c, "hr_edit", "fragment", &page{Data: p})
}

// guessWarnings says, in the reader's language, in which languages a
// guesser who never reads the lesson passes the quiz, and which questions
// give their key away by their form.
func guessWarnings(ui, quizSrc string) []string {
	var out []string
	for _, g := range authoring.GuessWarnings(quizSrc) {
		out = append(out, locale.T(ui, "hr.edit.guess", locale.T(ui, "lang."+g.Lang),
			strconv.FormatFloat(g.Pass*100, 'f', 1, 64), strconv.FormatFloat(quiz.GuessLimit*100, 'f', 0, 64),
			g.Strategy, strings.Join(g.GivenAway(), ", ")))
	}
	return out
}

func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// hrDiscard deletes a lesson's draft, after asking (naming the lesson,
// who saved the draft when, and the version readers keep).
func (h *handler) hrDiscard(c *fiber.Ctx) error {
	l, d, stored, err := h.Authoring.Draft(ctx(c), c.Params("slug"))
	if err != nil {
		return err
	}
	if !stored {
		return c.Redirect("/hr/lessons/"+l.Slug+"/edit?m=hr.draft.none", fiber.StatusSeeOther)
	}
	lang := langOf(c)
	if !confirmed(c) {
		return h.askConfirm(c, confirmPage{
			Title:  locale.T(lang, "hr.draft.discard.confirm.title", l.Title(lang)),
			Intro:  locale.T(lang, "hr.draft.discard.confirm.intro", d.Author, (&page{Lang: lang}).Time(d.Updated), l.Current),
			Action: "/hr/lessons/" + l.Slug + "/discard", Button: locale.T(lang, "hr.draft.discard.confirm.yes"), Danger: true,
			Back: "/hr/lessons/" + l.Slug + "/edit",
		})
	}
	if err := h.Authoring.Discard(ctx(c), actor(c), l.Slug); err != nil {
		return err
	}
	return c.Redirect("/hr/lessons?m=hr.draft.discarded&slug="+url.QueryEscape(l.Slug), fiber.StatusSeeOther)
}

// publishPage shows what publishing the draft would change.
type publishPage struct {
	Lesson    *model.Lesson
	Title     string
	Draft     *model.Draft
	Problems  authoring.Problems
	Diffs     map[string]template.HTML
	Langs     []string
	Quiz      bool
	Outdated  []string
	Kind      string
	Note      string
	GraceDays int
	Kinds     []string
	// SignAgain is how many people must sign the new version again
	// unless the change is minor.
	SignAgain int
}

func (h *handler) hrPublishShow(c *fiber.Ctx) error {
	return h.renderPublish(c, model.ChangeReack, "", 14, "")
}

func (h *handler) renderPublish(c *fiber.Ctx, kind, note string, grace int, errKey string) error {
	slug := c.Params("slug")
	l, d, stored, err := h.Authoring.Draft(ctx(c), slug)
	if err != nil {
		return err
	}
	if !stored {
		return c.Redirect("/hr/lessons/"+slug+"/edit?m=hr.draft.none", fiber.StatusSeeOther)
	}
	p := publishPage{Lesson: l, Title: l.Title(langOf(c)), Draft: d, Langs: model.Languages, Kind: kind, Note: note, GraceDays: grace,
		Kinds: []string{model.ChangeMinor, model.ChangeReack, model.ChangeRequiz}, Diffs: map[string]template.HTML{}}
	docs, probs := authoring.Check(slug, d.Files, d.Quiz)
	p.Problems = probs
	if docs != nil {
		ch, err := h.Authoring.DraftDiff(ctx(c), l, docs, d.Quiz)
		if err != nil {
			return err
		}
		for lang, ops := range ch.Diffs {
			p.Diffs[lang] = template.HTML(lesson.HTML(ops)) // #nosec G203 -- lesson.HTML escapes all text
		}
		p.Quiz, p.Outdated = ch.Quiz, ch.Outdated
		if p.SignAgain, err = h.Authoring.SignAgain(ctx(c), l); err != nil {
			return err
		}
	}
	pg := &page{Title: locale.T(langOf(c), "hr.publish.title", p.Title), Data: p}
	if errKey != "" {
		pg.Error = locale.T(langOf(c), errKey)
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return h.renderPage(c, "hr_publish", pg)
}

func (h *handler) hrPublishSubmit(c *fiber.Ctx) error {
	slug := c.Params("slug")
	kind, note := c.FormValue("kind"), strings.TrimSpace(c.FormValue("note"))
	grace, err := strconv.Atoi(strings.TrimSpace(c.FormValue("grace_days")))
	if err != nil {
		grace = -1
	}
	res, probs, err := h.Authoring.Publish(ctx(c), authoring.PublishRequest{Slug: slug, Kind: kind, Note: note, GraceDays: grace, Actor: actor(c)})
	// The form comes back with what can be kept: a bad kind resets to
	// reack, a bad grace to 14 days.
	switch {
	case errors.Is(err, authoring.ErrKind):
		return h.renderPublish(c, model.ChangeReack, note, max(grace, 0), messageKey(err))
	case errors.Is(err, authoring.ErrGrace):
		return h.renderPublish(c, kind, note, 14, messageKey(err))
	case errors.Is(err, authoring.ErrNoDraft):
		return c.Redirect("/hr/lessons/"+slug+"/edit?m="+messageKey(err), fiber.StatusSeeOther)
	case errors.Is(err, fault.Invalid): // the note, the draft's problems, a text too complex
		_ = probs
		return h.renderPublish(c, kind, note, grace, messageKey(err))
	case err != nil:
		return err
	}
	back := "/hr/lessons/" + slug + "/history"
	switch {
	case !res.Created:
		return c.Redirect(back+"?m=hr.published.unchanged", fiber.StatusSeeOther)
	case kind != model.ChangeMinor:
		return c.Redirect(withCount(back, "hr.published.sign_again", res.SignAgain, res.Version), fiber.StatusSeeOther)
	}
	return c.Redirect(back+"?m=hr.published", fiber.StatusSeeOther)
}

type historyPage struct {
	Lesson   *model.Lesson
	Title    string
	Versions []*model.LessonVersion
	Langs    []string
}

func (h *handler) hrHistory(c *fiber.Ctx) error {
	l, vs, err := h.Authoring.History(ctx(c), c.Params("slug"))
	if err != nil {
		return err
	}
	p := historyPage{Lesson: l, Title: l.Title(langOf(c)), Versions: vs, Langs: model.Languages}
	return h.render(c, "hr_history", locale.T(langOf(c), "hr.history.title", p.Title), p)
}

type diffPage struct {
	Lesson   *model.Lesson
	Title    string
	From, To int
	Lang     string
	Langs    []string
	Versions []int
	Diff     template.HTML
	Same     bool
}

func (h *handler) hrDiff(c *fiber.Ctx) error {
	slug := c.Params("slug")
	l, _, err := h.Authoring.History(ctx(c), slug)
	if err != nil {
		return err
	}
	from, _ := strconv.Atoi(c.Query("from", strconv.Itoa(max(l.Current-1, 1))))
	to, _ := strconv.Atoi(c.Query("to", strconv.Itoa(l.Current)))
	lang := c.Query("lang", langOf(c))
	ops, err := h.Authoring.Diff(ctx(c), slug, from, to, lang)
	if err != nil {
		return err
	}
	p := diffPage{Lesson: l, Title: l.Title(langOf(c)), From: from, To: to, Lang: lang, Langs: model.Languages,
		Diff: template.HTML(lesson.HTML(ops)), Same: !lesson.Changed(ops)} // #nosec G203 -- lesson.HTML escapes all text
	for n := l.Current; n >= 1; n-- {
		p.Versions = append(p.Versions, n)
	}
	return h.render(c, "hr_diff", locale.T(langOf(c), "hr.diff.title", p.Title), p)
}

func (h *handler) hrRestore(c *fiber.Ctx) error {
	slug := c.Params("slug")
	n, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		return fiber.ErrNotFound
	}
	if _, err := h.Authoring.Restore(ctx(c), actor(c), slug, n); err != nil {
		return err
	}
	return c.Redirect("/hr/lessons/"+slug+"/edit?m=hr.draft.restored", fiber.StatusSeeOther)
}

// hrAnalytics shows which questions and clauses people miss most.
func (h *handler) hrAnalytics(c *fiber.Ctx) error {
	lang := langOf(c)
	a, err := h.Authoring.Analytics(ctx(c), c.Params("slug"), lang)
	if err != nil {
		return err
	}
	return h.render(c, "hr_analytics", locale.T(lang, "hr.analytics.title", a.Lesson.Title(lang)), a)
}
