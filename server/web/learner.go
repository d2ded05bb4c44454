package web

import (
	"errors"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"conductportal/server/checkpoint"
	"conductportal/server/lesson"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/report"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

type trainingPage struct {
	Rows  []trainingRow
	Done  int
	Total int
	Next  *trainingRow
	Team  *teamSummary // a manager's team, first on their home page
	// Certificate is the earned certificate's status line (empty: none
	// earned yet), kept while a lesson waits for a new signature.
	Certificate string
}

// teamSummary is what a manager acts on, from their home page: people
// counts, each the number of rows of the filtered team view it links to.
type teamSummary struct {
	People, Percent                          int
	OverduePeople, FailedPeople, ReackPeople int
	Export                                   exportForm
}

// teamSummaryOf sums up u's own team, or nil when u manages nobody. A
// failure to read it leaves the home page without it rather than failing
// the learner's own page.
func (h *handler) teamSummaryOf(c *fiber.Ctx, u *model.User) *teamSummary {
	if !u.HasRole(model.RoleManager) {
		return nil
	}
	scope, err := h.Reports.ResolveScope(ctx(c), u, "", "")
	if err != nil {
		return nil
	}
	t, err := h.Reports.Team(ctx(c), scope, report.Filter{})
	if err != nil || t.Members == 0 {
		return nil
	}
	ts := &teamSummary{People: t.Members, Percent: t.Total.Percent,
		Export: newExportForm("home-export", "/team/export.csv", "/team/export.xlsx", nil)}
	for _, r := range t.Rows {
		ts.OverduePeople += min(r.Overdue, 1)
		ts.FailedPeople += min(r.QuizFailed, 1)
		ts.ReackPeople += min(r.Reack, 1)
	}
	return ts
}

type trainingRow struct {
	training.Standing
	Title string
}

func (h *handler) trainingShow(c *fiber.Ctx) error {
	pg, err := h.trainingPageOf(c)
	if err != nil {
		return err
	}
	return h.renderPage(c, "training", pg)
}

// trainingPageOf gathers what the home page shows, apart from rendering it.
func (h *handler) trainingPageOf(c *fiber.Ctx) (*page, error) {
	u, _ := currentSession(c)
	lang := langOf(c)
	sts, err := h.Training.Standings(ctx(c), u)
	if err != nil {
		return nil, err
	}
	p := trainingPage{Total: len(sts), Team: h.teamSummaryOf(c, u)}
	if earned, pending := training.CertificateStanding(sts); earned {
		// From the standings alone: the home page reads no certificate.
		p.Certificate = certificateState(lang, false, pending)
	}
	for _, st := range sts {
		p.Rows = append(p.Rows, trainingRow{Standing: st, Title: st.Lesson.Title(lang)})
	}
	for i := range p.Rows {
		if p.Rows[i].Code == training.StatusDone {
			p.Done++
		} else if p.Next == nil {
			p.Next = &p.Rows[i]
		}
	}
	return &page{Title: locale.T(lang, "training.title"), Data: p}, nil
}

type lessonPage struct {
	Lesson   *model.Lesson
	Version  *model.LessonVersion
	Text     model.LessonText
	Standing *training.Standing
	// ReceiptID names the receipt of a lesson done: the page links it.
	ReceiptID string
	// TextLang is the language of the text shown; Outdated says it lags
	// the source language; Other is the UI's language when another is shown.
	TextLang string
	Outdated bool
	Other    string
	// SignedVersion and Diff show what changed since the reader signed.
	SignedVersion int
	Diff          template.HTML
	// CooldownUntil is when the next quiz attempt may start (zero: now).
	CooldownUntil time.Time
	Journey       journey
}

func (h *handler) lessonShow(c *fiber.Ctx) error {
	pg, err := h.lessonPageOf(c)
	if err != nil {
		return err
	}
	return h.renderPage(c, "lesson", pg)
}

// lessonPageOf gathers what the lesson page shows, apart from rendering it.
func (h *handler) lessonPageOf(c *fiber.Ctx) (*page, error) {
	u, _ := currentSession(c)
	lang := langOf(c)
	l, v, err := h.Training.Open(ctx(c), u, c.Params("slug"))
	if err != nil {
		return nil, err
	}
	// The user's standings once, for this lesson's and for the journey's
	// place among them: each read unpacks and copies the person's progress.
	sts, err := h.Training.Standings(ctx(c), u)
	if err != nil {
		return nil, err
	}
	st := standingOf(sts, l.Slug)
	if st == nil { // the lessons changed between the two reads
		if st, err = h.Training.Standing(ctx(c), u, l.Slug); err != nil {
			return nil, err
		}
	}
	// ?lang= shows the text in another language than the UI's: the
	// translation guard links an outdated translation to the original.
	textLang := lang
	if q := c.Query("lang"); slices.Contains(model.Languages, q) {
		textLang = q
	}
	text, textLang := v.Text(textLang)
	p := lessonPage{Lesson: l, Version: v, Text: text, TextLang: textLang, Standing: st,
		Outdated: slices.Contains(v.Outdated, textLang)}
	if p.Journey, err = h.journeyOf(c, u, st, "", amongStandings(sts)); err != nil {
		return nil, err
	}
	if textLang != lang {
		p.Other = lang
	}
	if !st.QuizDone {
		if p.CooldownUntil, err = h.Training.Cooldown(ctx(c), st); err != nil {
			return nil, err
		}
	}
	switch st.Code {
	case training.StatusDone:
		p.ReceiptID, _ = h.Training.ReceiptIDOf(ctx(c), u, st)
	case training.StatusNeedsReack:
		from, ops, err := h.Training.Changes(ctx(c), st, lang)
		if err != nil {
			return nil, err
		}
		// lesson.HTML escapes every character of both texts.
		p.SignedVersion, p.Diff = from, template.HTML(lesson.HTML(ops)) // #nosec G203 -- lesson.HTML escapes all text
	}
	pg := &page{Title: text.Title, Data: p}
	if m := c.Query("e"); notices[m] {
		pg.Error = locale.T(lang, m)
	}
	return pg, nil
}

// standingOf is the standing of the lesson slug among sts, or nil: the
// element itself, not a copy (a page's third largest garbage), so sts
// must be the caller's own.
func standingOf(sts []training.Standing, slug string) *training.Standing {
	for i := range sts {
		if sts[i].Lesson.Slug == slug {
			return &sts[i]
		}
	}
	return nil
}

func (h *handler) lessonRead(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	slug := c.Params("slug")
	if _, err := h.Training.MarkRead(ctx(c), u, slug); err != nil {
		return err
	}
	return c.Redirect("/lessons/"+slug+"?m=lesson.read.done#actions", fiber.StatusSeeOther)
}

func (h *handler) attemptCreate(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	slug := c.Params("slug")
	a, err := h.Training.StartAttempt(ctx(c), u, slug, langOf(c))
	switch {
	case errors.Is(err, training.ErrCooldown), errors.Is(err, training.ErrNoAttemptsRemaining):
		return c.Redirect("/lessons/"+slug+"?e="+messageKey(err)+"#actions", fiber.StatusSeeOther)
	case errors.Is(err, training.ErrAlreadyDone):
		return c.Redirect("/lessons/"+slug+"#actions", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect("/attempts/"+a.ID, fiber.StatusSeeOther)
}

// quizQuestion is one question as shown: in the page's language, options
// in the attempt's order, and after grading the verdict.
type quizQuestion struct {
	N           int
	ID          string
	Prompt      string
	Multiple    bool
	Options     []quizOption
	Graded      bool
	Correct     bool
	Answer      []string
	Chosen      []string
	Explanation string
	Clause      model.Clause
	Unanswered  bool
}

type quizOption struct {
	ID, Text string
	Chosen   bool
	Right    bool
}

type quizPage struct {
	Attempt   *model.Attempt
	Lesson    *model.Lesson
	Questions []quizQuestion
	Standing  *training.Standing
	// ShowsAnswers says the quiz's review policy shows the keyed options
	// of this attempt; Review is that policy.
	ShowsAnswers  bool
	Review        string
	CooldownUntil time.Time
	Journey       journey
	// Right of Total questions were answered right; Percent is that share
	// rounded (the stored score, which the pass mark is compared with, is
	// truncated).
	Right, Total, Percent int
	// Unanswered are the numbers of the questions a submit left blank:
	// the form comes back with the answers given, asking first.
	Unanswered []int
	Answered   int
}

func (h *handler) attemptShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	a, q, err := h.Training.Attempt(ctx(c), u, c.Params("id"))
	if err != nil {
		return err
	}
	return h.showAttempt(c, u, lang, a, q, nil)
}

// showAttempt renders an attempt: the form while it is open, the result
// once graded. given are the answers of a refused submit, shown again.
func (h *handler) showAttempt(c *fiber.Ctx, u *model.User, lang string, a *model.Attempt, q *quiz.Quiz, given map[string][]string) error {
	l, v, err := h.Training.LessonAt(ctx(c), a.Lesson, a.Version)
	if err != nil {
		return err
	}
	text, _ := v.Text(lang)
	clauses := map[string]model.Clause{}
	for _, cl := range text.Clauses {
		clauses[cl.ID] = cl
	}
	graded := map[string]model.AttemptAnswer{}
	for _, ans := range a.Answers {
		graded[ans.ID] = ans
	}
	p := quizPage{Attempt: a, Lesson: l, ShowsAnswers: a.Submitted && q.ShowsAnswers(a.Passed), Review: q.Review}
	for i, aq := range a.Questions {
		qq, ok := q.Question(aq.ID)
		if !ok {
			continue
		}
		qv := quizQuestion{N: i + 1, ID: aq.ID, Prompt: qq.Prompt.In(lang), Multiple: qq.Type == quiz.Multiple}
		g, isGraded := graded[aq.ID]
		for _, oid := range aq.Options {
			o, _ := qq.Option(oid)
			qo := quizOption{ID: oid, Text: o.Text.In(lang)}
			qo.Chosen = slices.Contains(given[aq.ID], oid)
			if a.Submitted {
				qo.Chosen = slices.Contains(g.Chosen, oid)
				qo.Right = p.ShowsAnswers && slices.Contains(qq.Answer, oid)
				if qo.Right {
					qv.Answer = append(qv.Answer, qo.Text)
				}
				if qo.Chosen {
					qv.Chosen = append(qv.Chosen, qo.Text)
				}
			}
			qv.Options = append(qv.Options, qo)
		}
		if len(given[aq.ID]) > 0 {
			p.Answered++
		} else if given != nil {
			qv.Unanswered = true
			p.Unanswered = append(p.Unanswered, qv.N)
		}
		if a.Submitted {
			qv.Graded, qv.Correct = isGraded, g.Correct
			p.Total++
			if g.Correct {
				p.Right++
			}
			qv.Explanation = qq.Explanation.In(lang)
			qv.Clause = clauses[qq.Clause]
		}
		p.Questions = append(p.Questions, qv)
	}
	title := l.Title(lang)
	st, err := h.Training.Standing(ctx(c), u, a.Lesson)
	if err != nil {
		return err
	}
	p.Standing = st
	if !a.Submitted {
		if p.Journey, err = h.journeyOf(c, u, st, stepQuiz); err != nil {
			return err
		}
		pg := &page{Title: locale.T(lang, "quiz.title", title), Data: p}
		if len(p.Unanswered) > 0 {
			nums := make([]string, len(p.Unanswered))
			for i, n := range p.Unanswered {
				nums[i] = strconv.Itoa(n)
			}
			pg.Error = locale.T(lang, "quiz.unanswered", len(p.Unanswered), strings.Join(nums, locale.T(lang, "notify.list.sep")))
			c.Status(fiber.StatusUnprocessableEntity)
		}
		return h.renderPage(c, "quiz", pg)
	}
	if p.Total > 0 {
		p.Percent = int(math.Round(float64(p.Right) * 100 / float64(p.Total)))
	}
	if p.Journey, err = h.journeyOf(c, u, st, stepQuiz); err != nil {
		return err
	}
	if !a.Passed && !st.QuizDone {
		if p.CooldownUntil, err = h.Training.Cooldown(ctx(c), st); err != nil {
			return err
		}
	}
	return h.render(c, "result", locale.T(lang, "result.title", title), p)
}

func (h *handler) attemptSubmit(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	id := c.Params("id")
	a, q, err := h.Training.Attempt(ctx(c), u, id)
	if err != nil {
		return err
	}
	answers := map[string][]string{}
	args := c.Request().PostArgs()
	for _, aq := range a.Questions {
		for _, v := range args.PeekMulti("q_" + aq.ID) {
			answers[aq.ID] = append(answers[aq.ID], string(v))
		}
	}
	// A blank question is asked about first: the form comes back with
	// the answers given, and "submit anyway" (confirm) grades it as it is.
	if !a.Submitted && !confirmed(c) && len(training.Unanswered(a, answers)) > 0 {
		return h.showAttempt(c, u, langOf(c), a, q, answers)
	}
	_, err = h.Training.Grade(ctx(c), u, a, q, answers)
	if errors.Is(err, training.ErrCooldown) {
		return c.Redirect("/lessons/"+a.Lesson+"?e="+messageKey(err)+"#actions", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/attempts/"+id, fiber.StatusSeeOther)
}

type ackPage struct {
	Lesson    *model.Lesson
	Version   *model.LessonVersion
	Title     string
	Signature string
	TextLang  string
	Journey   journey
}

func (h *handler) ackShow(c *fiber.Ctx) error {
	return h.ackRender(c, "", "")
}

func (h *handler) ackRender(c *fiber.Ctx, errKey, signature string) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	slug := c.Params("slug")
	st, err := h.Training.Standing(ctx(c), u, slug)
	if err != nil {
		return err
	}
	if st.Code == training.StatusDone {
		return c.Redirect("/lessons/"+slug+"#actions", fiber.StatusSeeOther)
	}
	if !st.QuizDone {
		return c.Redirect("/lessons/"+slug+"?e=ack.quiz_first#actions", fiber.StatusSeeOther)
	}
	l, v, err := h.Training.LessonAt(ctx(c), slug, st.Lesson.Current)
	if err != nil {
		return err
	}
	text, textLang := v.Text(ackLang(c))
	j, err := h.journeyOf(c, u, st, stepSign)
	if err != nil {
		return err
	}
	pg := &page{Title: locale.T(lang, "ack.title", text.Title), Data: ackPage{Lesson: l, Version: v, Title: text.Title, Signature: signature, TextLang: textLang, Journey: j}}
	if errKey != "" {
		pg.Error = locale.T(lang, errKey)
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return h.renderPage(c, "acknowledge", pg)
}

// ackLang is the language of the text being acknowledged: the one the
// reader chose to read (text_lang), else the UI's. The receipt records it.
func ackLang(c *fiber.Ctx) string {
	if l := c.FormValue("text_lang", c.Query("lang")); slices.Contains(model.Languages, l) {
		return l
	}
	return langOf(c)
}

func (h *handler) ackSubmit(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	slug := c.Params("slug")
	version, _ := strconv.Atoi(c.FormValue("version"))
	client, agent := clientInfo(c)
	sig := c.FormValue("signature")
	r, err := h.Training.Acknowledge(ctx(c), u, training.AckRequest{
		Slug: slug, Version: version, Lang: ackLang(c), Signature: sig, Client: client, Agent: agent,
	})
	switch {
	case errors.Is(err, training.ErrSignature):
		return h.ackRender(c, messageKey(err), sig)
	case errors.Is(err, training.ErrNotCurrent):
		return c.Redirect("/lessons/"+slug+"?e="+messageKey(err), fiber.StatusSeeOther)
	case errors.Is(err, training.ErrQuizNotPassed):
		return c.Redirect("/lessons/"+slug+"?e="+messageKey(err)+"#actions", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect("/lessons/"+r.Lesson+"/done", fiber.StatusSeeOther)
}

type receiptRow struct {
	model.Receipt
	Title string
}

func (h *handler) receiptsList(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	rs, err := h.Training.Receipts(ctx(c), u)
	if err != nil {
		return err
	}
	titles, err := h.Training.LessonTitles(ctx(c), lang)
	if err != nil {
		return err
	}
	var rows []receiptRow
	for i := len(rs) - 1; i >= 0; i-- { // newest first
		rows = append(rows, receiptRow{Receipt: rs[i], Title: titles[rs[i].Lesson]})
	}
	return h.render(c, "receipts", locale.T(lang, "receipts.title"), rows)
}

func (h *handler) receiptShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	r, err := h.Training.Receipt(ctx(c), u, c.Params("id"))
	if err != nil {
		return err
	}
	_, v, err := h.Training.LessonAt(ctx(c), r.Lesson, r.Version)
	if err != nil {
		return err
	}
	text, _ := v.Text(r.Lang)
	// The first checkpoint whose head of this chain counts this receipt:
	// with the checkpoint file, it proves the signature years later.
	cover, err := checkpoint.FirstCovering(h.Config.DataDir, r.UserID, r.Seq)
	if err != nil {
		h.Log.WarnContext(ctx(c), "checkpoint of a receipt", "receipt", r.ID, "err", err)
	}
	return h.render(c, "receipt", locale.T(lang, "receipt.title"), receiptPage{receiptRow: receiptRow{Receipt: *r, Title: text.Title}, Checkpoint: cover})
}

// receiptPage is the printable receipt.
type receiptPage struct {
	receiptRow
	Checkpoint *checkpoint.Covering // nil: no checkpoint covers it yet
}

type certificatePage struct {
	Cert    *model.Certificate
	URL     string
	Expired bool
	// Pending are the lessons whose new version waits for a signature: the
	// certificate shown is the one earned for the versions signed before.
	Pending []training.Standing
	State   string // the status line (certificateState)
}

func (h *handler) certificateShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	earned, err := h.Training.EarnedCertificate(ctx(c), u)
	if errors.Is(err, training.ErrNotComplete) {
		c.Status(fiber.StatusNotFound)
		return h.render(c, "error", locale.T(lang, "certificate.title"), errorPage{Message: locale.T(lang, "certificate.notyet")})
	}
	if errors.Is(err, training.ErrNotIssued) {
		// Complete, but not through a signature (an audience changed, say):
		// the person asks for it with a POST.
		return h.render(c, "certificate", locale.T(lang, "certificate.title"), certificatePage{})
	}
	if err != nil {
		return err
	}
	expired := h.Training.CertificateExpired(earned.Cert)
	return h.render(c, "certificate", locale.T(lang, "certificate.title"), certificatePage{Cert: earned.Cert,
		URL: h.Config.BaseURL + "/verify/" + earned.Cert.Code, Expired: expired, Pending: earned.Pending,
		State: certificateState(lang, expired, earned.Pending)})
}

func (h *handler) certificateIssue(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	if _, err := h.Training.Certificate(ctx(c), u); err != nil && !errors.Is(err, training.ErrNotComplete) {
		return err
	}
	return c.Redirect("/certificate", fiber.StatusSeeOther)
}

// verifyShow is public: it confirms a certificate's name, lessons,
// versions and date, and nothing else.
func (h *handler) verifyShow(c *fiber.Ctx) error {
	lang := langOf(c)
	code := c.Params("code", c.Query("code"))
	if code == "" {
		return h.render(c, "verify", locale.T(lang, "verify.title"), certificatePage{})
	}
	cert, err := h.Training.VerifyCertificate(ctx(c), code)
	if errors.Is(err, training.ErrNotFound) {
		c.Status(fiber.StatusNotFound)
		return h.renderPage(c, "verify", &page{Title: locale.T(lang, "verify.title"), Error: locale.T(lang, "verify.unknown"), Data: certificatePage{}})
	}
	if err != nil {
		return err
	}
	return h.render(c, "verify", locale.T(lang, "verify.title"), certificatePage{Cert: cert, Expired: h.Training.CertificateExpired(cert)})
}
