package training_test

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	portal "conductportal"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/training"
)

// furniture is the document site's page text around the handbook (see the
// seed's README): none of it may reach the portal.
var furniture = []string{
	"原创力文档", "book118", "400-050-0827", "版权申诉", "您可能关注的文档", "文档评论",
	"li455504605", "实名认证", "内容提供者", "1亿VIP精品文档", "相关文档", "侵权必究", "不退款",
	"该用户很懒", "查看更多", "二次下载",
}

var rawMarkdown = regexp.MustCompile(`\*\*|^#+ |\{#|\|\s*-{3,}|\]\(`)

// contentProblems checks a content folder the way HR's shipped lessons must
// be: valid, complete in both languages, and every clause tested.
func contentProblems(fsys fs.FS) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	b, probs := training.LoadBundle(fsys)
	for _, p := range probs {
		add("%s", p.Error())
	}
	if b == nil {
		return out
	}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".yaml")) {
			return err
		}
		raw, _ := fs.ReadFile(fsys, p)
		for _, f := range furniture {
			if strings.Contains(string(raw), f) {
				add("%s: contains page furniture %q", p, f)
			}
		}
		return nil
	})
	r := lesson.NewRenderer()
	tag := regexp.MustCompile(`<[^>]+>`)
	for _, bl := range b.Lessons {
		q := bl.Quiz
		tested := map[string]int{}
		types := map[string]int{}
		scenarios := 0
		for _, qq := range q.Questions {
			tested[qq.Clause]++
			types[qq.Type]++
			if qq.Scenario {
				scenarios++
			}
		}
		for _, c := range bl.Docs[model.LangZH].Clauses {
			if tested[c.ID] == 0 {
				add("%s: clause %q has no question", bl.Slug, c.ID)
			}
		}
		if len(q.Questions) < 12 || q.PerAttempt < 5 || q.PerAttempt > 8 || q.PassMark != 80 {
			add("%s: pool %d (want >= 12), draw %d (5 to 8), pass mark %d (80)", bl.Slug, len(q.Questions), q.PerAttempt, q.PassMark)
		}
		if types[quiz.Single] == 0 || types[quiz.Multiple] == 0 || types[quiz.TrueFalse] == 0 || scenarios == 0 {
			add("%s: wants single, multiple, true/false and scenario questions, has %v and %d scenarios", bl.Slug, types, scenarios)
		}
		if q.CooldownMinutes != 0 {
			add("%s: retakes must be allowed at once", bl.Slug)
		}
		for lang, d := range bl.Docs {
			if d.Summary == "" {
				add("%s/%s: no summary", bl.Slug, lang)
			}
			html, err := r.Render(d.Body)
			if err != nil {
				add("%s/%s: %v", bl.Slug, lang, err)
			}
			for _, line := range strings.Split(tag.ReplaceAllString(html, "\n"), "\n") {
				if rawMarkdown.MatchString(strings.TrimSpace(line)) {
					add("%s/%s: raw Markdown shows in the page: %q", bl.Slug, lang, line)
				}
			}
		}
	}
	return out
}

func TestShippedContent(t *testing.T) {
	if probs := contentProblems(portal.Assets); len(probs) > 0 {
		t.Fatalf("the shipped content has problems:\n%s", strings.Join(probs, "\n"))
	}
	b, _ := training.LoadBundle(portal.Assets)
	var slugs []string
	for _, bl := range b.Lessons {
		slugs = append(slugs, bl.Slug)
	}
	if got := strings.Join(slugs, ","); got != "attendance,customer-reception,professional-ethics,grooming,dress,deportment" {
		t.Fatalf("lessons in order: %s", got)
	}
	// The handbook breaks off in the deportment rules; so does the lesson.
	dep := b.Lessons[5].Docs[model.LangZH]
	last := dep.Clauses[len(dep.Clauses)-1].Source
	if !strings.Contains(last, "走右侧的中间位置") || strings.Contains(last, "与客人") {
		t.Fatalf("deportment must end where the handbook ends:\n%s", last)
	}
}

// mutate returns a copy of the shipped content with one file changed.
func mutate(t *testing.T, file string, change func(string) string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(portal.Assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(portal.Assets, p)
		if p == file {
			raw = []byte(change(string(raw)))
		}
		m[p] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Each check of TestShippedContent can fail.
func TestContentChecksCatchMistakes(t *testing.T) {
	for _, tc := range []struct{ name, file, from, to, want string }{
		{"clause without question", "quizzes/dress.yaml", "clause: principles", "clause: work-attire", `clause "principles" has no question`},
		{"unknown clause", "quizzes/dress.yaml", "clause: name-badge", "clause: no-such-clause", `clause "no-such-clause" does not exist`},
		{"answer not an option", "quizzes/dress.yaml", "answer: [", "answer: [zz, ", `answer "zz" is not one of its options`},
		{"clause ids differ", "content/en/dress.md", "{#name-badge}", "{#badge}", "clause ids"},
		{"missing translation", "quizzes/dress.yaml", "\n      en: ", "\n      xx: ", "is missing"},
		{"furniture", "content/en/dress.md", "", "\n原创力文档\n", `page furniture "原创力文档"`},
		{"no summary", "content/zh-CN/grooming.md", "summary:", "summary: \"\"\nold_summary:", "summary"},
		{"raw markdown", "content/zh-CN/dress.md", "", "\n- **注意：**不得……\n", "raw Markdown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := mutate(t, tc.file, func(s string) string {
				if tc.from == "" {
					return s + tc.to
				}
				if !strings.Contains(s, tc.from) {
					t.Fatalf("%s has no %q", tc.file, tc.from)
				}
				return strings.Replace(s, tc.from, tc.to, 1)
			})
			probs := strings.Join(contentProblems(fsys), "\n")
			if !strings.Contains(probs, tc.want) {
				t.Fatalf("want a problem with %q, got:\n%s", tc.want, probs)
			}
		})
	}
}
