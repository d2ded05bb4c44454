package training_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// BenchmarkSubmit grades passing attempts from 8 goroutines at once on the
// embedded database, as the server does (this process its sole writer):
// the write path of a quiz submit without HTTP. Each op is one submit.
//
//	go test -run '^$' -bench Submit -benchtime 2000x ./server/training/
func BenchmarkSubmit(b *testing.B) {
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	var people []*model.User
	for i := range 200 {
		u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("员工%03d", i),
			Roles: []string{model.RoleEmployee}, Password: "bench password here"})
		if err != nil {
			b.Fatal(err)
		}
		people = append(people, u)
	}
	lessons, err := p.Training.Lessons(ctx)
	if err != nil {
		b.Fatal(err)
	}
	type open struct {
		u       *model.User
		id      string
		answers map[string][]string
	}
	// Attempts to grade: one per (person, lesson), started before the clock.
	attempts := make([]open, 0, b.N)
	for i := 0; len(attempts) < b.N; i++ {
		if i >= len(people)*len(lessons) {
			b.Fatalf("only %d (person, lesson) pairs for %d submits", i, b.N)
		}
		u, l := people[i%len(people)], lessons[i/len(people)]
		a, err := p.Training.StartAttempt(ctx, u, l.Slug, model.LangZH)
		if err != nil {
			b.Fatal(err)
		}
		q, err := p.Training.Quiz(ctx, l.Slug, a.Version)
		if err != nil {
			b.Fatal(err)
		}
		attempts = append(attempts, open{u, a.ID, testkit.Answers(q, a.Questions, true)})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(attempts) {
					return
				}
				a := attempts[i]
				got, _, err := p.Training.Submit(ctx, a.u, a.id, a.answers)
				if err != nil || !got.Passed {
					b.Error(got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}
