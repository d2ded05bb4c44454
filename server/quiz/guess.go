package quiz

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"conductportal/server/model"
)

// A guesser answers a quiz from its form alone, never reading the lesson:
// the longest option, the option that repeats the prompt, "loophole words
// mean false" and the like. GuessReport computes exactly, over every draw
// the real Draw can make, the chance that such a guesser passes a first
// attempt, so HR learns when a pool can be passed without reading.

// GuessLimit is the highest first-attempt pass chance a form-only guesser
// may have: above it a pass proves little.
const GuessLimit = 0.05

// loopholes are the words that test-wise readers take to mark a false
// statement (a loophole or an absolute), both languages.
var loopholes = []string{
	"只要", "只有", "只需", "只能", "只是", "可以", "不必", "无需", "无须", "不用", "即可", "就行", "也行",
	"一律", "必须", "总是", "任何", "所有", "一切", "从不", "绝不", "完全", "全部", "随时", "随意", "一定",
	"as long as", "only", "just", "may ", "can ", "need not", "needn't", "don't have to", "do not have to",
	"no need", "always", "never", "every", "any ", "must", "whenever", "all ", "entirely", "at any time",
}

// hedges are the words that test-wise readers take to mark a true statement.
var hedges = []string{
	"一般", "尽量", "通常", "宜", "应", "要", "最多", "适当", "可能",
	"usually", "generally", "should", "best", "as far as", "normally", "preferably", "at most", "try to",
}

// negations mark a statement that forbids something.
var negations = []string{"不", "没", "勿", "禁", "not ", "n't", "never", "no ", "nor "}

// allOfAbove marks an option that covers the others.
var allOfAbove = []string{"以上", "都对", "均是", "都是", "all of the above", "all the above", "both", "each of these"}

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s) + " "
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// tokens are the words of s: Han character pairs, and Latin words of three
// letters or more that are not stop words.
func tokens(s string) map[string]bool {
	out := map[string]bool{}
	var han []rune
	flushHan := func() {
		for i := 0; i+1 < len(han); i++ {
			out[string(han[i:i+2])] = true
		}
		if len(han) == 1 {
			out[string(han)] = true
		}
		han = han[:0]
	}
	var word strings.Builder
	flushWord := func() {
		w := word.String()
		if len(w) >= 3 && !slices.Contains(stopWords, w) {
			out[w] = true
		}
		word.Reset()
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.Is(unicode.Han, r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			word.WriteRune(r)
		default:
			flushHan()
			flushWord()
		}
	}
	flushHan()
	flushWord()
	return out
}

var stopWords = []string{"the", "and", "you", "your", "for", "are", "with", "that", "this", "which", "what", "from", "they", "them", "their", "has", "have", "was", "were", "its", "into", "when", "who", "how", "why", "one", "not"}

func overlap(a, b map[string]bool) int {
	n := 0
	for t := range a {
		if b[t] {
			n++
		}
	}
	return n
}

// view is one question as the guesser sees it in one language.
type view struct {
	q      *Question
	prompt string
	opts   []string // option texts, in the file's order
	ids    []string
	len    []int
	ptok   map[string]bool
	otok   []map[string]bool
}

func newView(q *Question, lang string) view {
	v := view{q: q, prompt: q.Prompt.In(lang), ptok: tokens(q.Prompt.In(lang))}
	for _, o := range q.Options {
		t := o.Text.In(lang)
		v.opts = append(v.opts, t)
		v.ids = append(v.ids, o.ID)
		v.len = append(v.len, utf8.RuneCountInString(t))
		v.otok = append(v.otok, tokens(t))
	}
	return v
}

// similarity is how much option i shares with the other options.
func (v view) similarity(i int) int {
	n := 0
	for j := range v.opts {
		if j != i {
			n += overlap(v.otok[i], v.otok[j])
		}
	}
	return n
}

// pickMax returns the options with the highest score (ties all kept).
func pickMax(n int, score func(i int) float64) []int {
	best, out := math.Inf(-1), []int(nil)
	for i := range n {
		s := score(i)
		switch {
		case s > best:
			best, out = s, []int{i}
		case s == best:
			out = append(out, i)
		}
	}
	return out
}

func (v view) set(idx []int) []string {
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, v.ids[i])
	}
	return out
}

// A rule answers one question type. It returns equally likely answers:
// the guesser picks one of them at random (ties, or plain guessing).
type rule struct {
	name   string
	answer func(v view, pool []view) [][]string
}

func each(v view, idx []int) [][]string {
	out := make([][]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, []string{v.ids[i]})
	}
	return out
}

func all(v view) []int {
	idx := make([]int, len(v.opts))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// orAll keeps the options that match, or all of them when none or all do
// (the rule then tells nothing).
func orAll(v view, keep func(i int) bool) []int {
	var idx []int
	for i := range v.opts {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return all(v)
	}
	return idx
}

func median(xs []int) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

func mean(xs []int) float64 {
	t := 0
	for _, x := range xs {
		t += x
	}
	return float64(t) / float64(max(1, len(xs)))
}

// singleRules choose one option.
var singleRules = []rule{
	{"random", func(v view, _ []view) [][]string { return each(v, all(v)) }},
	{"longest", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"shortest", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return -float64(v.len[i]) }))
	}},
	{"middle-length", func(v view, _ []view) [][]string {
		m := median(v.len)
		return each(v, pickMax(len(v.opts), func(i int) float64 { return -math.Abs(float64(v.len[i]) - m) }))
	}},
	{"repeats-prompt", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return float64(overlap(v.otok[i], v.ptok)) }))
	}},
	{"avoids-prompt", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return -float64(overlap(v.otok[i], v.ptok)) }))
	}},
	{"like-the-others", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return float64(v.similarity(i)) }))
	}},
	{"odd-one-out", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return -float64(v.similarity(i)) }))
	}},
	{"no-loophole", func(v view, _ []view) [][]string {
		return each(v, orAll(v, func(i int) bool { return !containsAny(v.opts[i], loopholes) }))
	}},
	{"hedged", func(v view, _ []view) [][]string {
		return each(v, orAll(v, func(i int) bool { return containsAny(v.opts[i], hedges) }))
	}},
	{"no-negation", func(v view, _ []view) [][]string {
		return each(v, orAll(v, func(i int) bool { return !containsAny(v.opts[i], negations) }))
	}},
	{"specific", func(v view, _ []view) [][]string {
		return each(v, orAll(v, func(i int) bool { return strings.ContainsFunc(v.opts[i], unicode.IsDigit) }))
	}},
	{"all-of-the-above", func(v view, _ []view) [][]string {
		return each(v, orAll(v, func(i int) bool { return containsAny(v.opts[i], allOfAbove) }))
	}},
	// Combinations of the strongest: rule options out, then pick by form.
	{"no-loophole-then-longest", func(v view, _ []view) [][]string {
		keep := orAll(v, func(i int) bool { return !containsAny(v.opts[i], loopholes) })
		return each(v, best(keep, func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"no-negation-then-longest", func(v view, _ []view) [][]string {
		keep := orAll(v, func(i int) bool { return !containsAny(v.opts[i], negations) })
		return each(v, best(keep, func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"repeats-prompt-then-longest", func(v view, _ []view) [][]string {
		keep := pickMax(len(v.opts), func(i int) float64 { return float64(overlap(v.otok[i], v.ptok)) })
		return each(v, best(keep, func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"like-the-others-then-longest", func(v view, _ []view) [][]string {
		keep := pickMax(len(v.opts), func(i int) float64 { return float64(v.similarity(i)) })
		return each(v, best(keep, func(i int) float64 { return float64(v.len[i]) }))
	}},
}

// best keeps, of the options idx, those with the highest score.
func best(idx []int, score func(i int) float64) []int {
	top := pickMax(len(idx), func(k int) float64 { return score(idx[k]) })
	out := make([]int, len(top))
	for k, t := range top {
		out[k] = idx[t]
	}
	return out
}

// multipleRules choose a set of options.
var multipleRules = []rule{
	{"random", func(v view, _ []view) [][]string {
		// Every non-empty subset, equally likely.
		var out [][]string
		for m := 1; m < 1<<len(v.opts); m++ {
			var idx []int
			for i := range v.opts {
				if m&(1<<i) != 0 {
					idx = append(idx, i)
				}
			}
			out = append(out, v.set(idx))
		}
		return out
	}},
	{"all", func(v view, _ []view) [][]string { return [][]string{v.set(all(v))} }},
	{"all-but-odd-one-out", func(v view, _ []view) [][]string {
		return dropEach(v, pickMax(len(v.opts), func(i int) float64 { return -float64(v.similarity(i)) }))
	}},
	{"all-but-shortest", func(v view, _ []view) [][]string {
		return dropEach(v, pickMax(len(v.opts), func(i int) float64 { return -float64(v.len[i]) }))
	}},
	{"all-but-longest", func(v view, _ []view) [][]string {
		return dropEach(v, pickMax(len(v.opts), func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"all-but-loophole", func(v view, _ []view) [][]string {
		return [][]string{v.set(orAll(v, func(i int) bool { return !containsAny(v.opts[i], loopholes) }))}
	}},
	{"all-but-negation", func(v view, _ []view) [][]string {
		return [][]string{v.set(orAll(v, func(i int) bool { return !containsAny(v.opts[i], negations) }))}
	}},
	{"longer-than-mean", func(v view, _ []view) [][]string {
		m := mean(v.len)
		return [][]string{v.set(orAll(v, func(i int) bool { return float64(v.len[i]) >= m }))}
	}},
	{"repeats-prompt", func(v view, _ []view) [][]string {
		ov := make([]int, len(v.opts))
		for i := range ov {
			ov[i] = overlap(v.otok[i], v.ptok)
		}
		m := mean(ov)
		return [][]string{v.set(orAll(v, func(i int) bool { return float64(ov[i]) >= m && ov[i] > 0 }))}
	}},
	{"longest-only", func(v view, _ []view) [][]string {
		return each(v, pickMax(len(v.opts), func(i int) float64 { return float64(v.len[i]) }))
	}},
	{"all-but-odd-and-loophole", func(v view, _ []view) [][]string {
		keep := orAll(v, func(i int) bool { return !containsAny(v.opts[i], loopholes) })
		if len(keep) <= 2 {
			return [][]string{v.set(keep)}
		}
		odd := best(keep, func(i int) float64 { return -float64(v.similarity(i)) })
		var out [][]string
		for _, d := range odd {
			out = append(out, v.set(slices.DeleteFunc(slices.Clone(keep), func(i int) bool { return i == d })))
		}
		return out
	}},
	{"two-longest", func(v view, _ []view) [][]string {
		order := all(v)
		slices.SortStableFunc(order, func(a, b int) int { return v.len[b] - v.len[a] })
		return [][]string{v.set(order[:min(2, len(order))])}
	}},
}

// dropEach answers all options but one of drop.
func dropEach(v view, drop []int) [][]string {
	if len(drop) == len(v.opts) {
		return [][]string{v.set(all(v))}
	}
	var out [][]string
	for _, d := range drop {
		var idx []int
		for i := range v.opts {
			if i != d {
				idx = append(idx, i)
			}
		}
		out = append(out, v.set(idx))
	}
	return out
}

func tf(b bool) [][]string {
	if b {
		return [][]string{{"true"}}
	}
	return [][]string{{"false"}}
}

// trueFalseRules judge a statement.
var trueFalseRules = []rule{
	{"random", func(_ view, _ []view) [][]string { return [][]string{{"true"}, {"false"}} }},
	{"always-true", func(_ view, _ []view) [][]string { return tf(true) }},
	{"always-false", func(_ view, _ []view) [][]string { return tf(false) }},
	{"loophole-means-false", func(v view, _ []view) [][]string { return tf(!containsAny(v.prompt, loopholes)) }},
	{"loophole-means-true", func(v view, _ []view) [][]string { return tf(containsAny(v.prompt, loopholes)) }},
	{"hedged-means-true", func(v view, _ []view) [][]string { return tf(containsAny(v.prompt, hedges)) }},
	{"negation-means-false", func(v view, _ []view) [][]string { return tf(!containsAny(v.prompt, negations)) }},
	{"negation-means-true", func(v view, _ []view) [][]string { return tf(containsAny(v.prompt, negations)) }},
	{"hedge-beats-loophole", func(v view, _ []view) [][]string {
		return tf(containsAny(v.prompt, hedges) || !containsAny(v.prompt, loopholes))
	}},
	{"loophole-or-negation-means-false", func(v view, _ []view) [][]string {
		return tf(!containsAny(v.prompt, loopholes) && !containsAny(v.prompt, negations))
	}},
	{"long-means-true", func(v view, pool []view) [][]string {
		var ls []int
		for _, p := range pool {
			ls = append(ls, utf8.RuneCountInString(p.prompt))
		}
		return tf(float64(utf8.RuneCountInString(v.prompt)) > median(ls))
	}},
	{"short-means-true", func(v view, pool []view) [][]string {
		var ls []int
		for _, p := range pool {
			ls = append(ls, utf8.RuneCountInString(p.prompt))
		}
		return tf(float64(utf8.RuneCountInString(v.prompt)) <= median(ls))
	}},
}

// Guess is a guesser's chance on one quiz in one language.
type Guess struct {
	Lang     string
	Strategy string  // "single:… multiple:… truefalse:…"
	Pass     float64 // chance to pass a first attempt, exact over all draws
	// Right is, per question id, the chance the strategy answers it right
	// (filled for the best strategy only).
	Right map[string]float64
	rules [3]int
}

// GivenAway lists, sorted, the questions the strategy answers right at
// least half the time: the ones whose form gives their key away.
func (g Guess) GivenAway() []string {
	var ids []string
	for id, p := range g.Right {
		if p >= 0.5 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// rightChance is the chance that a rule's answer to q is graded right.
func rightChance(q *Question, answers [][]string) float64 {
	if len(answers) == 0 {
		return 0
	}
	n := 0
	for _, a := range answers {
		if sameSet(a, q.Answer) {
			n++
		}
	}
	return float64(n) / float64(len(answers))
}

// Guesses returns, for lang, every strategy the guesser has (a rule for
// each question type, in every combination) with its exact chance of
// passing a first attempt (the whole pool is drawn from), best first.
func (q *Quiz) Guesses(lang string) []Guess {
	var views []view
	var tfs []view
	for i := range q.Questions {
		v := newView(&q.Questions[i], lang)
		views = append(views, v)
		if v.q.Type == TrueFalse {
			tfs = append(tfs, v)
		}
	}
	rulesFor := func(t string) []rule {
		switch t {
		case Single:
			return singleRules
		case Multiple:
			return multipleRules
		}
		return trueFalseRules
	}
	// chance[type][rule][question index]
	chance := map[string][][]float64{}
	for _, t := range []string{Single, Multiple, TrueFalse} {
		rs := rulesFor(t)
		chance[t] = make([][]float64, len(rs))
		for r, ru := range rs {
			chance[t][r] = make([]float64, len(views))
			for i, v := range views {
				if v.q.Type == t {
					chance[t][r][i] = rightChance(v.q, ru.answer(v, tfs))
				}
			}
		}
	}
	answer := func(s, m, f int) []float64 {
		p := make([]float64, len(views))
		for i, v := range views {
			switch v.q.Type {
			case Single:
				p[i] = chance[Single][s][i]
			case Multiple:
				p[i] = chance[Multiple][m][i]
			default:
				p[i] = chance[TrueFalse][f][i]
			}
		}
		return p
	}
	var out []Guess
	for s := range singleRules {
		for m := range multipleRules {
			for f := range trueFalseRules {
				out = append(out, Guess{
					Lang: lang,
					Strategy: fmt.Sprintf("single:%s multiple:%s truefalse:%s",
						singleRules[s].name, multipleRules[m].name, trueFalseRules[f].name),
					Pass:  PassChance(answer(s, m, f), q.PerAttempt, q.PassMark),
					rules: [3]int{s, m, f},
				})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Guess) int {
		switch {
		case a.Pass > b.Pass:
			return -1
		case a.Pass < b.Pass:
			return 1
		}
		return 0
	})
	// The best strategy says which questions give it away.
	if len(out) > 0 {
		r := out[0].rules
		out[0].Right = map[string]float64{}
		for i, p := range answer(r[0], r[1], r[2]) {
			out[0].Right[views[i].q.ID] = p
		}
	}
	return out
}

// needed is how many of n drawn questions must be right to pass, as Grade
// scores (whole percent, rounded down).
func needed(n, passMark int) int {
	for r := 0; r <= n; r++ {
		if r*100/n >= passMark {
			return r
		}
	}
	return n + 1
}

// PassChance is the exact chance of passing an attempt that draws n of the
// questions, every set of n equally likely as Draw makes them, when
// question i is answered right with chance p[i] independently. It sums over
// all draws by dynamic programming: f[j][r] adds up, over every set of j
// of the questions seen so far, the chance that exactly r are right.
func PassChance(p []float64, n, passMark int) float64 {
	n = min(n, len(p))
	if n < 1 {
		return 0
	}
	f := make([][]float64, n+1)
	for j := range f {
		f[j] = make([]float64, n+1)
	}
	f[0][0] = 1
	for _, pi := range p {
		for j := n - 1; j >= 0; j-- {
			for r := j; r >= 0; r-- {
				if f[j][r] == 0 {
					continue
				}
				f[j+1][r+1] += f[j][r] * pi
				f[j+1][r] += f[j][r] * (1 - pi)
			}
		}
	}
	need := needed(n, passMark)
	pass := 0.0
	for r := need; r <= n; r++ {
		pass += f[n][r]
	}
	return pass / binomial(len(p), n)
}

func binomial(n, k int) float64 {
	b := 1.0
	for i := 1; i <= k; i++ {
		b = b * float64(n-k+i) / float64(i)
	}
	return b
}

// GuessWarnings returns, per language, the best form-only guesser when it
// passes a first attempt more often than GuessLimit. Import and the editor
// show them to HR; they do not refuse the quiz.
func (q *Quiz) GuessWarnings() []Guess {
	var out []Guess
	for _, lang := range model.Languages {
		if g := q.Guesses(lang); len(g) > 0 && g[0].Pass > GuessLimit {
			out = append(out, g[0])
		}
	}
	return out
}
