package authoring

import (
	"context"
	"math"
	"slices"
	"sort"

	"conductportal/server/model"
	"conductportal/server/quiz"
)

// Item statistics, as Moodle's quiz statistics report has them. The
// discrimination index is the point-biserial correlation of the item
// (right or wrong) with the rest of the attempt (the share right of its
// other questions), not the top against the bottom 27 %: it uses every
// attempt rather than half of them, leaves the item's own score out (so a
// draw of 6 does not inflate it), and is computed from running sums, so
// it is kept up to date as attempts are graded (storage/item_stats.go)
// instead of ranking every attempt at each view.
const (
	// FlagMinAnswers is how many answers an item needs before it is
	// flagged: fewer say little about it.
	FlagMinAnswers = 30
	// EasyFacility is the facility (percent right) above which an item
	// is flagged as one everyone gets right.
	EasyFacility = 95
	// MinDiscrimination is the index below which an item is flagged as
	// one that learners who do well elsewhere miss as often as the rest.
	MinDiscrimination = 0.2
)

// OptionStat is how often one option was chosen (distractor analysis).
type OptionStat struct {
	ID     string
	Text   string
	Keyed  bool // a right option
	Chosen int
	Share  int // percent of the question's answers
}

// QuestionStat is how one question fared.
type QuestionStat struct {
	ID       string
	Clause   string
	Prompt   string
	Asked    int
	Missed   int
	MissRate int // percent
	// Facility is the percent of answers that were right.
	Facility int
	// Discrimination is the point-biserial index (-1 to 1); HasDiscrimination
	// is false when it is undefined (everyone right, say, or no other question).
	Discrimination    float64
	HasDiscrimination bool
	Options           []OptionStat // in the pool's order
	Blank             int          // answers with nothing chosen
	// Flags, set once the item has FlagMinAnswers answers.
	Flagged bool // enough answers to judge
	Easy    bool // facility above EasyFacility
	Weak    bool // discrimination below MinDiscrimination
}

// ClauseStat sums the questions on one clause.
type ClauseStat struct {
	ID       string
	Title    string
	Asked    int
	Missed   int
	MissRate int // percent
}

// Analytics shows HR which rules people misunderstand and which questions
// do not measure it: item statistics of the current pool, miss rates per
// clause, and how many attempts people need to pass.
type Analytics struct {
	Lesson    *model.Lesson
	Attempts  int // graded attempts, every version
	People    int // people who submitted at least one
	Passed    int // of those, who passed
	AvgToPass float64
	Questions []QuestionStat // most missed first
	Clauses   []ClauseStat   // most missed first
	// MinAnswers, EasyFacility and MinDiscrimination are the flags' thresholds.
	MinAnswers        int
	EasyFacility      int
	MinDiscrimination float64
}

func rate(missed, asked int) int {
	if asked == 0 {
		return 0
	}
	return missed * 100 / asked
}

// Discrimination is the point-biserial correlation of item and rest
// score from the running sums; ok is false when either does not vary.
func Discrimination(st model.ItemStat) (r float64, ok bool) {
	n, x, y := float64(st.ND), float64(st.RD), st.SY
	den := (n*x - x*x) * (n*st.SYY - y*y)
	if st.ND < 2 || den <= 1e-12 {
		return 0, false
	}
	return (n*st.SXY - x*y) / math.Sqrt(den), true
}

// itemStat derives a question's statistics from its sums.
func itemStat(qq *quiz.Question, st model.ItemStat, lang string) QuestionStat {
	out := QuestionStat{ID: qq.ID, Clause: qq.Clause, Prompt: qq.Prompt.In(lang), Asked: st.N, Missed: st.N - st.Right,
		MissRate: rate(st.N-st.Right, st.N), Facility: rate(st.Right, st.N), Blank: st.Blank}
	out.Discrimination, out.HasDiscrimination = Discrimination(st)
	for _, o := range qq.Options {
		out.Options = append(out.Options, OptionStat{ID: o.ID, Text: o.Text.In(lang), Keyed: slices.Contains(qq.Answer, o.ID),
			Chosen: st.Chosen[o.ID], Share: rate(st.Chosen[o.ID], st.N)})
	}
	if st.N >= FlagMinAnswers {
		out.Flagged = true
		out.Easy = st.Right*100 > EasyFacility*st.N
		out.Weak = out.HasDiscrimination && out.Discrimination < MinDiscrimination
	}
	return out
}

// Analytics reads the item statistics of the current pool (one read by
// _id per question) and the people's progress (in memory for reports):
// its cost does not grow with the number of attempts. Question texts and
// clause titles are those of the current version in lang.
func (s *Service) Analytics(ctx context.Context, slug, lang string) (*Analytics, error) {
	l, err := s.lessonOf(ctx, slug)
	if err != nil {
		return nil, err
	}
	q, err := s.training.Quiz(ctx, slug, l.Current)
	if err != nil {
		return nil, err
	}
	v, err := s.training.Version(ctx, slug, l.Current)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(q.Questions))
	for i := range q.Questions {
		keys[i] = quiz.ItemKey(slug, &q.Questions[i])
	}
	stats, err := s.store.ItemStats(ctx, keys)
	if err != nil {
		return nil, err
	}
	tally, err := s.store.LessonTally(ctx, slug)
	if err != nil {
		return nil, err
	}
	out := &Analytics{Lesson: l, Attempts: tally.Attempts, MinAnswers: FlagMinAnswers, EasyFacility: EasyFacility, MinDiscrimination: MinDiscrimination}
	if err := s.people(ctx, slug, out); err != nil {
		return nil, err
	}
	text, _ := v.Text(lang)
	titles := map[string]string{}
	for _, c := range text.Clauses {
		titles[c.ID] = c.Title
	}
	byC := map[string]*ClauseStat{}
	for i := range q.Questions {
		qq := &q.Questions[i]
		st, ok := stats[keys[i]]
		if !ok || st.N == 0 {
			continue
		}
		qs := itemStat(qq, st, lang)
		out.Questions = append(out.Questions, qs)
		c := byC[qs.Clause]
		if c == nil {
			c = &ClauseStat{ID: qs.Clause, Title: titles[qs.Clause]}
			byC[qs.Clause] = c
		}
		c.Asked += qs.Asked
		c.Missed += qs.Missed
	}
	for _, c := range byC {
		c.MissRate = rate(c.Missed, c.Asked)
		out.Clauses = append(out.Clauses, *c)
	}
	sort.Slice(out.Questions, func(i, j int) bool {
		a, b := out.Questions[i], out.Questions[j]
		if a.MissRate != b.MissRate {
			return a.MissRate > b.MissRate
		}
		return a.ID < b.ID
	})
	sort.Slice(out.Clauses, func(i, j int) bool {
		a, b := out.Clauses[i], out.Clauses[j]
		if a.MissRate != b.MissRate {
			return a.MissRate > b.MissRate
		}
		return a.ID < b.ID
	})
	return out, nil
}

// people counts from everyone's progress who took the quiz, who passed,
// and the attempts they needed: the failures at the versions up to the
// one passed, plus the pass.
func (s *Service) people(ctx context.Context, slug string, out *Analytics) error {
	all, err := s.store.AllProgress(ctx)
	if err != nil {
		return err
	}
	tries := 0
	for _, p := range all {
		lp, ok := p.Lessons[slug]
		if !ok || (lp.PassVersion == 0 && len(lp.Fails) == 0) {
			continue
		}
		out.People++
		if lp.PassVersion == 0 {
			continue
		}
		out.Passed++
		tries++
		for v := 1; v <= lp.PassVersion; v++ {
			tries += lp.Fails[model.FailKey(v)]
		}
	}
	if out.Passed > 0 {
		out.AvgToPass = float64(tries) / float64(out.Passed)
	}
	return nil
}

// RebuildItemStats recomputes a lesson's item statistics from its graded
// attempts in one streaming pass, and stores them in place of the
// projection. Run it while nobody submits that lesson's quiz.
func (s *Service) RebuildItemStats(ctx context.Context, slug string) (model.LessonTally, error) {
	tally := model.LessonTally{Slug: slug}
	byKey := map[string]*model.ItemStat{}
	err := s.store.EachLessonResult(ctx, slug, func(a *model.Attempt) error {
		q, err := s.training.Quiz(ctx, slug, a.Version)
		if err != nil {
			return err
		}
		tally.Attempts++
		if a.Passed {
			tally.Passed++
		}
		for _, t := range q.Tallies(slug, a.Answers) {
			st := byKey[t.Key]
			if st == nil {
				st = &model.ItemStat{ID: t.Key, Lesson: slug}
				byKey[t.Key] = st
			}
			st.Add(t)
		}
		return nil
	})
	if err != nil {
		return tally, err
	}
	stats := make([]model.ItemStat, 0, len(byKey))
	for _, st := range byKey {
		stats = append(stats, *st)
	}
	return tally, s.store.ReplaceItemStats(ctx, tally, stats)
}
