package quiz

import (
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"

	portal "conductportal"
	"conductportal/server/model"
)

// shipped returns every shipped quiz file by name.
func shipped(t *testing.T) map[string]string {
	t.Helper()
	files, err := fs.Glob(portal.Assets, "quizzes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("shipped quizzes: %v %v", files, err)
	}
	out := map[string]string{}
	for _, f := range files {
		raw, err := fs.ReadFile(portal.Assets, f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(raw)
	}
	return out
}

// Every shipped quiz, read into the form's fields and written back,
// is byte for byte the file it came from, and has no field errors.
func TestFileRoundTripShipped(t *testing.T) {
	for name, src := range shipped(t) {
		f, err := FileOf(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := f.YAML(); got != src {
			t.Errorf("%s: the round trip changed the file at byte %d:\n%s", name, firstDiff(got, src), around(got, firstDiff(got, src)))
		}
		if errs := f.Check(nil); len(errs) > 0 {
			t.Errorf("%s: field errors %+v", name, errs)
		}
		// With the settings the YAML editor's controls write, too.
		set := WithSettings(src, Settings{Review: ReviewNever, CooldownAfter: 3, CooldownWait: "2d"})
		if f, err := FileOf(set); err != nil || f.YAML() != set {
			t.Errorf("%s with settings: the round trip changed the file (%v)", name, err)
		}
	}
}

// A file written differently (comments, flow style, keys in another
// order, settings) comes back as the same quiz, settings included.
func TestFileRoundTripSemantic(t *testing.T) {
	src := `# a comment
questions:
- {id: q1, clause: c1, type: truefalse, scenario: true, prompt: {zh-CN: "甲", en: A}, options: [{id: "true", zh-CN: 对, en: "yes"}, {id: "false", zh-CN: 错, en: "no"}], answer: ["false"], explanation: {zh-CN: 因为, en: because}}
- id: q2
  clause: c2
  type: multiple
  prompt: {zh-CN: "乙 \"引号\" \\ 反斜杠\n第二行", en: "B: 'x'"}
  options:
    - {id: x, zh-CN: 一, en: one}
    - {id: y, zh-CN: 二, en: two}
    - {id: z, zh-CN: 三, en: three}
  answer: [z, x]
  explanation: {zh-CN: 解释, en: why}
draw: 2
pass_mark: 50
lesson: demo
review: never
cooldown: {after: 3, wait: 24h}
`
	want, probs := Parse("q", []byte(src), []string{"c1", "c2"})
	if want == nil {
		t.Fatal(probs)
	}
	f, err := FileOf(src)
	if err != nil {
		t.Fatal(err)
	}
	out := f.YAML()
	got, probs := Parse("q", []byte(out), []string{"c1", "c2"})
	if got == nil {
		t.Fatalf("%v\n%s", probs, out)
	}
	same(t, got, want)
	// Written once, it is stable.
	f2, _ := FileOf(out)
	if again := f2.YAML(); again != out {
		t.Errorf("a second round trip changed the file:\n%s\n---\n%s", out, again)
	}
	if !strings.Contains(out, "review: never\ncooldown: {after: 3, wait: 24h}\npass_mark: 50\n") {
		t.Errorf("the settings are written as\n%s", out)
	}
}

// same compares two parsed quizzes by what they ask and how they grade,
// answers as sets.
func same(t *testing.T, got, want *Quiz) {
	t.Helper()
	norm := func(q *Quiz) *Quiz {
		c := *q
		c.Questions = slices.Clone(q.Questions)
		for i := range c.Questions {
			qq := &c.Questions[i]
			qq.Line, qq.Sum = 0, ""
			qq.Answer = slices.Sorted(slices.Values(qq.Answer))
			qq.Options = slices.Clone(qq.Options)
			for j := range qq.Options {
				qq.Options[j].Line = 0
			}
		}
		c.byID = nil
		return &c
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("the quiz changed:\n got %+v\nwant %+v", g, w)
	}
}

// Text that YAML would misread unquoted, or that needs escapes, comes
// back as typed.
func TestFileYAMLQuoting(t *testing.T) {
	odd := []string{`"quoted"`, `back\slash`, "two\nlines", "tab\there", "- dash", "# hash", ": colon", "true", "null", "émoji 🙂", "\x00nul", "bad\xffutf8", "  spaces  "}
	for _, s := range odd {
		f := &File{Lesson: "demo", PassMark: "80", Draw: "1", CooldownMinutes: "0", MaxAttempts: "0", Questions: []FileQuestion{{
			ID: "true", Clause: "null", Type: Single, Prompt: Text{model.LangZH: s, model.LangEN: s},
			Options:     []FileOption{{ID: "yes", Text: Text{model.LangZH: s, model.LangEN: "b"}, Right: true}, {ID: "no", Text: Text{model.LangZH: "a", model.LangEN: "b"}}},
			Explanation: Text{model.LangZH: s, model.LangEN: s},
		}}}
		back, err := FileOf(f.YAML())
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, f.YAML())
		}
		wantText := strings.ToValidUTF8(s, "\uFFFD")
		q := back.Questions[0]
		if q.Prompt[model.LangZH] != wantText || q.Explanation[model.LangEN] != wantText || q.Options[0].Text[model.LangZH] != wantText ||
			q.ID != "true" || q.Clause != "null" || q.Options[0].ID != "yes" || !q.Options[0].Right || q.Options[1].Right {
			t.Errorf("%q came back as %+v", s, q)
		}
	}
}

// Check names the question, the field and the language of each problem,
// and a file it passes parses.
func TestFileCheck(t *testing.T) {
	ok := func() *File {
		return &File{Lesson: "demo", PassMark: "80", Draw: "1", CooldownMinutes: "0", MaxAttempts: "0", Questions: []FileQuestion{{
			ID: "demo-q01", Clause: "c1", Type: Single, Prompt: Text{model.LangZH: "问", model.LangEN: "Q"},
			Options:     []FileOption{{ID: "a", Text: Text{model.LangZH: "甲", model.LangEN: "A"}, Right: true}, {ID: "b", Text: Text{model.LangZH: "乙", model.LangEN: "B"}}},
			Explanation: Text{model.LangZH: "因", model.LangEN: "Why"},
		}}}
	}
	if errs := ok().Check([]string{"c1"}); len(errs) > 0 {
		t.Fatalf("a good file: %+v", errs)
	}
	if q, probs := Parse("q", []byte(ok().YAML()), []string{"c1"}); q == nil {
		t.Fatalf("a file Check passes does not parse: %v", probs)
	}
	for name, c := range map[string]struct {
		edit func(f *File)
		want FieldError
	}{
		"pass mark":     {func(f *File) { f.PassMark = "eighty" }, FieldError{Field: "pass_mark", Code: "pass_mark"}},
		"draw":          {func(f *File) { f.Draw = "2" }, FieldError{Field: "draw", Code: "draw", N: 1}},
		"id":            {func(f *File) { f.Questions[0].ID = "a b" }, FieldError{Q: 1, Field: "q0.id", Code: "id"}},
		"clause":        {func(f *File) { f.Questions[0].Clause = "" }, FieldError{Q: 1, Field: "q0.clause", Code: "clause"}},
		"clause gone":   {func(f *File) { f.Questions[0].Clause = "c9" }, FieldError{Q: 1, Field: "q0.clause", Code: "clause_gone"}},
		"type":          {func(f *File) { f.Questions[0].Type = "essay" }, FieldError{Q: 1, Field: "q0.type", Code: "type"}},
		"prompt en":     {func(f *File) { f.Questions[0].Prompt[model.LangEN] = " " }, FieldError{Q: 1, Field: "q0.prompt.en", Code: "prompt", Lang: model.LangEN}},
		"explanation":   {func(f *File) { f.Questions[0].Explanation[model.LangZH] = "" }, FieldError{Q: 1, Field: "q0.explanation.zh-CN", Code: "explanation", Lang: model.LangZH}},
		"option text":   {func(f *File) { f.Questions[0].Options[1].Text[model.LangZH] = "" }, FieldError{Q: 1, Opt: 2, Field: "q0.o1.zh-CN", Code: "option_text", Lang: model.LangZH, N: 2}},
		"single two":    {func(f *File) { f.Questions[0].Options[1].Right = true }, FieldError{Q: 1, Field: "q0.options", Code: "single"}},
		"multiple none": {func(f *File) { f.Questions[0].Type = Multiple; f.Questions[0].Options[0].Right = false }, FieldError{Q: 1, Field: "q0.options", Code: "multiple"}},
		"truefalse":     {func(f *File) { f.Questions[0].Type = TrueFalse }, FieldError{Q: 1, Field: "q0.options", Code: "truefalse"}},
		"no questions":  {func(f *File) { f.Questions = nil; f.Draw = "0" }, FieldError{Field: "questions", Code: "no_questions"}},
		"id twice": {func(f *File) {
			f.Questions = append(f.Questions, f.Questions[0])
			f.Questions[1].Prompt = Text{model.LangZH: "问", model.LangEN: "Q"}
		},
			FieldError{Q: 2, Field: "q1.id", Code: "id_twice", N: 1}},
	} {
		f := ok()
		c.edit(f)
		errs := f.Check([]string{"c1"})
		if !slices.Contains(errs, c.want) {
			t.Errorf("%s: got %+v, want %+v among them", name, errs, c.want)
		}
		// What Check refuses, Parse refuses too.
		if q, _ := Parse("q", []byte(f.YAML()), []string{"c1"}); q != nil {
			t.Errorf("%s: Parse takes what Check refuses", name)
		}
	}
}

func TestNextIDs(t *testing.T) {
	f := &File{Questions: []FileQuestion{{ID: "dress-q09"}, {ID: "dress-q19"}, {ID: "other"}}}
	if got := f.NextQuestionID("dress"); got != "dress-q20" {
		t.Errorf("next question id %q", got)
	}
	q := FileQuestion{Options: []FileOption{{ID: "a"}, {ID: "c"}}}
	if got := q.NextOptionID(); got != "b" {
		t.Errorf("next option id %q", got)
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func around(s string, i int) string { return s[max(0, i-80):min(len(s), i+80)] }
