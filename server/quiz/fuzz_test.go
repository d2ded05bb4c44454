package quiz

import (
	"math/rand/v2"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(pool)
	f.Add("questions: [{id: q, options: [{id: a}]}]")
	f.Add("lesson: x\ndraw: -1\n")
	f.Add("{")
	f.Fuzz(func(t *testing.T, src string) {
		q, probs := Parse("q.yaml", []byte(src), []string{"a", "b"})
		if (q == nil) == (len(probs) == 0) {
			t.Fatalf("Parse must return a quiz or problems: %v %v", q, probs)
		}
		if q != nil {
			drawn := q.Draw(q.IDs(nil), q.PerAttempt, rand.New(rand.NewPCG(1, 1)))
			if _, score := q.Grade(drawn, nil); score != 0 {
				t.Fatalf("no answers scored %d", score)
			}
		}
	})
}

// FuzzGrade: any answers a client sends grade without panicking, between
// 0 and 100, and only options that were shown count.
func FuzzGrade(f *testing.F) {
	f.Add("q1", "a", "q2", "c")
	f.Add("", "", "q3", "true")
	f.Add("q1", "zz", "$ne", "{}")
	q, probs := Parse("q.yaml", []byte(pool), nil)
	if q == nil {
		f.Fatal(probs)
	}
	drawn := q.Draw(q.IDs(nil), 3, rand.New(rand.NewPCG(5, 6)))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		graded, score := q.Grade(drawn, map[string][]string{k1: {v1, v2}, k2: {v2}})
		if score < 0 || score > 100 || len(graded) != len(drawn) {
			t.Fatalf("score %d, %d graded", score, len(graded))
		}
		for i, g := range graded {
			for _, c := range g.Chosen {
				if !contains(drawn[i].Options, c) {
					t.Fatalf("option %q was not shown but counted", c)
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
