// Package authoring is how HR keeps the rules current: drafts of a lesson
// (the lesson file per language and the quiz), their checks and preview,
// publishing them as a new version, the history of versions, diffs between
// any two, and restoring an old text as the new draft.
package authoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"conductportal/server/fault"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/training"

	"gopkg.in/yaml.v3"
)

// MaxNote bounds a publish's change note in characters: it is shown on
// every affected person's page and in each message.
const MaxNote = 1000

// Errors callers turn into messages.
var (
	ErrNotFound error = &fault.Error{Kind: fault.NotFound, Text: "authoring: not found", Message: "no such lesson"}
	ErrNoDraft  error = &fault.Error{Kind: fault.Conflict, Text: "authoring: the lesson has no draft",
		Code: "no_draft", Key: "hr.draft.none", Message: "the lesson has no draft: POST its drafts first"}
	// ErrInvalid: the API lists the problems in its message.
	ErrInvalid error = &fault.Error{Kind: fault.Invalid, Text: "authoring: the draft has problems",
		Code: "invalid_draft", Key: "hr.publish.problems", Message: "the draft has problems"}
	ErrKind error = &fault.Error{Kind: fault.Invalid, Text: "authoring: kind must be minor, reack or requiz",
		Key: "hr.publish.bad_kind", Message: "kind must be minor, reack or requiz", Field: "kind"}
	ErrGrace error = &fault.Error{Kind: fault.Invalid, Text: "authoring: grace days must be between 0 and 365",
		Key: "hr.publish.bad_grace", Message: "grace_days must be between 0 and 365", Field: "grace_days"}
	ErrNote error = &fault.Error{Kind: fault.Invalid, Text: "authoring: a change note is required, at most 1,000 characters",
		Key: "hr.publish.no_note", Message: "a change note is required, at most 1,000 characters", Field: "note"}
	// ErrTooComplex: a text did not render in time (lesson.ErrTooComplex).
	ErrTooComplex = lesson.ErrTooComplex
)

// QuizPart names the quiz in Problems.
const QuizPart = "quiz"

// Store is what authoring reads and writes of the database (storage.Storage is
// one; cli hands it in).
type Store interface {
	AllProgress(ctx context.Context) (map[string]model.Progress, error)
	Audit(ctx context.Context, e *model.AuditEntry) error
	DeleteDraft(ctx context.Context, slug string) error
	Draft(ctx context.Context, slug string) (*model.Draft, error)
	Drafts(ctx context.Context) ([]model.Draft, error)
	EachLessonResult(ctx context.Context, slug string, fn func(*model.Attempt) error) error
	ItemStats(ctx context.Context, keys []string) (map[string]model.ItemStat, error)
	Lesson(ctx context.Context, slug string) (*model.Lesson, error)
	LessonTally(ctx context.Context, slug string) (model.LessonTally, error)
	Lessons(ctx context.Context) ([]model.Lesson, error)
	ReplaceItemStats(ctx context.Context, t model.LessonTally, stats []model.ItemStat) error
	SaveDraft(ctx context.Context, d *model.Draft) error
}

// Service edits and publishes lessons.
type Service struct {
	store    Store
	training *training.Service
	renderer *lesson.Renderer
	log      *slog.Logger
	// OnPublish, when set, hears of each new version published (the
	// channels announce those that ask for acknowledgement). It must not
	// block: the publish request waits for it.
	OnPublish func(ctx context.Context, slug string, version int)
}

// New returns a Service.
func New(store Store, tr *training.Service, renderer *lesson.Renderer, log *slog.Logger) *Service {
	return &Service{store: store, training: tr, renderer: renderer, log: log}
}

// Problems are a draft's problems by part: a language, or QuizPart. Lines
// are lines of that part's text.
type Problems map[string][]lesson.Problem

// Count is how many problems there are in all.
func (p Problems) Count() int {
	n := 0
	for _, ps := range p {
		n += len(ps)
	}
	return n
}

func (p Problems) add(part string, line int, key, format string, args ...any) {
	p[part] = append(p[part], lesson.NewProblem(part, line, key, format, args...))
}

// frontMatter is the lesson file's front matter, in the order authors write it.
type frontMatter struct {
	Slug     string `yaml:"slug"`
	Title    string `yaml:"title"`
	Order    int    `yaml:"order"`
	Audience string `yaml:"audience"`
	DueDays  int    `yaml:"due_days"`
	Summary  string `yaml:"summary"`
	// Editorial carries the notes on repairs of the source into the draft.
	Editorial []string `yaml:"editorial,omitempty"`
}

// File rebuilds the lesson file of one language of a version: the front
// matter from the lesson and the text, then the body exactly as stored.
// lesson.Parse of the result gives back the same title, summary and body.
func File(l *model.Lesson, v *model.LessonVersion, lang string) (string, error) {
	t, ok := v.Texts[lang]
	if !ok {
		return "", fmt.Errorf("authoring: %s has no %s text: %w", v.ID, lang, ErrNotFound)
	}
	fm, err := yaml.Marshal(frontMatter{
		Slug: l.Slug, Title: t.Title, Order: l.Order, Audience: l.Audience, DueDays: l.DueDays, Summary: t.Summary,
		Editorial: t.Editorial,
	})
	if err != nil {
		return "", fmt.Errorf("authoring: front matter of %s: %w", v.ID, err)
	}
	return "---\n" + string(fm) + "---\n" + t.Markdown, nil
}

// Check parses the files and quiz of a draft of slug together, as
// training.LoadBundle checks shipped content. Docs come back only for a
// draft without problems.
func Check(slug string, files map[string]string, quizSrc string) (map[string]*lesson.Doc, Problems) {
	probs := Problems{}
	docs := map[string]*lesson.Doc{}
	for _, lang := range model.Languages {
		src := files[lang]
		if strings.TrimSpace(src) == "" {
			probs.add(lang, 0, "prob.draft.missing", "the %s text is missing", lesson.LangName(lang))
			continue
		}
		d, ps := lesson.Parse(lang, lang, []byte(src))
		if len(ps) > 0 {
			probs[lang] = append(probs[lang], ps...)
			continue
		}
		if d.Slug != slug {
			probs.add(lang, 2, "prob.draft.slug", "slug %q must stay %q", d.Slug, slug)
			continue
		}
		docs[lang] = d
	}
	src := docs[model.LangZH]
	if src != nil {
		for _, lang := range model.Languages[1:] {
			d := docs[lang]
			if d == nil {
				continue
			}
			if d.Order != src.Order || d.DueDays != src.DueDays || d.Audience != src.Audience {
				probs.add(lang, 2, "prob.draft.settings", "order, due_days and audience must match the %s text", lesson.LangName(model.LangZH))
			}
			if a, b := clauseIDs(d), clauseIDs(src); !slices.Equal(a, b) {
				probs.add(lang, d.BodyLine, "prob.draft.clauses", "clause ids %s differ from the %s text's %s (same ids, same order)",
					strings.Join(a, ", "), lesson.LangName(model.LangZH), strings.Join(b, ", "))
			}
		}
	}
	// The quiz is checked against the source's clauses; a clause removed
	// while questions still name it is shown next to the text too.
	var ids []string
	if src != nil {
		ids = clauseIDs(src)
	}
	q, ps := quiz.Parse(QuizPart, []byte(quizSrc), ids)
	probs[QuizPart] = append(probs[QuizPart], ps...)
	if q != nil && q.Lesson != slug {
		probs.add(QuizPart, 1, "prob.draft.quiz_lesson", "lesson %q must be %q", q.Lesson, slug)
	}
	if src != nil {
		if all, _ := quiz.Parse(QuizPart, []byte(quizSrc), nil); all != nil {
			named := map[string][]string{}
			for _, qq := range all.Questions {
				if qq.Clause != "" && !slices.Contains(ids, qq.Clause) {
					named[qq.Clause] = append(named[qq.Clause], qq.ID)
				}
			}
			for _, id := range sortedKeys(named) {
				probs.add(model.LangZH, src.BodyLine, "prob.draft.clause_gone", "clause %q is gone but quiz questions %s still name it: keep the clause or change those questions",
					id, strings.Join(named[id], ", "))
			}
		}
	}
	for k, v := range probs {
		if len(v) == 0 {
			delete(probs, k)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return docs, nil
}

// GuessWarnings returns, per language, the best form-only guesser of a
// quiz that passes it too often (quiz.GuessLimit); nil for a quiz that does
// not parse (its problems say why) or that no guesser passes.
func GuessWarnings(quizSrc string) []quiz.Guess {
	q, probs := quiz.Parse(QuizPart, []byte(quizSrc), nil)
	if len(probs) > 0 {
		return nil
	}
	return q.GuessWarnings()
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func clauseIDs(d *lesson.Doc) []string {
	ids := make([]string, len(d.Clauses))
	for i, c := range d.Clauses {
		ids[i] = c.ID
	}
	return ids
}

// Preview is one language of a draft as readers would see it.
type Preview struct {
	Title    string
	Summary  string
	HTML     string // sanitized by the readers' renderer
	Clauses  []lesson.Clause
	Problems []lesson.Problem
}

// Preview parses and renders one lesson file, without storing anything.
// The body is rendered even when the front matter has problems, so the
// author sees the text while fixing them.
func (s *Service) Preview(lang, file string) (*Preview, error) {
	d, probs := lesson.Parse(lang, lang, []byte(file))
	p := &Preview{Problems: probs}
	body := file
	if d != nil {
		p.Title, p.Summary, p.Clauses, body = d.Title, d.Summary, d.Clauses, d.Body
	} else if _, after, ok := strings.Cut(strings.TrimPrefix(strings.ReplaceAll(file, "\r\n", "\n"), "---\n"), "\n---\n"); ok {
		body = after
	}
	// A text over the limits, or too slow, is not shown: the problem is.
	html, err := s.renderer.Preview(body)
	var le *lesson.LimitError
	switch {
	case errors.As(err, &le):
		if d != nil { // Parse did not report it: the limit is the body's
			p.Problems = append(p.Problems, le.Problem(lang))
		}
		return p, nil
	case errors.Is(err, lesson.ErrTooComplex):
		p.Problems = append(p.Problems, lesson.NewProblem(lang, 0, "prob.draft.too_complex", "the text is too complex to render in time: simplify it"))
		return p, nil
	case err != nil:
		return nil, err
	}
	p.HTML = html
	return p, nil
}

// lessonOf loads a lesson by slug, refusing what cannot be one.
func (s *Service) lessonOf(ctx context.Context, slug string) (*model.Lesson, error) {
	if !lesson.ValidID(slug) {
		return nil, ErrNotFound
	}
	l, err := s.store.Lesson(ctx, slug)
	if errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return l, err
}

// Draft returns the lesson and its draft: the stored one, or one made from
// the current version (not stored; stored says which).
func (s *Service) Draft(ctx context.Context, slug string) (l *model.Lesson, d *model.Draft, stored bool, err error) {
	l, err = s.lessonOf(ctx, slug)
	if err != nil {
		return nil, nil, false, err
	}
	d, err = s.store.Draft(ctx, slug)
	switch {
	case err == nil:
		return l, d, true, nil
	case !errors.Is(err, model.ErrNotFound):
		return nil, nil, false, err
	}
	d, err = s.draftOf(ctx, l, l.Current)
	return l, d, false, err
}

// draftOf makes a draft holding version n's text and quiz.
func (s *Service) draftOf(ctx context.Context, l *model.Lesson, n int) (*model.Draft, error) {
	v, err := s.training.Version(ctx, l.Slug, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	d := &model.Draft{Slug: l.Slug, Files: map[string]string{}, Quiz: v.QuizSource, Base: l.Current}
	for lang := range v.Texts {
		if d.Files[lang], err = File(l, v, lang); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// LimitError is a text that exceeds lesson's Markdown limits: it is not
// stored (it could not be previewed or published anyway).
type LimitError struct {
	Lang string
	*lesson.LimitError
}

func (e *LimitError) Error() string { return "authoring: " + e.Lang + " text: " + e.Message() }
func (e *LimitError) Unwrap() error { return e.LimitError }

// checkLimits refuses the first text of files over the limits.
func checkLimits(files map[string]string) error {
	for _, lang := range sortedLangs(files) {
		if e := lesson.CheckLimits(files[lang]); e != nil {
			return &LimitError{Lang: lang, LimitError: e}
		}
	}
	return nil
}

// SaveDraft stores the text of one language (lang may be empty to keep the
// texts) and the quiz as the lesson's draft. A draft with problems is
// stored too, so work is never lost; they are returned for the page.
func (s *Service) SaveDraft(ctx context.Context, actor, slug, lang, file, quizSrc string) (*model.Draft, Problems, error) {
	_, d, _, err := s.Draft(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	if lang != "" {
		if !slices.Contains(model.Languages, lang) {
			return nil, nil, ErrNotFound
		}
		if err := checkLimits(map[string]string{lang: file}); err != nil {
			return nil, nil, err
		}
		d.Files[lang] = file
	}
	d.Quiz, d.Author, d.Updated = quizSrc, actor, s.training.Now()
	if err := s.store.SaveDraft(ctx, d); err != nil {
		return nil, nil, err
	}
	_, probs := Check(slug, d.Files, d.Quiz)
	if err := s.audit(ctx, actor, "draft.save", slug, fmt.Sprintf("lang=%s problems=%d (based on version %d)", lang, probs.Count(), d.Base)); err != nil {
		return nil, nil, err
	}
	return d, probs, nil
}

// SaveFiles replaces the texts given (a script's whole draft) and, when not
// empty, the quiz.
func (s *Service) SaveFiles(ctx context.Context, actor, slug string, files map[string]string, quizSrc string) (*model.Draft, Problems, error) {
	if err := checkLimits(files); err != nil {
		return nil, nil, err
	}
	_, d, _, err := s.Draft(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	for lang, f := range files {
		if !slices.Contains(model.Languages, lang) {
			return nil, nil, fmt.Errorf("%w: language %q", ErrNotFound, lang)
		}
		d.Files[lang] = f
	}
	if quizSrc != "" {
		d.Quiz = quizSrc
	}
	d.Author, d.Updated = actor, s.training.Now()
	if err := s.store.SaveDraft(ctx, d); err != nil {
		return nil, nil, err
	}
	_, probs := Check(slug, d.Files, d.Quiz)
	if err := s.audit(ctx, actor, "draft.save", slug, fmt.Sprintf("languages=%v problems=%d (based on version %d)", sortedLangs(files), probs.Count(), d.Base)); err != nil {
		return nil, nil, err
	}
	return d, probs, nil
}

func sortedLangs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Discard removes the draft of a lesson.
func (s *Service) Discard(ctx context.Context, actor, slug string) error {
	if _, err := s.lessonOf(ctx, slug); err != nil {
		return err
	}
	if err := s.store.DeleteDraft(ctx, slug); err != nil {
		return err
	}
	return s.audit(ctx, actor, "draft.discard", slug, "")
}

// PublishRequest is what publishing a draft takes.
type PublishRequest struct {
	Slug      string
	Kind      string
	Note      string
	GraceDays int
	Actor     string
}

// Publish checks the lesson's draft and publishes it as the next version;
// the draft is then removed. Problems come back with ErrInvalid.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (*training.PublishResult, Problems, error) {
	if !slices.Contains([]string{model.ChangeMinor, model.ChangeReack, model.ChangeRequiz}, req.Kind) {
		return nil, nil, ErrKind
	}
	if req.GraceDays < 0 || req.GraceDays > 365 {
		return nil, nil, ErrGrace
	}
	if strings.TrimSpace(req.Note) == "" || utf8.RuneCountInString(req.Note) > MaxNote {
		return nil, nil, ErrNote
	}
	if _, err := s.lessonOf(ctx, req.Slug); err != nil {
		return nil, nil, err
	}
	d, err := s.store.Draft(ctx, req.Slug)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, ErrNoDraft
	}
	if err != nil {
		return nil, nil, err
	}
	docs, probs := Check(req.Slug, d.Files, d.Quiz)
	if len(probs) > 0 {
		return nil, probs, ErrInvalid
	}
	res, err := s.training.Publish(ctx, training.PublishRequest{
		Slug: req.Slug, Docs: docs, QuizSource: d.Quiz, Kind: req.Kind, Note: strings.TrimSpace(req.Note),
		GraceDays: req.GraceDays, Author: req.Actor,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := s.store.DeleteDraft(ctx, req.Slug); err != nil {
		return res, nil, err
	}
	if !res.Created {
		if err := s.audit(ctx, req.Actor, "draft.publish_unchanged", req.Slug, fmt.Sprintf("the draft equals version %d; nothing published", res.Version)); err != nil {
			return res, nil, err
		}
	} else if req.Kind != model.ChangeMinor {
		if l, err := s.lessonOf(ctx, req.Slug); err == nil {
			res.SignAgain, err = s.training.SignAgain(ctx, l, res.Version)
			if err != nil {
				s.log.WarnContext(ctx, "sign-again count failed", "lesson", req.Slug, "err", err)
			}
		}
		if s.OnPublish != nil {
			s.OnPublish(ctx, req.Slug, res.Version)
		}
	}
	return res, nil, nil
}

// SignAgain is how many people must sign the next version of l again if
// it is published asking for acknowledgement (Publish answers the same
// count once published).
func (s *Service) SignAgain(ctx context.Context, l *model.Lesson) (int, error) {
	return s.training.SignAgain(ctx, l, l.Current+1)
}

// Restore makes version n of a lesson its new draft (replacing any draft).
func (s *Service) Restore(ctx context.Context, actor, slug string, n int) (*model.Draft, error) {
	l, err := s.lessonOf(ctx, slug)
	if err != nil {
		return nil, err
	}
	if n < 1 || n > l.Current {
		return nil, ErrNotFound
	}
	d, err := s.draftOf(ctx, l, n)
	if err != nil {
		return nil, err
	}
	d.Author, d.Updated = actor, s.training.Now()
	if err := s.store.SaveDraft(ctx, d); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, "draft.restore", slug, fmt.Sprintf("draft := text of version %d (current %d)", n, l.Current)); err != nil {
		return nil, err
	}
	return d, nil
}

// History returns the lesson and every published version, newest first.
func (s *Service) History(ctx context.Context, slug string) (*model.Lesson, []*model.LessonVersion, error) {
	l, err := s.lessonOf(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*model.LessonVersion, 0, l.Current)
	for n := l.Current; n >= 1; n-- {
		v, err := s.training.Version(ctx, slug, n)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, v)
	}
	return l, out, nil
}

// readerText is what a reader of one language sees, for diffs.
func readerText(title, summary, md string) string {
	return title + "\n\n" + summary + "\n\n" + lesson.Readable(md)
}

// Diff compares two published versions in lang.
func (s *Service) Diff(ctx context.Context, slug string, from, to int, lang string) ([]lesson.Op, error) {
	if !slices.Contains(model.Languages, lang) {
		return nil, ErrNotFound
	}
	a, err := s.training.Version(ctx, slug, from)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	b, err := s.training.Version(ctx, slug, to)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	ta, tb := a.Texts[lang], b.Texts[lang]
	return lesson.Collapse(lesson.Diff(readerText(ta.Title, ta.Summary, ta.Markdown), readerText(tb.Title, tb.Summary, tb.Markdown), lang), 2), nil
}

// DraftChange is what publishing a draft would change, for the publish page.
type DraftChange struct {
	Diffs    map[string][]lesson.Op // by language, collapsed; nil when unchanged
	Quiz     bool                   // the quiz changed
	Outdated []string               // languages that would lag the source
}

// DraftDiff compares a checked draft with the current version.
func (s *Service) DraftDiff(ctx context.Context, l *model.Lesson, docs map[string]*lesson.Doc, quizSrc string) (*DraftChange, error) {
	cur, err := s.training.Version(ctx, l.Slug, l.Current)
	if err != nil {
		return nil, err
	}
	ch := &DraftChange{Diffs: map[string][]lesson.Op{}, Quiz: cur.QuizSource != quizSrc}
	changed := map[string]bool{}
	for lang, d := range docs {
		t := cur.Texts[lang]
		ops := lesson.Diff(readerText(t.Title, t.Summary, t.Markdown), readerText(d.Title, d.Summary, d.Body), lang)
		if lesson.Changed(ops) {
			ch.Diffs[lang] = lesson.Collapse(ops, 2)
			changed[lang] = true
		}
	}
	for _, lang := range model.Languages[1:] {
		if !changed[lang] && (changed[model.LangZH] || slices.Contains(cur.Outdated, lang)) {
			ch.Outdated = append(ch.Outdated, lang)
		}
	}
	return ch, nil
}

// LessonRow is one lesson in HR's list.
type LessonRow struct {
	Lesson   model.Lesson
	Draft    *model.Draft
	Outdated []string
}

// Lessons lists every lesson with its draft, if any, and the languages its
// current version lags in.
func (s *Service) Lessons(ctx context.Context) ([]LessonRow, error) {
	ls, err := s.store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	drafts, err := s.store.Drafts(ctx)
	if err != nil {
		return nil, err
	}
	bySlug := map[string]*model.Draft{}
	for i := range drafts {
		bySlug[drafts[i].Slug] = &drafts[i]
	}
	out := make([]LessonRow, 0, len(ls))
	for _, l := range ls {
		row := LessonRow{Lesson: l, Draft: bySlug[l.Slug]}
		if l.Current > 0 {
			v, err := s.training.Version(ctx, l.Slug, l.Current)
			if err != nil {
				return nil, err
			}
			row.Outdated = v.Outdated
		}
		out = append(out, row)
	}
	return out, nil
}

// DrawPreview parses a quiz source against the source text's clauses
// and draws one attempt from it, as a learner would get it.
func DrawPreview(quizSrc string, clauses []string) ([]*quiz.Question, []lesson.Problem) {
	q, probs := quiz.Parse(QuizPart, []byte(quizSrc), clauses)
	if q == nil {
		return nil, probs
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0)) // #nosec G404 -- a preview draw for HR; nothing depends on it being unpredictable
	var out []*quiz.Question
	for _, aq := range q.Draw(q.IDs(nil), q.PerAttempt, r) {
		if qq, ok := q.Question(aq.ID); ok {
			out = append(out, qq)
		}
	}
	return out, probs
}

// ClauseIDs returns the clause ids of a lesson file, nil when it does not parse.
func ClauseIDs(lang, file string) []string {
	d, _ := lesson.Parse(lang, lang, []byte(file))
	if d == nil {
		return nil
	}
	return clauseIDs(d)
}

// audit records a change already stored: it is written after the change
// (an entry for a change refused would be false), and its failure is the
// caller's error, saying the change is made.
func (s *Service) audit(ctx context.Context, actor, action, target, detail string) error {
	if err := s.store.Audit(ctx, &model.AuditEntry{At: s.training.Now(), Actor: actor, Action: action, Target: target, Detail: detail}); err != nil {
		return fmt.Errorf("authoring: %s %s is done but its audit entry is not stored: %w", action, target, err)
	}
	return nil
}

// ExportFiles returns the current version of every lesson as the files of
// a content folder: content/<lang>/<slug>.md and quizzes/<slug>.yaml, by
// path. Importing them back changes nothing.
func (s *Service) ExportFiles(ctx context.Context) (map[string]string, error) {
	ls, err := s.store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i := range ls {
		l := &ls[i]
		if l.Current == 0 {
			continue
		}
		v, err := s.training.Version(ctx, l.Slug, l.Current)
		if err != nil {
			return nil, err
		}
		for lang := range v.Texts {
			f, err := File(l, v, lang)
			if err != nil {
				return nil, err
			}
			out["content/"+lang+"/"+l.Slug+".md"] = f
		}
		out["quizzes/"+l.Slug+".yaml"] = v.QuizSource
	}
	return out, nil
}
