package training

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"conductportal/server/lesson"
	"conductportal/server/model"
)

// PublishRequest is a new text of a lesson in every language, with its quiz.
type PublishRequest struct {
	Slug       string
	Docs       map[string]*lesson.Doc
	QuizSource string
	Kind       string // model.ChangeMinor, ChangeReack or ChangeRequiz; ignored for version 1
	Note       string
	GraceDays  int
	Author     string
}

// PublishResult says what Publish did.
type PublishResult struct {
	Slug    string
	Version int
	Created bool // false: the text was already current, nothing stored
	Changed []string
	// SignAgain is how many people must sign Version again (SignAgain);
	// 0 for a minor change. The publishing service counts it.
	SignAgain int
}

// SignAgain counts the people a version asking for acknowledgement makes
// sign again: those active, assigned lesson l, who signed a version of it
// before next (the notices of notify.askToSign go to the same people).
func (s *Service) SignAgain(ctx context.Context, l *model.Lesson, next int) (int, error) {
	users, err := s.store.UserDirectory(ctx)
	if err != nil {
		return 0, fmt.Errorf("training: sign again: %w", err)
	}
	prog, err := s.store.AllProgress(ctx)
	if err != nil {
		return 0, fmt.Errorf("training: sign again: %w", err)
	}
	n := 0
	for i := range users {
		u := &users[i]
		if ack := prog[u.ID].Lessons[l.Slug].AckVersion; u.Active && Assigned(l, u) && ack > 0 && ack < next {
			n++
		}
	}
	return n, nil
}

// Publish stores a new immutable version of a lesson and makes it current.
// Publishing a text identical to the current one stores nothing.
func (s *Service) Publish(ctx context.Context, req PublishRequest) (*PublishResult, error) {
	src := req.Docs[model.LangZH]
	if src == nil {
		return nil, fmt.Errorf("training: publish %s: the %s text is required", req.Slug, model.LangZH)
	}
	texts := map[string]model.LessonText{}
	for lang, d := range req.Docs {
		html, err := s.renderer.Render(d.Body)
		if err != nil {
			return nil, err
		}
		texts[lang] = model.LessonText{
			Title: d.Title, Summary: d.Summary, Markdown: d.Body, HTML: html,
			Hash: lesson.TextHash(d.Title, d.Summary, d.Body), Clauses: lesson.ModelClauses(d.Clauses),
			Editorial: d.Editorial,
		}
	}
	titles := map[string]string{}
	for lang, t := range texts {
		titles[lang] = t.Title
	}
	now := s.Now()
	l, err := s.store.Lesson(ctx, req.Slug)
	switch {
	case errors.Is(err, model.ErrNotFound):
		l = &model.Lesson{Slug: req.Slug}
	case err != nil:
		return nil, err
	}
	var prev *model.LessonVersion
	if l.Current > 0 {
		if prev, err = s.Version(ctx, req.Slug, l.Current); err != nil {
			return nil, err
		}
		if sameTexts(prev, texts) && prev.QuizSource == req.QuizSource {
			// Same text: no new version, but the lesson's settings (order,
			// audience, due days, validity) may still have changed.
			if l.Order != src.Order || l.Audience != src.Audience || l.DueDays != src.DueDays || l.ValidMonths != src.ValidMonths {
				if err := s.store.SetLessonSettings(ctx, req.Slug, src.Order, src.Audience, src.DueDays, src.ValidMonths); err != nil {
					return nil, err
				}
				// Audited after the change: an entry for settings not stored would be false.
				if err := s.store.Audit(ctx, &model.AuditEntry{At: now, Actor: req.Author, Action: "lesson.settings", Target: req.Slug,
					Detail: fmt.Sprintf("order=%d audience=%s due_days=%d valid_months=%d", src.Order, src.Audience, src.DueDays, src.ValidMonths)}); err != nil {
					return nil, fmt.Errorf("training: publish %s: the settings are stored but their audit entry is not: %w", req.Slug, err)
				}
			}
			return &PublishResult{Slug: req.Slug, Version: l.Current}, nil
		}
	}
	n := l.Current + 1
	kind := req.Kind
	if n == 1 {
		kind = model.ChangeInitial
	}
	if !slices.Contains([]string{model.ChangeInitial, model.ChangeMinor, model.ChangeReack, model.ChangeRequiz}, kind) {
		return nil, fmt.Errorf("training: publish %s: unknown change kind %q", req.Slug, kind)
	}
	v := &model.LessonVersion{
		ID: model.VersionID(req.Slug, n), Slug: req.Slug, Version: n, Kind: kind, Note: req.Note,
		Texts: texts, Published: now, Author: req.Author, QuizSource: req.QuizSource,
		Changed: changedClauses(prev, texts[model.LangZH].Clauses),
	}
	if v.Outdated, err = s.outdated(ctx, prev, texts); err != nil {
		return nil, err
	}
	if err := s.store.CreateLessonVersion(ctx, v); err != nil && !s.resumesImport(ctx, v, err) {
		if errors.Is(err, model.ErrDuplicate) {
			return nil, fmt.Errorf("training: publish %s: version %d was published at the same time; reload and try again: %w", req.Slug, n, err)
		}
		return nil, err
	}
	l.Order, l.Audience, l.DueDays, l.Titles, l.Current, l.Updated = src.Order, src.Audience, src.DueDays, titles, n, now
	l.ValidMonths = src.ValidMonths
	if n == 1 {
		l.Since = now
	}
	if kind != model.ChangeMinor {
		l.Required, l.RequiredAt, l.GraceDays = n, now, req.GraceDays
	}
	if kind == model.ChangeInitial || kind == model.ChangeRequiz {
		l.QuizFrom = n
	}
	if err := s.store.PublishLesson(ctx, l); err != nil {
		return nil, err
	}
	// Audited after the version is current: before, a refused publish
	// (a version published at the same time) would leave a false entry.
	if err := s.store.Audit(ctx, &model.AuditEntry{At: now, Actor: req.Author, Action: "lesson.publish",
		Target: v.ID, Detail: fmt.Sprintf("version %d -> %d; kind=%s changed=%v grace_days=%d outdated=%v note=%q",
			n-1, n, kind, v.Changed, req.GraceDays, v.Outdated, req.Note)}); err != nil {
		return nil, fmt.Errorf("training: publish %s: version %d is published but its audit entry is not stored: %w", req.Slug, n, err)
	}
	s.log.InfoContext(ctx, "lesson published", "lesson", req.Slug, "version", n, "kind", kind)
	return &PublishResult{Slug: req.Slug, Version: n, Created: true, Changed: v.Changed}, nil
}

// resumesImport reports whether err is version 1 already stored with this
// very text: an import that a crash cut short before the lesson was
// stored. Publishing goes on as if it had just been stored.
func (s *Service) resumesImport(ctx context.Context, v *model.LessonVersion, err error) bool {
	if v.Version != 1 || !errors.Is(err, model.ErrDuplicate) {
		return false
	}
	stored, serr := s.store.LessonVersion(ctx, v.Slug, 1)
	return serr == nil && sameTexts(stored, v.Texts) && stored.QuizSource == v.QuizSource
}

func sameTexts(v *model.LessonVersion, texts map[string]model.LessonText) bool {
	if len(v.Texts) != len(texts) {
		return false
	}
	for lang, t := range texts {
		if v.Texts[lang].Hash != t.Hash {
			return false
		}
	}
	return true
}

// outdated lists the languages whose text lags the source after a publish.
// A translation that changed is taken as in step. One that did not change
// lags when the source changed, unless an earlier version published this
// very pair of texts in step (a restore); when the source did not change
// either, it keeps the previous version's state.
func (s *Service) outdated(ctx context.Context, prev *model.LessonVersion, texts map[string]model.LessonText) ([]string, error) {
	if prev == nil {
		return nil, nil
	}
	src := texts[model.LangZH].Hash
	srcChanged := prev.Texts[model.LangZH].Hash != src
	var out []string
	for _, lang := range model.Languages[1:] {
		t, ok := texts[lang]
		if !ok || prev.Texts[lang].Hash != t.Hash {
			continue
		}
		if !srcChanged {
			if slices.Contains(prev.Outdated, lang) {
				out = append(out, lang)
			}
			continue
		}
		inStep := false
		for n := prev.Version - 1; n >= 1 && !inStep; n-- {
			v, err := s.Version(ctx, prev.Slug, n)
			if err != nil {
				return nil, err
			}
			inStep = v.Texts[model.LangZH].Hash == src && v.Texts[lang].Hash == t.Hash && !slices.Contains(v.Outdated, lang)
		}
		if !inStep {
			out = append(out, lang)
		}
	}
	return out, nil
}

// changedClauses lists the clauses that are new or differ from prev.
func changedClauses(prev *model.LessonVersion, now []model.Clause) []string {
	if prev == nil {
		return nil
	}
	old := map[string]string{}
	for _, c := range prev.Texts[model.LangZH].Clauses {
		old[c.ID] = c.Hash
	}
	var out []string
	for _, c := range now {
		if old[c.ID] != c.Hash {
			out = append(out, c.ID)
		}
	}
	return out
}

// Import publishes every lesson of a bundle: new lessons as version 1,
// changed ones as a new version of the given kind, unchanged ones not at all.
func (s *Service) Import(ctx context.Context, b *Bundle, kind, author string, graceDays int) ([]PublishResult, error) {
	var out []PublishResult
	for _, bl := range b.Lessons {
		res, err := s.Publish(ctx, PublishRequest{
			Slug: bl.Slug, Docs: bl.Docs, QuizSource: bl.QuizSource,
			Kind: kind, Author: author, GraceDays: graceDays, Note: "import",
		})
		if err != nil {
			return out, err
		}
		out = append(out, *res)
	}
	return out, nil
}
