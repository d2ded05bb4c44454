package authoring

import (
	"context"
	"sort"

	"conductportal/server/model"
)

// QuestionStat is how one question fared.
type QuestionStat struct {
	ID       string
	Clause   string
	Prompt   string
	Asked    int
	Missed   int
	MissRate int // percent
}

// ClauseStat sums the questions on one clause.
type ClauseStat struct {
	ID       string
	Title    string
	Asked    int
	Missed   int
	MissRate int // percent
}

// Analytics shows HR which rules people misunderstand: miss rates per
// question and per clause, and how many attempts people need to pass.
type Analytics struct {
	Lesson    *model.Lesson
	Attempts  int // submitted attempts, every version
	People    int // people who submitted at least one
	Passed    int // of those, who passed
	AvgToPass float64
	Questions []QuestionStat // most missed first
	Clauses   []ClauseStat   // most missed first
}

func rate(missed, asked int) int {
	if asked == 0 {
		return 0
	}
	return missed * 100 / asked
}

// Analytics counts every graded answer to a lesson's questions. Question
// texts and clause titles are those of the current version in lang.
func (s *Service) Analytics(ctx context.Context, slug, lang string) (*Analytics, error) {
	l, err := s.lessonOf(ctx, slug)
	if err != nil {
		return nil, err
	}
	attempts, err := s.store.LessonAttempts(ctx, slug)
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
	text, _ := v.Text(lang)
	out := &Analytics{Lesson: l, Attempts: len(attempts)}
	byQ := map[string]*QuestionStat{}
	tries := map[string]int{}    // attempts so far per person
	passedAt := map[string]int{} // attempts a person needed for their first pass
	for _, a := range attempts {
		tries[a.UserID]++
		if a.Passed {
			if _, ok := passedAt[a.UserID]; !ok {
				passedAt[a.UserID] = tries[a.UserID]
			}
		}
		for _, ans := range a.Answers {
			st := byQ[ans.ID]
			if st == nil {
				st = &QuestionStat{ID: ans.ID}
				if qq, ok := q.Question(ans.ID); ok {
					st.Clause, st.Prompt = qq.Clause, qq.Prompt.In(lang)
				}
				byQ[ans.ID] = st
			}
			st.Asked++
			if !ans.Correct {
				st.Missed++
			}
		}
	}
	out.People, out.Passed = len(tries), len(passedAt)
	total := 0
	for _, n := range passedAt {
		total += n
	}
	if len(passedAt) > 0 {
		out.AvgToPass = float64(total) / float64(len(passedAt))
	}
	titles := map[string]string{}
	for _, c := range text.Clauses {
		titles[c.ID] = c.Title
	}
	byC := map[string]*ClauseStat{}
	for _, st := range byQ {
		st.MissRate = rate(st.Missed, st.Asked)
		out.Questions = append(out.Questions, *st)
		c := byC[st.Clause]
		if c == nil {
			c = &ClauseStat{ID: st.Clause, Title: titles[st.Clause]}
			byC[st.Clause] = c
		}
		c.Asked += st.Asked
		c.Missed += st.Missed
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
