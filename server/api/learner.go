package api

import (
	"fmt"
	"strings"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

func langOf(c *fiber.Ctx, u *model.User) string {
	if l := c.Query("lang"); locale.Supported(l) {
		return l
	}
	if locale.Supported(u.Lang) {
		return u.Lang
	}
	return locale.Match(c.Get(fiber.HeaderAcceptLanguage))
}

type meJSON struct {
	Login      string   `json:"login"`
	Name       string   `json:"name"`
	Roles      []string `json:"roles"`
	Lang       string   `json:"lang"`
	Department string   `json:"department"`
	Manager    string   `json:"manager"`
}

func (a *API) me(c *fiber.Ctx) error {
	u := user(c)
	return c.JSON(meJSON{Login: u.Login, Name: u.Name, Roles: u.Roles, Lang: langOf(c, u), Department: u.Department, Manager: u.Manager})
}

type lessonStatusJSON struct {
	Slug    string    `json:"slug"`
	Title   string    `json:"title"`
	Version int       `json:"version"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"` // for needs_reack: "changed" (new text) or "renewal" (validity ran out)
	Overdue bool      `json:"overdue"`
	Due     time.Time `json:"due"`
	Expires time.Time `json:"expires,omitzero"`
}

func (a *API) myLessons(c *fiber.Ctx) error {
	u := user(c)
	sts, err := a.Training.Standings(c.UserContext(), u)
	if err != nil {
		return err
	}
	lang := langOf(c, u)
	out := make([]lessonStatusJSON, 0, len(sts))
	for _, st := range sts {
		j := lessonStatusJSON{Slug: st.Lesson.Slug, Title: st.Lesson.Title(lang), Version: st.Lesson.Current,
			Status: st.Code, Overdue: st.Overdue, Due: st.Due, Expires: st.Expires}
		switch {
		case st.Renewal:
			j.Reason = "renewal"
		case st.Code == training.StatusNeedsReack:
			j.Reason = "changed"
		}
		out = append(out, j)
	}
	return c.JSON(out)
}

type lessonJSON struct {
	Slug     string         `json:"slug"`
	Version  int            `json:"version"`
	Lang     string         `json:"lang"`
	Title    string         `json:"title"`
	Summary  string         `json:"summary"`
	HTML     string         `json:"html"`
	TextHash string         `json:"text_hash"`
	Clauses  []model.Clause `json:"clauses"`
}

func (a *API) lesson(c *fiber.Ctx) error {
	u := user(c)
	l, v, err := a.Training.Open(c.UserContext(), u, c.Params("slug"))
	if err != nil {
		return err
	}
	text, lang := v.Text(langOf(c, u))
	return c.JSON(lessonJSON{Slug: l.Slug, Version: v.Version, Lang: lang, Title: text.Title, Summary: text.Summary,
		HTML: text.HTML, TextHash: text.Hash, Clauses: text.Clauses})
}

func (a *API) read(c *fiber.Ctx) error {
	n, err := a.Training.MarkRead(c.UserContext(), user(c), c.Params("slug"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"slug": c.Params("slug"), "version": n, "read": true})
}

type optionJSON struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type questionJSON struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Prompt  string       `json:"prompt"`
	Options []optionJSON `json:"options"`
}

type attemptJSON struct {
	ID        string         `json:"id"`
	Lesson    string         `json:"lesson"`
	Version   int            `json:"version"`
	PassMark  int            `json:"pass_mark"`
	Questions []questionJSON `json:"questions"`
}

func (a *API) startAttempt(c *fiber.Ctx) error {
	u := user(c)
	lang := langOf(c, u)
	at, err := a.Training.StartAttempt(c.UserContext(), u, c.Params("slug"), lang)
	if err != nil {
		return err
	}
	q, err := a.Training.Quiz(c.UserContext(), at.Lesson, at.Version)
	if err != nil {
		return err
	}
	out := attemptJSON{ID: at.ID, Lesson: at.Lesson, Version: at.Version, PassMark: at.PassMark, Questions: []questionJSON{}}
	for _, aq := range at.Questions {
		qq, _ := q.Question(aq.ID)
		qj := questionJSON{ID: aq.ID, Type: qq.Type, Prompt: qq.Prompt.In(lang)}
		for _, oid := range aq.Options {
			o, _ := qq.Option(oid)
			qj.Options = append(qj.Options, optionJSON{ID: oid, Text: o.Text.In(lang)})
		}
		out.Questions = append(out.Questions, qj)
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

type submitJSON struct {
	Answers map[string][]string `json:"answers"`
	// AllowUnanswered grades an attempt with blank questions (they count
	// as wrong); without it such a submit is refused with 422.
	AllowUnanswered bool `json:"allow_unanswered"`
}

type gradedJSON struct {
	ID      string   `json:"id"`
	Correct bool     `json:"correct"`
	Chosen  []string `json:"chosen"`
	// Answer (the keyed options) is left out when the quiz's review
	// policy hides it: a failed attempt under the default after_pass.
	Answer      []string `json:"answer,omitempty"`
	Explanation string   `json:"explanation"`
	Clause      string   `json:"clause"`
}

type resultJSON struct {
	ID        string       `json:"id"`
	Score     int          `json:"score"`
	PassMark  int          `json:"pass_mark"`
	Passed    bool         `json:"passed"`
	Review    string       `json:"review"` // the quiz's review policy
	Questions []gradedJSON `json:"questions"`
}

func (a *API) submit(c *fiber.Ctx) error {
	var body submitJSON
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Answers == nil {
		return fail(fiber.StatusBadRequest, "invalid", "answers is required", "answers")
	}
	u := user(c)
	open, q, err := a.Training.Attempt(c.UserContext(), u, c.Params("id"))
	if err != nil {
		return err
	}
	if blank := training.Unanswered(open, body.Answers); !open.Submitted && !body.AllowUnanswered && len(blank) > 0 {
		return fail(fiber.StatusUnprocessableEntity, "unanswered",
			fmt.Sprintf("%d questions have no answer; answer them or send allow_unanswered: true", len(blank)),
			"answers."+strings.Join(blank, ",answers."))
	}
	at, err := a.Training.Grade(c.UserContext(), u, open, q, body.Answers)
	if err != nil {
		return err
	}
	return c.JSON(result(at, q, langOf(c, u)))
}

func result(at *model.Attempt, q *quiz.Quiz, lang string) resultJSON {
	out := resultJSON{ID: at.ID, Score: at.Score, PassMark: at.PassMark, Passed: at.Passed, Review: q.Review, Questions: []gradedJSON{}}
	shows := q.ShowsAnswers(at.Passed)
	for _, g := range at.Answers {
		qq, _ := q.Question(g.ID)
		chosen := g.Chosen
		if chosen == nil {
			chosen = []string{}
		}
		gj := gradedJSON{ID: g.ID, Correct: g.Correct, Chosen: chosen, Explanation: qq.Explanation.In(lang), Clause: qq.Clause}
		if shows {
			gj.Answer = qq.Answer
		}
		out.Questions = append(out.Questions, gj)
	}
	return out
}

type ackJSON struct {
	Version   int    `json:"version"`
	Signature string `json:"signature"`
}

type receiptJSON struct {
	ID       string    `json:"id"`
	Lesson   string    `json:"lesson"`
	Version  int       `json:"version"`
	Lang     string    `json:"lang"`
	TextHash string    `json:"text_hash"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
	At       time.Time `json:"at"`
}

func receiptOf(r *model.Receipt) receiptJSON {
	return receiptJSON{ID: r.ID, Lesson: r.Lesson, Version: r.Version, Lang: r.Lang, TextHash: r.TextHash,
		PrevHash: r.PrevHash, Hash: r.Hash, At: r.At}
}

func (a *API) acknowledge(c *fiber.Ctx) error {
	var body ackJSON
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.Version < 1 {
		return fail(fiber.StatusBadRequest, "invalid", "version must be the lesson version you read", "version")
	}
	u := user(c)
	r, err := a.Training.Acknowledge(c.UserContext(), u, training.AckRequest{
		Slug: c.Params("slug"), Version: body.Version, Lang: langOf(c, u), Signature: body.Signature,
		Client: a.Client(c), Agent: c.Get(fiber.HeaderUserAgent),
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(receiptOf(r))
}

func (a *API) myReceipts(c *fiber.Ctx) error {
	rs, err := a.Training.Receipts(c.UserContext(), user(c))
	if err != nil {
		return err
	}
	out := make([]receiptJSON, 0, len(rs))
	for i := range rs {
		out = append(out, receiptOf(&rs[i]))
	}
	return c.JSON(out)
}
