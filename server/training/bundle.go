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
	var probs []lesson.Problem
	add := func(file string, line int, format string, args ...any) {
		probs = append(probs, lesson.Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	lessons := map[string]*BundleLesson{}
	for _, lang := range model.Languages {
		dir := path.Join("content", lang)
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			add(dir, 0, "cannot read the folder: %v", err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
				continue
			}
			file := path.Join(dir, e.Name())
			src, err := fs.ReadFile(fsys, file)
			if err != nil {
				add(file, 0, "cannot read: %v", err)
				continue
			}
			doc, ps := lesson.Parse(file, lang, src)
			probs = append(probs, ps...)
			if doc == nil {
				continue
			}
			if want := strings.TrimSuffix(e.Name(), ".md"); doc.Slug != want {
				add(file, 2, "slug %q must equal the file name %q", doc.Slug, want)
				continue
			}
			bl := lessons[doc.Slug]
			if bl == nil {
				bl = &BundleLesson{Slug: doc.Slug, Docs: map[string]*lesson.Doc{}}
				lessons[doc.Slug] = bl
			}
			bl.Docs[lang] = doc
		}
	}
	for _, bl := range lessons {
		src := bl.Docs[model.LangZH]
		for _, lang := range model.Languages {
			if bl.Docs[lang] == nil {
				add(path.Join("content", lang, bl.Slug+".md"), 0, "missing: every lesson needs a file in each language (%s)", strings.Join(model.Languages, ", "))
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
				add(d.File, 2, "order, due_days, valid_months and audience must match %s", src.File)
			}
			if !slices.Equal(clauseIDs(d), clauseIDs(src)) {
				add(d.File, d.BodyLine, "clause ids %v differ from %s's %v (same ids, same order)", clauseIDs(d), src.File, clauseIDs(src))
			}
		}
	}
	entries, err := fs.ReadDir(fsys, "quizzes")
	if err != nil {
		add("quizzes", 0, "cannot read the folder: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		file := path.Join("quizzes", e.Name())
		slug := strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".yaml"), ".yml")
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			add(file, 0, "cannot read: %v", err)
			continue
		}
		bl := lessons[slug]
		if bl == nil {
			add(file, 0, "there is no lesson %q for this quiz", slug)
			continue
		}
		var ids []string
		if d := bl.Docs[model.LangZH]; d != nil {
			ids = clauseIDs(d)
		}
		q, ps := quiz.Parse(file, src, ids)
		probs = append(probs, ps...)
		if q == nil {
			continue
		}
		if q.Lesson != slug {
			add(file, 1, "lesson %q must equal the file name %q", q.Lesson, slug)
		}
		bl.Quiz, bl.QuizSource = q, string(src)
	}
	for _, bl := range lessons {
		if bl.Quiz == nil && !hasProblemFor(probs, "quizzes/"+bl.Slug) {
			add(path.Join("quizzes", bl.Slug+".yaml"), 0, "missing: every lesson needs a quiz")
		}
	}
	if len(lessons) == 0 {
		add("content", 0, "no lessons found")
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			if probs[i].File != probs[j].File {
				return probs[i].File < probs[j].File
			}
			return probs[i].Line < probs[j].Line
		})
		return nil, probs
	}
	b := &Bundle{}
	for _, bl := range lessons {
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
