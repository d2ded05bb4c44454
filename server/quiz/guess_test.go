package quiz

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/model"
)

// shippedQuizzes parses every quiz the portal ships.
func shippedQuizzes(t *testing.T) map[string]*Quiz {
	t.Helper()
	files, err := filepath.Glob("../../quizzes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no quizzes: %v", err)
	}
	out := map[string]*Quiz{}
	for _, f := range files {
		src, err := os.ReadFile(f) // #nosec G304 -- the repository's own files
		if err != nil {
			t.Fatal(err)
		}
		q, probs := Parse(f, src, nil)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = q
	}
	return out
}

// TestGuesserCannotPass is the guesser test of issue 25: no form-only
// strategy passes a first attempt of a shipped quiz more than 5 % of the
// time, in either language.
func TestGuesserCannotPass(t *testing.T) {
	for slug, q := range shippedQuizzes(t) {
		for _, lang := range model.Languages {
			g := q.Guesses(lang)
			best := g[0]
			t.Logf("%s %s: best %.1f %% by %s", slug, lang, best.Pass*100, best.Strategy)
			if best.Pass > GuessLimit {
				var right []string
				for id, p := range best.Right {
					if p > 0 {
						right = append(right, id)
					}
				}
				t.Errorf("%s (%s): a guesser passes %.1f %% of first attempts (limit %.0f %%) with %s; it answers right: %v",
					slug, lang, best.Pass*100, GuessLimit*100, best.Strategy, right)
			}
		}
	}
}

// TestPassChanceIsExact compares the dynamic programme with a plain
// enumeration of every draw, and with the real Draw and Grade.
func TestPassChanceIsExact(t *testing.T) {
	p := []float64{1, 0.5, 0, 0.25, 1, 1, 0.75, 0, 1, 0.5}
	for _, c := range []struct{ n, mark int }{{6, 80}, {4, 75}, {3, 100}, {10, 50}, {1, 80}} {
		want := enumerate(p, c.n, c.mark)
		if got := PassChance(p, c.n, c.mark); abs(got-want) > 1e-12 {
			t.Errorf("draw %d mark %d: PassChance %v, enumeration %v", c.n, c.mark, got, want)
		}
	}
	// A guesser that answers questions 0..k-1 right and the rest wrong,
	// simulated through the real Draw and Grade.
	q, _ := Parse("x.yaml", []byte(pool), nil)
	pr := []float64{1, 0, 1}
	want := PassChance(pr, 2, q.PassMark) // both drawn must be right: 1/3
	if abs(want-1.0/3) > 1e-12 {
		t.Fatalf("PassChance %v, want 1/3", want)
	}
	r := rand.New(rand.NewPCG(3, 4))
	passed, runs := 0, 30000
	for range runs {
		drawn := q.Draw(q.IDs(nil), 2, r)
		ans := map[string][]string{}
		for _, d := range drawn {
			qq, _ := q.Question(d.ID)
			if d.ID != "q2" {
				ans[d.ID] = qq.Answer
			}
		}
		if _, score := q.Grade(drawn, ans); score >= q.PassMark {
			passed++
		}
	}
	if got := float64(passed) / float64(runs); abs(got-want) > 0.02 {
		t.Errorf("simulated %v, exact %v", got, want)
	}
}

// enumerate sums the pass chance over every set of n questions.
func enumerate(p []float64, n, mark int) float64 {
	total, count := 0.0, 0
	var rec func(start int, picked []int)
	rec = func(start int, picked []int) {
		if len(picked) == n {
			count++
			// chance of at least need right among picked
			dist := []float64{1}
			for _, i := range picked {
				next := make([]float64, len(dist)+1)
				for r, x := range dist {
					next[r] += x * (1 - p[i])
					next[r+1] += x * p[i]
				}
				dist = next
			}
			for r, x := range dist {
				if r*100/n >= mark {
					total += x
				}
			}
			return
		}
		for i := start; i < len(p); i++ {
			rec(i+1, append(picked, i))
		}
	}
	rec(0, nil)
	return total / float64(count)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestGuessWarnings flags a pool a guesser passes (every key the longest
// option) and leaves a fair one alone.
func TestGuessWarnings(t *testing.T) {
	var b strings.Builder
	b.WriteString("lesson: x\npass_mark: 80\ndraw: 6\ncooldown_minutes: 0\nmax_attempts: 0\nquestions:\n")
	for i := range 10 {
		b.WriteString("  - id: q" + string(rune('a'+i)) + "\n    clause: c\n    type: single\n" +
			"    prompt: {zh-CN: 问题, en: Question}\n    options:\n" +
			"      - {id: a, zh-CN: 这是最长的正确答案, en: the longest right answer here}\n" +
			"      - {id: b, zh-CN: 短的, en: short}\n      - {id: c, zh-CN: 也短, en: brief}\n" +
			"    answer: [a]\n    explanation: {zh-CN: 因为, en: because}\n")
	}
	q, probs := Parse("x.yaml", []byte(b.String()), nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	w := q.GuessWarnings()
	if len(w) != 2 || w[0].Pass != 1 || !strings.Contains(w[0].Strategy, "single:longest") {
		t.Fatalf("warnings %+v", w)
	}
	for slug, q := range shippedQuizzes(t) {
		if w := q.GuessWarnings(); len(w) > 0 {
			t.Errorf("%s: %+v", slug, w)
		}
	}
}

// BenchmarkGuessWarnings is the cost the editor pays per page to check a
// pool of 20 questions in both languages.
func BenchmarkGuessWarnings(b *testing.B) {
	src, err := os.ReadFile("../../quizzes/attendance.yaml")
	if err != nil {
		b.Fatal(err)
	}
	q, probs := Parse("attendance.yaml", src, nil)
	if len(probs) > 0 {
		b.Fatal(probs)
	}
	for b.Loop() {
		if w := q.GuessWarnings(); len(w) > 0 {
			b.Fatal(w)
		}
	}
}
