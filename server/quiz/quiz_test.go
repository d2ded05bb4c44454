package quiz

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

const pool = `lesson: dress
pass_mark: 80
draw: 2
cooldown_minutes: 0
max_attempts: 0
questions:
  - id: q1
    clause: a
    type: single
    prompt: {zh-CN: 问一, en: Q one}
    options:
      - {id: a, zh-CN: 对, en: right}
      - {id: b, zh-CN: 错, en: wrong}
    answer: [a]
    explanation: {zh-CN: 因为, en: because}
  - id: q2
    clause: b
    type: multiple
    prompt: {zh-CN: 问二, en: Q two}
    options:
      - {id: a, zh-CN: 甲, en: A}
      - {id: b, zh-CN: 乙, en: B}
      - {id: c, zh-CN: 丙, en: C}
    answer: [a, c]
    explanation: {zh-CN: 因为, en: because}
  - id: q3
    clause: b
    type: truefalse
    prompt: {zh-CN: 问三, en: Q three}
    options:
      - {id: "true", zh-CN: 正确, en: "True"}
      - {id: "false", zh-CN: 错误, en: "False"}
    answer: ["false"]
    explanation: {zh-CN: 因为, en: because}
`

func TestParseAndGrade(t *testing.T) {
	q, probs := Parse("quizzes/dress.yaml", []byte(pool), []string{"a", "b"})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if q.PerAttempt != 2 || len(q.Questions) != 3 || q.Questions[1].Line != 16 {
		t.Fatalf("parsed: %+v", q)
	}
	drawn := q.Draw(q.IDs(nil), 3, rand.New(rand.NewPCG(1, 2)))
	if len(drawn) != 3 {
		t.Fatalf("drawn %d", len(drawn))
	}
	graded, score := q.Grade(drawn, map[string][]string{
		"q1": {"a"}, "q2": {"c", "a"}, "q3": {"true"},
	})
	if score != 66 {
		t.Fatalf("score %d, want 66 (2 of 3)", score)
	}
	for _, g := range graded {
		if g.Correct != (g.ID != "q3") {
			t.Fatalf("graded %+v", g)
		}
	}
	// Half of a multiple answer is wrong; options not shown are ignored;
	// a single-choice question takes only one choice.
	_, score = q.Grade(drawn, map[string][]string{"q1": {"b", "a"}, "q2": {"a"}, "q3": {"false", "x"}})
	if score != 33 {
		t.Fatalf("score %d, want 33", score)
	}
}

func TestDrawIsRandomAndOnlyFromPool(t *testing.T) {
	q, _ := Parse("q.yaml", []byte(pool), nil)
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	orders := map[string]bool{}
	for i := 0; i < 50; i++ {
		d := q.Draw(q.IDs([]string{"b"}), 1, r)
		if len(d) != 1 || (d[0].ID != "q2" && d[0].ID != "q3") {
			t.Fatalf("drew %+v from clause b", d)
		}
		seen[d[0].ID] = true
		if d[0].ID == "q2" {
			orders[strings.Join(d[0].Options, "")] = true
		}
		if d[0].ID == "q3" && !slices.Equal(d[0].Options, []string{"true", "false"}) {
			t.Fatalf("true/false options reordered: %v", d[0].Options)
		}
	}
	if len(seen) != 2 || len(orders) < 2 {
		t.Fatalf("draws are not varied: %v %v", seen, orders)
	}
}

// TestReviewAndCooldown: the default policy shows the keys once passed;
// HR's policy and cool-down are read from the file.
func TestReviewAndCooldown(t *testing.T) {
	q, probs := Parse("q.yaml", []byte(pool), nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if q.Review != ReviewAfterPass || q.ShowsAnswers(false) || !q.ShowsAnswers(true) || q.Cooldown.After != 0 || q.Cooldown.Wait != 0 {
		t.Fatalf("defaults: review %q, cooldown %+v", q.Review, q.Cooldown)
	}
	for _, tc := range []struct {
		extra      string
		fail, pass bool
		after      int
		wait       time.Duration
	}{
		{"review: always\ncooldown: {after: 3, wait: 24h}", true, true, 3, 24 * time.Hour},
		{"review: never\ncooldown:\n  after: 1\n  wait: 2d", false, false, 1, 48 * time.Hour},
		{"review: after_pass\ncooldown: {after: 2, wait: 90m}", false, true, 2, 90 * time.Minute},
	} {
		q, probs := Parse("q.yaml", []byte(strings.Replace(pool, "max_attempts: 0", "max_attempts: 0\n"+tc.extra, 1)), nil)
		if len(probs) > 0 {
			t.Fatalf("%s: %v", tc.extra, probs)
		}
		if q.ShowsAnswers(false) != tc.fail || q.ShowsAnswers(true) != tc.pass || q.Cooldown.After != tc.after || q.Cooldown.Wait != tc.wait {
			t.Errorf("%s: review %q, cooldown %+v", tc.extra, q.Review, q.Cooldown)
		}
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown clause", "clause: a", "clause: zz", `:7: question q1: clause "zz" does not exist`},
		{"answer not an option", "answer: [a]", "answer: [d]", `answer "d" is not one of its options`},
		{"two answers to single", "answer: [a]", "answer: [a, b]", "exactly 1 answer"},
		{"missing english", "prompt: {zh-CN: 问一, en: Q one}", "prompt: {zh-CN: 问一}", "prompt in en is missing"},
		{"duplicate id", "id: q2", "id: q1", `question id "q1" is used twice`},
		{"bad type", "type: single", "type: essay", `type "essay"`},
		{"draw too big", "draw: 2", "draw: 9", "draw must be between 1 and the number of questions (3)"},
		{"syntax", "questions:", "questions: [", "did not find expected"},
		{"unknown review", "max_attempts: 0", "max_attempts: 0\nreview: after_fail", `q.yaml:6: review "after_fail" must be one of after_pass, always, never`},
		{"cooldown without after", "max_attempts: 0", "max_attempts: 0\ncooldown: {wait: 24h}", "q.yaml:6: cooldown.after must be a number of failed attempts of at least 1"},
		{"cooldown without wait", "max_attempts: 0", "max_attempts: 0\ncooldown: {after: 3}", "q.yaml:6: cooldown.wait is missing"},
		{"cooldown bad wait", "max_attempts: 0", "max_attempts: 0\ncooldown: {after: 3, wait: a day}", `q.yaml:6: cooldown.wait "a day" must be a duration`},
		{"cooldown too long", "max_attempts: 0", "max_attempts: 0\ncooldown: {after: 3, wait: 31d}", `cooldown.wait "31d" must be more than 0 and at most 30 days`},
		{"cooldown not a map", "max_attempts: 0", "max_attempts: 0\ncooldown: 3", "q.yaml:6:"},
	} {
		_, probs := Parse("q.yaml", []byte(strings.Replace(pool, tc.from, tc.to, 1)), []string{"a", "b"})
		all := ""
		for _, p := range probs {
			all += p.Error() + "\n"
		}
		if !strings.Contains(all, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, all, tc.want)
		}
	}
}

// TestWithSettings: the editor's controls rewrite only the review and
// cool-down lines, and what they write parses back to the same.
func TestWithSettings(t *testing.T) {
	src := strings.Replace(pool, "max_attempts: 0", "max_attempts: 0\nreview: always\ncooldown:\n  after: 2\n  wait: 1h", 1)
	if st := SettingsOf(src); st != (Settings{Review: ReviewAlways, CooldownAfter: 2, CooldownWait: "1h"}) {
		t.Fatalf("SettingsOf: %+v", st)
	}
	for _, st := range []Settings{
		{Review: ReviewNever, CooldownAfter: 3, CooldownWait: "24h"},
		{Review: ReviewAfterPass},
		{Review: ReviewAlways, CooldownAfter: 1, CooldownWait: "2d"},
	} {
		out := WithSettings(src, st)
		q, probs := Parse("q.yaml", []byte(out), nil)
		if len(probs) > 0 {
			t.Fatalf("%+v: %v\n%s", st, probs, out)
		}
		if got := SettingsOf(out); got != st || q.Review != st.Review || len(q.Questions) != 3 {
			t.Errorf("%+v: wrote %+v\n%s", st, got, out)
		}
		// Every line but the settings is kept as written.
		rest := func(s string) string {
			return cooldownKey.ReplaceAllString(reviewLine.ReplaceAllString(s, ""), "")
		}
		if rest(out) != rest(src) {
			t.Errorf("%+v changed other lines:\n%s", st, out)
		}
	}
	if st := SettingsOf(pool); st.Review != ReviewAfterPass || st.CooldownAfter != 0 {
		t.Errorf("defaults: %+v", st)
	}
	// A bad wait is written as typed, and Parse says what is wrong.
	_, probs := Parse("q.yaml", []byte(WithSettings(pool, Settings{Review: ReviewAfterPass, CooldownAfter: 2, CooldownWait: "one day"})), nil)
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), `q.yaml:2: cooldown.wait "one day" must be a duration`) {
		t.Errorf("bad wait: %v", probs)
	}
}
