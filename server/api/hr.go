package api

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/fault"
	"conductportal/server/model"
	"conductportal/server/quiz"

	"github.com/gofiber/fiber/v2"
)

// requireHR lets only hr and admin use HR's routes.
var requireHR = requireRole(model.RoleHR, model.RoleAdmin)

// requireRole lets through a user holding one of roles.
func requireRole(roles ...string) fiber.Handler {
	msg := "this route is for " + strings.Join(roles, " and ") + " only"
	return func(c *fiber.Ctx) error {
		u := user(c)
		if u == nil || !slices.ContainsFunc(roles, u.HasRole) {
			return fail(fiber.StatusForbidden, "forbidden", msg, "")
		}
		return c.Next()
	}
}

// origin is this request's client, for the services that audit the
// changes made through the API.
func (a *API) origin(c *fiber.Ctx) model.Origin {
	return model.Origin{Client: a.Client(c), Via: model.ViaAPI}
}

// actor is the caller acting through the API.
func (a *API) actor(c *fiber.Ctx) model.Actor { return a.origin(c).As(user(c).Login) }

type problemJSON struct {
	Part    string `json:"part"` // a language, or "quiz"
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	// Code names the kind of problem (the catalog key without "prob."),
	// for a client that words problems in its reader's language.
	Code string `json:"code,omitempty"`
}

func problemsJSON(probs authoring.Problems) []problemJSON {
	out := []problemJSON{}
	parts := make([]string, 0, len(probs))
	for p := range probs {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	for _, part := range parts {
		for _, p := range probs[part] {
			out = append(out, problemJSON{Part: part, Line: p.Line, Message: p.Msg, Code: strings.TrimPrefix(p.Key, "prob.")})
		}
	}
	return out
}

// draftRequest is a script's new draft: whole lesson files (front matter
// and Markdown) by language, and optionally the quiz YAML.
type draftRequest struct {
	Files map[string]string `json:"files"`
	Quiz  string            `json:"quiz"`
}

type draftJSON struct {
	Slug     string        `json:"slug"`
	Base     int           `json:"base"`
	Valid    bool          `json:"valid"`
	Problems []problemJSON `json:"problems"`
	Warnings []guessJSON   `json:"warnings"`
}

// guessJSON says that a guesser who never reads the lesson passes the
// draft's quiz too often in one language: a warning, publishing is allowed.
type guessJSON struct {
	Lang       string   `json:"lang"`
	PassChance float64  `json:"pass_chance"` // of a first attempt, 0 to 1
	Limit      float64  `json:"limit"`
	Strategy   string   `json:"strategy"`
	Questions  []string `json:"questions"` // those whose form gives the key away
}

func guessesJSON(quizSrc string) []guessJSON {
	out := []guessJSON{}
	for _, g := range authoring.GuessWarnings(quizSrc) {
		out = append(out, guessJSON{Lang: g.Lang, PassChance: g.Pass, Limit: quiz.GuessLimit, Strategy: g.Strategy, Questions: g.GivenAway()})
	}
	return out
}

// saveDraft stores a draft; one with problems is stored too, and the
// answer lists them (valid false): publishing needs none.
func (a *API) saveDraft(c *fiber.Ctx) error {
	var req draftRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len(req.Files) == 0 && req.Quiz == "" {
		return fail(fiber.StatusUnprocessableEntity, "invalid", "send files (lesson file per language) and/or quiz", "files")
	}
	for lang := range req.Files {
		if !slices.Contains(model.Languages, lang) {
			return fail(fiber.StatusUnprocessableEntity, "invalid", fmt.Sprintf("unknown language %q (languages: %s)", lang, strings.Join(model.Languages, ", ")), "files")
		}
	}
	d, probs, err := a.Authoring.SaveFiles(c.UserContext(), user(c).Login, c.Params("slug"), req.Files, req.Quiz)
	if err != nil {
		return err
	}
	return c.JSON(draftJSON{Slug: d.Slug, Base: d.Base, Valid: len(probs) == 0, Problems: problemsJSON(probs), Warnings: guessesJSON(d.Quiz)})
}

type publishRequest struct {
	Kind      string `json:"kind"`
	Note      string `json:"note"`
	GraceDays *int   `json:"grace_days"`
}

type publishJSON struct {
	Slug    string   `json:"slug"`
	Version int      `json:"version"`
	Created bool     `json:"created"`
	Changed []string `json:"changed"`
	// SignAgain: how many people must sign the new version again.
	SignAgain int `json:"sign_again"`
}

func (a *API) publish(c *fiber.Ctx) error {
	var req publishRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	grace := 14
	if req.GraceDays != nil {
		grace = *req.GraceDays
	}
	res, probs, err := a.Authoring.Publish(c.UserContext(), authoring.PublishRequest{
		Slug: c.Params("slug"), Kind: req.Kind, Note: req.Note, GraceDays: grace, Actor: user(c).Login,
	})
	if errors.Is(err, authoring.ErrInvalid) {
		msgs := make([]string, 0, len(probs))
		for _, p := range problemsJSON(probs) {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s", p.Part, p.Line, p.Message))
		}
		return fail(fiber.StatusUnprocessableEntity, "invalid_draft", "the draft has problems: "+strings.Join(msgs, "; "), "")
	}
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if !res.Created {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(publishJSON{Slug: res.Slug, Version: res.Version, Created: res.Created, Changed: res.Changed, SignAgain: res.SignAgain})
}

type versionJSON struct {
	Version    int               `json:"version"`
	Kind       string            `json:"kind"`
	Note       string            `json:"note"`
	Author     string            `json:"author"`
	Published  time.Time         `json:"published"`
	Changed    []string          `json:"changed"`
	Outdated   []string          `json:"outdated"`
	TextHashes map[string]string `json:"text_hashes"`
}

func (a *API) versions(c *fiber.Ctx) error {
	_, vs, err := a.Authoring.History(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	out := make([]versionJSON, 0, len(vs))
	for _, v := range vs {
		j := versionJSON{Version: v.Version, Kind: v.Kind, Note: v.Note, Author: v.Author, Published: v.Published,
			Changed: v.Changed, Outdated: v.Outdated, TextHashes: map[string]string{}}
		for lang, t := range v.Texts {
			j.TextHashes[lang] = t.Hash
		}
		if j.Changed == nil {
			j.Changed = []string{}
		}
		if j.Outdated == nil {
			j.Outdated = []string{}
		}
		out = append(out, j)
	}
	return c.JSON(out)
}

// accountError answers an account change refused: in auth's own words,
// which say what the caller may not do, and a conflict on an account is
// its login taken.
func accountError(err error) error {
	switch {
	case errors.Is(err, auth.ErrForbidden):
		return fail(fiber.StatusForbidden, "forbidden", strings.TrimPrefix(err.Error(), "auth: "), "roles")
	case errors.Is(err, fault.Conflict):
		return fail(fiber.StatusConflict, "login_taken", "the login is taken", "login")
	}
	return err
}

type lessonOut struct {
	Slug     string            `json:"slug"`
	Current  int               `json:"current"`
	Audience string            `json:"audience"`
	DueDays  int               `json:"due_days"`
	Titles   map[string]string `json:"titles"`
}

// lessons answers GET /lessons: every lesson with its current version.
func (a *API) lessons(c *fiber.Ctx) error {
	ls, err := a.Training.Lessons(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]lessonOut, 0, len(ls))
	for _, l := range ls {
		titles := l.Titles
		if titles == nil {
			titles = map[string]string{}
		}
		out = append(out, lessonOut{Slug: l.Slug, Current: l.Current, Audience: l.Audience, DueDays: l.DueDays, Titles: titles})
	}
	return c.JSON(out)
}

type draftOut struct {
	Slug   string            `json:"slug"`
	Base   int               `json:"base"`
	Stored bool              `json:"stored"`
	Files  map[string]string `json:"files"`
	Quiz   string            `json:"quiz"`
}

// draft answers GET /lessons/{slug}/draft: the stored draft, or the
// current version's files to start one from (stored false).
func (a *API) draft(c *fiber.Ctx) error {
	_, d, stored, err := a.Authoring.Draft(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	return c.JSON(draftOut{Slug: d.Slug, Base: d.Base, Stored: stored, Files: d.Files, Quiz: d.Quiz})
}
