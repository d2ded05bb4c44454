// Package quiz parses and validates quiz files, draws attempts from a
// question pool and grades them.
package quiz

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"conductportal/server/lesson"
	"conductportal/server/model"

	"gopkg.in/yaml.v3"
)

// Question types.
const (
	Single    = "single"
	Multiple  = "multiple"
	TrueFalse = "truefalse"
)

// Text is a string per language.
type Text map[string]string

// In returns the text in lang, falling back to the source language.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	return t[model.LangZH]
}

// Option is one answer choice.
type Option struct {
	ID   string
	Text Text
	Line int
}

// UnmarshalYAML reads {id: a, zh-CN: ..., en: ...}.
func (o *Option) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return err
	}
	o.Line = n.Line
	o.Text = Text{}
	for k, v := range m {
		if k == "id" {
			o.ID = v
			continue
		}
		o.Text[k] = v
	}
	return nil
}

// Question is one question of the pool.
type Question struct {
	ID          string   `yaml:"id"`
	Clause      string   `yaml:"clause"`
	Type        string   `yaml:"type"`
	Scenario    bool     `yaml:"scenario"`
	Prompt      Text     `yaml:"prompt"`
	Options     []Option `yaml:"options"`
	Answer      []string `yaml:"answer"`
	Explanation Text     `yaml:"explanation"`
	Line        int      `yaml:"-"`
	// Sum identifies the question's content (type, prompt, options, key):
	// item statistics restart when HR changes what is asked.
	Sum string `yaml:"-"`
}

// sum hashes what the learner sees and what is keyed, in a fixed order.
func (q *Question) sum() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(q.Type)
	for _, lang := range model.Languages {
		field(q.Prompt[lang])
	}
	for _, o := range q.Options {
		field(o.ID)
		for _, lang := range model.Languages {
			field(o.Text[lang])
		}
	}
	for _, a := range q.Answer {
		field(a)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ItemKey is the _id of a question's statistics: lesson, question id and
// content sum, so an edited question starts afresh.
func ItemKey(slug string, q *Question) string { return slug + "|" + q.ID + "|" + q.Sum }

// Tallies turns an attempt's graded answers into item tallies.
func (q *Quiz) Tallies(slug string, graded []model.AttemptAnswer) []model.ItemTally {
	right := 0
	for _, g := range graded {
		if g.Correct {
			right++
		}
	}
	out := make([]model.ItemTally, 0, len(graded))
	for _, g := range graded {
		qq, ok := q.byID[g.ID]
		if !ok {
			continue
		}
		t := model.ItemTally{Key: ItemKey(slug, qq), Right: g.Correct, Rest: -1, Chosen: g.Chosen}
		if len(graded) > 1 {
			others := right
			if g.Correct {
				others--
			}
			t.Rest = float64(others) / float64(len(graded)-1)
		}
		out = append(out, t)
	}
	return out
}

// Option returns the option with id.
func (q *Question) Option(id string) (Option, bool) {
	for _, o := range q.Options {
		if o.ID == id {
			return o, true
		}
	}
	return Option{}, false
}

// Review policies: when a graded attempt shows the keyed options (the
// right answers). Every result shows which questions were wrong, the
// explanation and the clause; only the keys depend on the policy, so a
// failed attempt does not hand the learner the answers to copy next time.
const (
	ReviewAfterPass = "after_pass" // keys on a passed attempt only (the default)
	ReviewAlways    = "always"     // keys on every attempt
	ReviewNever     = "never"      // keys never, not even once passed
)

// Reviews lists the review policies, the default first.
var Reviews = []string{ReviewAfterPass, ReviewAlways, ReviewNever}

// Cooldown is HR's wait after failed attempts: after every After failed
// attempts in a row the next one may start Wait after the last failure.
type Cooldown struct {
	After int           `yaml:"after"`
	Wait  time.Duration `yaml:"-"`
	// WaitText is wait as written: "24h", "90m", "2d".
	WaitText string `yaml:"wait"`
}

// Quiz is a lesson's question pool and rules.
type Quiz struct {
	Lesson          string     `yaml:"lesson"`
	PassMark        int        `yaml:"pass_mark"`
	PerAttempt      int        `yaml:"draw"` // questions drawn per attempt
	CooldownMinutes int        `yaml:"cooldown_minutes"`
	MaxAttempts     int        `yaml:"max_attempts"`
	Review          string     `yaml:"review"`   // a review policy; "" is ReviewAfterPass
	Cooldown        Cooldown   `yaml:"cooldown"` // zero: no wait after failures
	Questions       []Question `yaml:"questions"`

	byID map[string]*Question
}

// ShowsAnswers reports whether a graded attempt that passed (or not)
// shows the keyed options, under the quiz's review policy.
func (q *Quiz) ShowsAnswers(passed bool) bool {
	switch q.Review {
	case ReviewAlways:
		return true
	case ReviewNever:
		return false
	}
	return passed
}

// maxWait bounds a cool-down: longer is surely a typo (24d for 24h).
const maxWait = 30 * 24 * time.Hour

// parseWait reads a cool-down wait: a Go duration ("24h", "90m") or days ("2d").
func parseWait(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// keyLine returns the line of a top-level key of the document, else 1.
func keyLine(root *yaml.Node, key string) int {
	if len(root.Content) > 0 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i].Line
			}
		}
	}
	return 1
}

// Question returns the pool's question with id.
func (q *Quiz) Question(id string) (*Question, bool) {
	qq, ok := q.byID[id]
	return qq, ok
}

// Problem is one thing wrong with a quiz file.
type Problem = lesson.Problem

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// Parse reads and validates a quiz file against the clause ids of its
// lesson (nil skips that check). All problems are returned, each with its line.
func Parse(file string, src []byte, clauses []string) (*Quiz, []Problem) {
	q, root, err := decode(src)
	if err != nil {
		return nil, lesson.YAMLProblems(file, 0, err)
	}
	p := &problems{file: file}
	q.checkSettings(p, root)
	q.checkCooldown(p, root)
	q.checkDraw(p)
	q.byID = map[string]*Question{}
	for i := range q.Questions {
		q.checkQuestion(p, &q.Questions[i], clauses)
	}
	if len(p.list) > 0 {
		return nil, p.list
	}
	return q, nil
}

// problems collects Parse's problems in one file.
type problems struct {
	file string
	list []Problem
}

func (p *problems) add(line int, key, format string, args ...any) {
	p.list = append(p.list, lesson.NewProblem(p.file, line, key, format, args...))
}

// decode reads the YAML into a Quiz, keeping the node tree for the lines
// of keys; each question gets its line from it, for messages about it.
func decode(src []byte) (*Quiz, *yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, nil, err
	}
	var q Quiz
	if err := root.Decode(&q); err != nil {
		return nil, nil, err
	}
	if len(root.Content) > 0 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "questions" {
				for j, n := range m.Content[i+1].Content {
					if j < len(q.Questions) {
						q.Questions[j].Line = n.Line
					}
				}
			}
		}
	}
	return &q, &root, nil
}

// checkSettings checks the quiz-wide keys; an empty review is the default.
func (q *Quiz) checkSettings(p *problems, root *yaml.Node) {
	if q.Lesson == "" {
		p.add(1, "prob.quiz.lesson", "lesson is missing")
	}
	if q.PassMark < 1 || q.PassMark > 100 {
		p.add(1, "prob.quiz.pass_mark", "pass_mark must be a percentage between 1 and 100")
	}
	if q.CooldownMinutes < 0 || q.MaxAttempts < 0 {
		p.add(1, "prob.quiz.negative", "cooldown_minutes and max_attempts cannot be negative")
	}
	q.Review = strings.TrimSpace(q.Review)
	if q.Review == "" {
		q.Review = ReviewAfterPass
	} else if !slices.Contains(Reviews, q.Review) {
		p.add(keyLine(root, "review"), "prob.quiz.review", "review %q must be one of %s", q.Review, strings.Join(Reviews, ", "))
	}
}

// checkCooldown checks the cool-down, when there is one, and sets its wait.
func (q *Quiz) checkCooldown(p *problems, root *yaml.Node) {
	cd := &q.Cooldown
	if cd.After == 0 && cd.WaitText == "" {
		return
	}
	line := keyLine(root, "cooldown")
	if cd.After < 1 {
		p.add(line, "prob.quiz.cooldown_after", "cooldown.after must be a number of failed attempts of at least 1")
	}
	w, err := parseWait(strings.TrimSpace(cd.WaitText))
	switch {
	case cd.WaitText == "":
		p.add(line, "prob.quiz.cooldown_wait_missing", "cooldown.wait is missing: how long to wait, e.g. 24h, 90m or 2d")
	case err != nil:
		p.add(line, "prob.quiz.cooldown_wait_shape", "cooldown.wait %q must be a duration such as 24h, 90m or 2d", cd.WaitText)
	case w <= 0 || w > maxWait:
		p.add(line, "prob.quiz.cooldown_wait_range", "cooldown.wait %q must be more than 0 and at most 30 days", cd.WaitText)
	default:
		cd.Wait = w
	}
}

// checkDraw checks that there are questions to draw from.
func (q *Quiz) checkDraw(p *problems) {
	if len(q.Questions) == 0 {
		p.add(1, "prob.quiz.no_questions", "the quiz has no questions")
	}
	if q.PerAttempt < 1 || q.PerAttempt > len(q.Questions) {
		p.add(1, "prob.quiz.draw", "draw must be between 1 and the number of questions (%d)", len(q.Questions))
	}
}

// checkQuestion checks one question and indexes it by id: its id, the
// content rules it shares with the form editor (contentIssues), and what
// only a hand-written file can get wrong.
func (q *Quiz) checkQuestion(p *problems, qq *Question, clauses []string) {
	line := qq.Line
	switch {
	case !idRe.MatchString(qq.ID):
		p.add(line, "prob.quiz.id", "question id %q must be letters, digits, '-' or '_'", qq.ID)
	case q.byID[qq.ID] != nil:
		p.add(line, "prob.quiz.id_twice", "question id %q is used twice (first on line %d)", qq.ID, q.byID[qq.ID].Line)
	default:
		q.byID[qq.ID] = qq
	}
	qq.Sum = qq.sum()
	for _, is := range qq.contentIssues(clauses) {
		q.addIssue(p, qq, is)
	}
	// The form editor offers neither other keys nor answers that are not
	// options.
	opts := map[string]bool{}
	for _, o := range qq.Options {
		opts[o.ID] = true
		for k := range o.Text {
			if !slices.Contains(model.Languages, k) {
				p.add(o.Line, "prob.quiz.option_key", "question %s: option %s: unknown key %q", qq.ID, o.ID, k)
			}
		}
	}
	for _, a := range qq.Answer {
		if !opts[a] {
			p.add(line, "prob.quiz.answer", "question %s: answer %q is not one of its options", qq.ID, a)
		}
	}
}

// addIssue words a content issue of qq in English, at its line.
func (q *Quiz) addIssue(p *problems, qq *Question, is issue) {
	l, o := qq.Line, Option{}
	if is.Opt > 0 {
		o = qq.Options[is.Opt-1]
		l = o.Line
	}
	switch is.Code {
	case "clause":
		p.add(l, "prob.quiz.clause", "question %s: clause is missing", qq.ID)
	case "clause_gone":
		p.add(l, "prob.quiz.clause_gone", "question %s: clause %q does not exist in lesson %s", qq.ID, qq.Clause, q.Lesson)
	case "prompt":
		p.add(l, "prob.quiz.prompt", "question %s: prompt in %s is missing", qq.ID, lesson.LangName(is.Lang))
	case "explanation":
		p.add(l, "prob.quiz.explanation", "question %s: explanation in %s is missing", qq.ID, lesson.LangName(is.Lang))
	case "option_id":
		p.add(l, "prob.quiz.option_id", "question %s: option id %q must be letters, digits, '-' or '_'", qq.ID, o.ID)
	case "option_id_twice":
		p.add(l, "prob.quiz.option_id_twice", "question %s: option id %q is used twice", qq.ID, o.ID)
	case "option_text":
		p.add(l, "prob.quiz.option_text", "question %s: option %s has no %s text", qq.ID, o.ID, lesson.LangName(is.Lang))
	case Single:
		p.add(l, "prob.quiz.single", "question %s: a single-choice question needs at least 2 options and exactly 1 answer", qq.ID)
	case Multiple:
		p.add(l, "prob.quiz.multiple", "question %s: a multiple-choice question needs at least 2 options and 1 answer", qq.ID)
	case TrueFalse:
		p.add(l, "prob.quiz.truefalse", "question %s: a true/false question has exactly the options 'true' and 'false' and 1 answer", qq.ID)
	case "type":
		p.add(l, "prob.quiz.type", "question %s: type %q must be single, multiple or truefalse", qq.ID, qq.Type)
	}
}

// issue is one rule a question's content breaks. Parse words it in
// English with its line; the form editor (File.Check) puts it next to its
// field. Opt is the 1-based option it concerns (0: the question), Lang the
// language of a missing text. Code is a type name for a type's rule.
type issue struct {
	Code string
	Opt  int
	Lang string
}

// contentIssues checks what a question says and keys against the lesson's
// clause ids (nil skips that check): the rules Parse and File.Check share,
// so that the form passes what Parse stores.
func (qq *Question) contentIssues(clauses []string) []issue {
	var out []issue
	add := func(code string, opt int, lang string) { out = append(out, issue{Code: code, Opt: opt, Lang: lang}) }
	if qq.Clause == "" {
		add("clause", 0, "")
	} else if clauses != nil && !slices.Contains(clauses, qq.Clause) {
		add("clause_gone", 0, "")
	}
	for _, lang := range model.Languages {
		if strings.TrimSpace(qq.Prompt[lang]) == "" {
			add("prompt", 0, lang)
		}
		if strings.TrimSpace(qq.Explanation[lang]) == "" {
			add("explanation", 0, lang)
		}
	}
	ids := map[string]bool{}
	for j, o := range qq.Options {
		if !idRe.MatchString(o.ID) {
			add("option_id", j+1, "")
		}
		if ids[o.ID] {
			add("option_id_twice", j+1, "")
		}
		ids[o.ID] = true
		for _, lang := range model.Languages {
			if strings.TrimSpace(o.Text[lang]) == "" {
				add("option_text", j+1, lang)
			}
		}
	}
	switch n, keys := len(qq.Options), len(qq.Answer); qq.Type {
	case Single:
		if n < 2 || keys != 1 {
			add(Single, 0, "")
		}
	case Multiple:
		if n < 2 || keys < 1 {
			add(Multiple, 0, "")
		}
	case TrueFalse:
		if n != 2 || !ids["true"] || !ids["false"] || keys != 1 {
			add(TrueFalse, 0, "")
		}
	default:
		add("type", 0, "")
	}
	return out
}

// Draw picks n questions from pool ids (all of them when n >= len) and
// shuffles each question's options, so every attempt is its own.
func (q *Quiz) Draw(pool []string, n int, r *rand.Rand) []model.AttemptQuestion {
	ids := slices.Clone(pool)
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if n < len(ids) {
		ids = ids[:n]
	}
	out := make([]model.AttemptQuestion, 0, len(ids))
	for _, id := range ids {
		qq := q.byID[id]
		var opts []string
		for _, o := range qq.Options {
			opts = append(opts, o.ID)
		}
		// True/false reads naturally only in that order.
		if qq.Type != TrueFalse {
			r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
		}
		out = append(out, model.AttemptQuestion{ID: id, Options: opts})
	}
	return out
}

// IDs returns the ids of every question, or of those testing one of clauses
// when clauses is not nil.
func (q *Quiz) IDs(clauses []string) []string {
	var out []string
	for _, qq := range q.Questions {
		if clauses == nil || slices.Contains(clauses, qq.Clause) {
			out = append(out, qq.ID)
		}
	}
	return out
}

// Grade marks the answers to the drawn questions. Options not shown in the
// attempt are ignored, so a crafted answer cannot score.
func (q *Quiz) Grade(drawn []model.AttemptQuestion, answers map[string][]string) (graded []model.AttemptAnswer, score int) {
	right := 0
	for _, d := range drawn {
		qq := q.byID[d.ID]
		var chosen []string
		for _, c := range answers[d.ID] {
			if slices.Contains(d.Options, c) && !slices.Contains(chosen, c) {
				chosen = append(chosen, c)
			}
		}
		if qq.Type != Multiple && len(chosen) > 1 {
			chosen = chosen[:1]
		}
		ok := sameSet(chosen, qq.Answer)
		if ok {
			right++
		}
		graded = append(graded, model.AttemptAnswer{ID: d.ID, Chosen: chosen, Correct: ok})
	}
	if len(drawn) > 0 {
		score = right * 100 / len(drawn)
	}
	return graded, score
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Settings are the review policy and cool-down as a quiz file writes them,
// for the editor's controls; read even from a file with other problems.
type Settings struct {
	Review        string
	CooldownAfter int
	CooldownWait  string
}

// SettingsOf reads the settings of a quiz file ("" review: the default).
func SettingsOf(src string) Settings {
	var f struct {
		Review   string   `yaml:"review"`
		Cooldown Cooldown `yaml:"cooldown"`
	}
	_ = yaml.Unmarshal([]byte(src), &f) // a broken file shows its problems elsewhere
	if f.Review == "" {
		f.Review = ReviewAfterPass
	}
	return Settings{Review: f.Review, CooldownAfter: f.Cooldown.After, CooldownWait: f.Cooldown.WaitText}
}

var (
	reviewLine   = regexp.MustCompile(`(?m)^review:.*\n?`)
	cooldownKey  = regexp.MustCompile(`(?m)^cooldown:.*\n?(?:[ \t]+.*\n?)*`)
	firstKeyLine = regexp.MustCompile(`(?m)^lesson:.*\n`)
	plainScalar  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// WithSettings returns the quiz file with its review and cool-down lines
// replaced by st (after 0: no cool-down), leaving every other line as
// HR wrote it. New lines go after the lesson line. Parse validates them.
func WithSettings(src string, st Settings) string {
	src = cooldownKey.ReplaceAllString(reviewLine.ReplaceAllString(src, ""), "")
	var add strings.Builder
	if st.Review != "" && st.Review != ReviewAfterPass {
		fmt.Fprintf(&add, "review: %s\n", yamlScalar(st.Review))
	}
	if st.CooldownAfter != 0 || strings.TrimSpace(st.CooldownWait) != "" {
		fmt.Fprintf(&add, "cooldown: {after: %d, wait: %s}\n", st.CooldownAfter, yamlScalar(strings.TrimSpace(st.CooldownWait)))
	}
	if add.Len() == 0 {
		return src
	}
	if loc := firstKeyLine.FindStringIndex(src); loc != nil {
		return src[:loc[1]] + add.String() + src[loc[1]:]
	}
	return add.String() + src
}

// yamlScalar quotes s for YAML when it is not a plain word.
func yamlScalar(s string) string {
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}
