package training

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/quiz"
)

// Bundle is a validated set of lessons and quizzes, as shipped in content/
// and quizzes/ or given by PORTAL_CONTENT.
type Bundle struct {
	Lessons []BundleLesson // by order
}

// BundleLesson is one lesson in every language, with its quiz.
type BundleLesson struct {
	Slug       string
	Docs       map[string]*lesson.Doc // by language
	Quiz       *quiz.Quiz
	QuizSource string
}

// LoadBundle reads content/<lang>/*.md and quizzes/*.yaml from fsys and
// checks them together. It returns every problem found; a Bundle only when
// there are none, so invalid content is never half imported.
func LoadBundle(fsys fs.FS) (*Bundle, []lesson.Problem) {
	l := &bundleLoader{fsys: fsys, lessons: map[string]*BundleLesson{}}
	for _, lang := range model.Languages {
		l.readLessons(lang)
	}
	l.checkLanguages()
	l.readQuizzes()
	l.checkQuizzes()
	return l.bundle()
}

// bundleLoader is LoadBundle's state between its steps: the lessons read
// so far and every problem found.
type bundleLoader struct {
	fsys    fs.FS
	lessons map[string]*BundleLesson
	probs   []lesson.Problem
}

func (l *bundleLoader) add(file string, line int, format string, args ...any) {
	l.probs = append(l.probs, lesson.Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// readLessons parses content/<lang>/*.md, each file named for its slug.
func (l *bundleLoader) readLessons(lang string) {
	dir := path.Join("content", lang)
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		l.add(dir, 0, "cannot read the folder: %v", err)
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		file := path.Join(dir, e.Name())
		src, err := fs.ReadFile(l.fsys, file)
		if err != nil {
			l.add(file, 0, "cannot read: %v", err)
			continue
		}
		doc, ps := lesson.Parse(file, lang, src)
		l.probs = append(l.probs, ps...)
		if doc == nil {
			continue
		}
		if want := strings.TrimSuffix(e.Name(), ".md"); doc.Slug != want {
			l.add(file, 2, "slug %q must equal the file name %q", doc.Slug, want)
			continue
		}
		bl := l.lessons[doc.Slug]
		if bl == nil {
			bl = &BundleLesson{Slug: doc.Slug, Docs: map[string]*lesson.Doc{}}
			l.lessons[doc.Slug] = bl
		}
		bl.Docs[lang] = doc
	}
}

// checkLanguages checks that every lesson has a file in each language, and
// that the translations agree with the source language's front matter and
// clauses.
func (l *bundleLoader) checkLanguages() {
	for _, bl := range l.lessons {
		src := bl.Docs[model.LangZH]
		for _, lang := range model.Languages {
			if bl.Docs[lang] == nil {
				l.add(path.Join("content", lang, bl.Slug+".md"), 0, "missing: every lesson needs a file in each language (%s)", strings.Join(model.Languages, ", "))
			}
		}
		if src == nil {
			continue
		}
		for _, lang := range model.Languages[1:] {
			d := bl.Docs[lang]
			if d == nil {
				continue
			}
			if d.Order != src.Order || d.DueDays != src.DueDays || d.Audience != src.Audience || d.ValidMonths != src.ValidMonths {
				l.add(d.File, 2, "order, due_days, valid_months and audience must match %s", src.File)
			}
			if !slices.Equal(clauseIDs(d), clauseIDs(src)) {
				l.add(d.File, d.BodyLine, "clause ids %v differ from %s's %v (same ids, same order)", clauseIDs(d), src.File, clauseIDs(src))
			}
		}
	}
}

// readQuizzes parses quizzes/<slug>.yaml against its lesson's clauses.
func (l *bundleLoader) readQuizzes() {
	entries, err := fs.ReadDir(l.fsys, "quizzes")
	if err != nil {
		l.add("quizzes", 0, "cannot read the folder: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		file := path.Join("quizzes", e.Name())
		slug := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".yaml"), ".yml")
		src, err := fs.ReadFile(l.fsys, file)
		if err != nil {
			l.add(file, 0, "cannot read: %v", err)
			continue
		}
		bl := l.lessons[slug]
		if bl == nil {
			l.add(file, 0, "there is no lesson %q for this quiz", slug)
			continue
		}
		var ids []string
		if d := bl.Docs[model.LangZH]; d != nil {
			ids = clauseIDs(d)
		}
		q, ps := quiz.Parse(file, src, ids)
		l.probs = append(l.probs, ps...)
		if q == nil {
			continue
		}
		if q.Lesson != slug {
			l.add(file, 1, "lesson %q must equal the file name %q", q.Lesson, slug)
		}
		bl.Quiz, bl.QuizSource = q, string(src)
	}
}

// checkQuizzes checks that every lesson has a quiz, and that there is a
// lesson at all.
func (l *bundleLoader) checkQuizzes() {
	for _, bl := range l.lessons {
		if bl.Quiz == nil && !hasProblemFor(l.probs, "quizzes/"+bl.Slug) {
			l.add(path.Join("quizzes", bl.Slug+".yaml"), 0, "missing: every lesson needs a quiz")
		}
	}
	if len(l.lessons) == 0 {
		l.add("content", 0, "no lessons found")
	}
}

// bundle is the lessons in order, or every problem by file and line.
func (l *bundleLoader) bundle() (*Bundle, []lesson.Problem) {
	if probs := l.probs; len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			if probs[i].File != probs[j].File {
				return probs[i].File < probs[j].File
			}
			return probs[i].Line < probs[j].Line
		})
		return nil, probs
	}
	b := &Bundle{}
	for _, bl := range l.lessons {
		b.Lessons = append(b.Lessons, *bl)
	}
	sort.Slice(b.Lessons, func(i, j int) bool {
		oi, oj := b.Lessons[i].Docs[model.LangZH].Order, b.Lessons[j].Docs[model.LangZH].Order
		if oi != oj {
			return oi < oj
		}
		return b.Lessons[i].Slug < b.Lessons[j].Slug
	})
	return b, nil
}

func hasProblemFor(probs []lesson.Problem, prefix string) bool {
	for _, p := range probs {
		if strings.HasPrefix(p.File, prefix) {
			return true
		}
	}
	return false
}

func clauseIDs(d *lesson.Doc) []string {
	ids := make([]string, len(d.Clauses))
	for i, c := range d.Clauses {
		ids[i] = c.ID
	}
	return ids
}
