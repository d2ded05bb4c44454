package quiz

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"conductportal/server/model"

	"gopkg.in/yaml.v3"
)

// File is a quiz file as fields, before validation: what HR's form editor
// holds, shows and posts back, typed input and all. FileOf reads it from
// YAML, YAML writes it back in the layout of the shipped quizzes, and
// Check finds its problems field by field (Parse stays the authority on
// what may be stored and published).
type File struct {
	Lesson string
	// The numbers as typed: the form keeps a mistyped one to show it.
	PassMark, Draw, CooldownMinutes, MaxAttempts string
	// Review and cool-down as the file writes them ("" review: none written).
	Review        string
	CooldownAfter string
	CooldownWait  string
	Questions     []FileQuestion
}

// FileQuestion is one question of a File.
type FileQuestion struct {
	ID          string
	Clause      string
	Type        string
	Scenario    bool
	Prompt      Text
	Options     []FileOption
	Explanation Text
}

// FileOption is one option, marked when it is a right answer.
type FileOption struct {
	ID    string
	Text  Text
	Right bool
}

// Types lists the question types the editor offers.
var Types = []string{Single, Multiple, TrueFalse}

// TrueFalseOptions are the two options every true/false question has, in
// the words of the shipped quizzes.
func TrueFalseOptions() []FileOption {
	return []FileOption{
		{ID: "true", Text: Text{model.LangZH: "正确", model.LangEN: "True"}},
		{ID: "false", Text: Text{model.LangZH: "错误", model.LangEN: "False"}},
	}
}

// FileOf reads a quiz file into its fields. Only YAML that does not fit the
// quiz's shape is an error: a file with other problems is read as it is,
// so the form shows them next to their fields.
func FileOf(src string) (*File, error) {
	var raw struct {
		Lesson          string    `yaml:"lesson"`
		PassMark        yaml.Node `yaml:"pass_mark"`
		Draw            yaml.Node `yaml:"draw"`
		CooldownMinutes yaml.Node `yaml:"cooldown_minutes"`
		MaxAttempts     yaml.Node `yaml:"max_attempts"`
		Review          string    `yaml:"review"`
		Cooldown        struct {
			After yaml.Node `yaml:"after"`
			Wait  string    `yaml:"wait"`
		} `yaml:"cooldown"`
		Questions []Question `yaml:"questions"`
	}
	if err := yaml.Unmarshal([]byte(src), &raw); err != nil {
		return nil, fmt.Errorf("quiz: %w", err)
	}
	f := &File{Lesson: raw.Lesson, PassMark: raw.PassMark.Value, Draw: raw.Draw.Value, CooldownMinutes: raw.CooldownMinutes.Value,
		MaxAttempts: raw.MaxAttempts.Value, Review: raw.Review, CooldownAfter: raw.Cooldown.After.Value, CooldownWait: raw.Cooldown.Wait}
	for _, q := range raw.Questions {
		fq := FileQuestion{ID: q.ID, Clause: q.Clause, Type: q.Type, Scenario: q.Scenario, Prompt: q.Prompt, Explanation: q.Explanation}
		for _, o := range q.Options {
			fq.Options = append(fq.Options, FileOption{ID: o.ID, Text: o.Text, Right: slices.Contains(q.Answer, o.ID)})
		}
		f.Questions = append(f.Questions, fq)
	}
	return f, nil
}

// YAML writes the file in the layout of the shipped quizzes: the same
// YAML the YAML editor would store, byte for byte for a file written so.
// Review and cool-down come right after the lesson, where the editor's
// controls put them (WithSettings).
func (f *File) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lesson: %s\n", scalar(f.Lesson))
	if f.Review != "" {
		fmt.Fprintf(&b, "review: %s\n", yamlScalar(f.Review))
	}
	if f.CooldownAfter != "" || f.CooldownWait != "" {
		fmt.Fprintf(&b, "cooldown: {after: %s, wait: %s}\n", number(f.CooldownAfter), yamlScalar(f.CooldownWait))
	}
	fmt.Fprintf(&b, "pass_mark: %s\ndraw: %s\ncooldown_minutes: %s\nmax_attempts: %s\n",
		number(f.PassMark), number(f.Draw), number(f.CooldownMinutes), number(f.MaxAttempts))
	if len(f.Questions) == 0 {
		b.WriteString("questions: []\n")
		return b.String()
	}
	b.WriteString("questions:\n")
	for i, q := range f.Questions {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  - id: %s\n    clause: %s\n    type: %s\n    scenario: %t\n    prompt:\n", scalar(q.ID), scalar(q.Clause), scalar(q.Type), q.Scenario)
		texts(&b, "      ", q.Prompt)
		if len(q.Options) == 0 {
			b.WriteString("    options: []\n")
		} else {
			b.WriteString("    options:\n")
		}
		var answer []string
		for _, o := range q.Options {
			fmt.Fprintf(&b, "      - id: %s\n", quoted(o.ID))
			texts(&b, "        ", o.Text)
			if o.Right {
				answer = append(answer, quoted(o.ID))
			}
		}
		fmt.Fprintf(&b, "    answer: [%s]\n    explanation:\n", strings.Join(answer, ", "))
		texts(&b, "      ", q.Explanation)
	}
	return b.String()
}

// texts writes a text per language, the source language first.
func texts(b *strings.Builder, indent string, t Text) {
	for _, lang := range model.Languages {
		fmt.Fprintf(b, "%s%s: %s\n", indent, lang, quoted(t[lang]))
	}
}

// quoted writes s as a double-quoted YAML scalar. Go's escapes (\n, \",
// \\, \u....) are YAML's too; invalid UTF-8 is replaced first, as YAML's
// \x escapes mean code points, not bytes.
func quoted(s string) string { return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD")) }

// plainWord is a scalar YAML reads back as the same string unquoted.
var plainWord = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// yamlWords are the plain words YAML may read as something other than a string.
var yamlWords = []string{"true", "false", "yes", "no", "on", "off", "null", "y", "n"}

// scalar writes s plain when it is a word YAML reads back as itself.
func scalar(s string) string {
	if plainWord.MatchString(s) && !slices.Contains(yamlWords, strings.ToLower(s)) {
		return s
	}
	return quoted(s)
}

// number writes a number as typed, quoted when it is not one (Check names
// the field; Parse refuses the file).
func number(s string) string {
	if s == "" {
		return "0"
	}
	if _, err := strconv.Atoi(s); err == nil {
		return s
	}
	return quoted(s)
}

// FieldError is one problem of a File at a field of the form: Q and Opt
// are 1-based (0: the quiz, or the question as a whole), Field the form
// field's name, Code what is wrong (a message key's last part); Lang and
// N, when set, go into the message.
type FieldError struct {
	Q, Opt int
	Field  string
	Code   string
	Lang   string
	N      int
}

// Field names of the form, shared with the web package that renders it.
func QField(i int, name string) string          { return fmt.Sprintf("q%d.%s", i, name) }
func OptField(i, j int, name string) string     { return fmt.Sprintf("q%d.o%d.%s", i, j, name) }
func textField(i int, part, lang string) string { return QField(i, part+"."+lang) }

// Check finds the problems of f field by field, against the lesson's
// clause ids. It covers what Parse checks of a quiz's content, so that a
// File without field errors parses: the question rules are contentIssues,
// the ones Parse applies.
func (f *File) Check(clauses []string) []FieldError {
	var out []FieldError
	add := func(e FieldError) { out = append(out, e) }
	if n, err := strconv.Atoi(f.PassMark); err != nil || n < 1 || n > 100 {
		add(FieldError{Field: "pass_mark", Code: "pass_mark"})
	}
	if n, err := strconv.Atoi(f.Draw); err != nil || n < 1 || n > len(f.Questions) {
		add(FieldError{Field: "draw", Code: "draw", N: len(f.Questions)})
	}
	if len(f.Questions) == 0 {
		add(FieldError{Field: "questions", Code: "no_questions"})
	}
	seen := map[string]int{}
	for i, q := range f.Questions {
		n := i + 1
		switch {
		case !idRe.MatchString(q.ID):
			add(FieldError{Q: n, Field: QField(i, "id"), Code: "id"})
		case seen[q.ID] != 0:
			add(FieldError{Q: n, Field: QField(i, "id"), Code: "id_twice", N: seen[q.ID]})
		default:
			seen[q.ID] = n
		}
		for _, is := range q.question().contentIssues(clauses) {
			e := FieldError{Q: n, Code: is.Code, Lang: is.Lang}
			switch is.Code {
			case "clause", "clause_gone":
				e.Field = QField(i, "clause")
			case "prompt", "explanation":
				e.Field = textField(i, is.Code, is.Lang)
			case "option_id", "option_id_twice":
				// One message at the field, whether the id is malformed or repeated.
				e.Code, e.Opt, e.N, e.Field = "option_id", is.Opt, is.Opt, OptField(i, is.Opt-1, "id")
			case "option_text":
				e.Opt, e.N, e.Field = is.Opt, is.Opt, OptField(i, is.Opt-1, is.Lang)
			case "type":
				e.Field = QField(i, "type")
			default: // a type's rule about its options and answers
				e.Field = QField(i, "options")
			}
			if !slices.Contains(out, e) {
				add(e)
			}
		}
	}
	return out
}

// question is q as Parse reads it: the marked options are the answer.
func (q *FileQuestion) question() *Question {
	qq := &Question{ID: q.ID, Clause: q.Clause, Type: q.Type, Scenario: q.Scenario, Prompt: q.Prompt, Explanation: q.Explanation}
	for _, o := range q.Options {
		qq.Options = append(qq.Options, Option{ID: o.ID, Text: o.Text})
		if o.Right {
			qq.Answer = append(qq.Answer, o.ID)
		}
	}
	return qq
}

// NextQuestionID is an unused id for a new question of lesson slug: the
// shipped quizzes' <slug>-qNN after the highest NN.
func (f *File) NextQuestionID(slug string) string {
	top := 0
	for _, q := range f.Questions {
		if rest, ok := strings.CutPrefix(q.ID, slug+"-q"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > top {
				top = n
			}
		}
	}
	for n := top + 1; ; n++ {
		id := fmt.Sprintf("%s-q%02d", slug, n)
		if !slices.ContainsFunc(f.Questions, func(q FileQuestion) bool { return q.ID == id }) {
			return id
		}
	}
}

// NextOptionID is an unused option id: the first free letter, as the
// shipped quizzes name options.
func (q *FileQuestion) NextOptionID() string {
	used := func(id string) bool {
		return slices.ContainsFunc(q.Options, func(o FileOption) bool { return o.ID == id })
	}
	for c := 'a'; c <= 'z'; c++ {
		if !used(string(c)) {
			return string(c)
		}
	}
	for n := 1; ; n++ {
		if id := "o" + strconv.Itoa(n); !used(id) {
			return id
		}
	}
}
