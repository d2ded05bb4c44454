package authoring_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// BenchmarkAnalytics100k measures HR's item statistics of one lesson with
// 100,000 graded attempts (5 each by 20,000 people) on the embedded
// database: the page's read (the projection, one read by _id per question,
// and the people's progress from the reports' memory), the streaming
// rebuild of the projection, and, for comparison, reading the attempts
// themselves as analytics did before (BENCH_ATTEMPTS sets the number).
//
//	go test -run '^$' -bench Analytics100k -benchtime 20x -timeout 30m ./server/authoring/
func BenchmarkAnalytics100k(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ATTEMPTS")); err == nil && v > 0 {
		n = v
	}
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	q, err := p.Training.Quiz(ctx, "dress", 1)
	if err != nil {
		b.Fatal(err)
	}
	people := n / 5
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	users := make([]model.User, people)
	progs := make([]model.Progress, people)
	for i := range users {
		users[i] = model.User{ID: model.NewID(), Login: fmt.Sprintf("user%06d", i), Name: fmt.Sprintf("员工%06d", i),
			Roles: []string{model.RoleEmployee}, Active: true, Created: now}
		progs[i] = model.Progress{UserID: users[i].ID, Lessons: map[string]model.LessonProgress{}, Updated: now}
	}
	start := time.Now()
	var batch []model.Attempt
	for i := 0; i < n; i++ {
		u := i % people
		ability := float64(u) / float64(people)
		drawn := q.Draw(q.IDs(nil), q.PerAttempt, r)
		answers := map[string][]string{}
		for _, d := range drawn {
			qq, _ := q.Question(d.ID)
			if r.Float64() < 0.4+0.6*ability {
				answers[d.ID] = qq.Answer
			} else {
				answers[d.ID] = []string{d.Options[r.IntN(len(d.Options))]}
			}
		}
		a := model.Attempt{ID: model.NewID(), UserID: users[u].ID, Lesson: "dress", Version: 1, Lang: model.LangZH,
			Questions: drawn, Started: now, PassMark: q.PassMark, At: now}
		a.Answers, a.Score = q.Grade(drawn, answers)
		a.Passed = a.Score >= q.PassMark
		lp := progs[u].Lessons["dress"]
		lp.Attempts++
		if a.Passed {
			lp.PassVersion = 1
		} else {
			if lp.Fails == nil {
				lp.Fails = map[string]int{}
			}
			lp.Fails[model.FailKey(1)]++
		}
		progs[u].Lessons["dress"] = lp
		batch = append(batch, a)
		if len(batch) == 1000 || i == n-1 {
			if err := p.Store.ImportAttempts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for chunk := range slices.Chunk(users, 1000) {
		if err := p.Store.ImportUsers(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	for chunk := range slices.Chunk(progs, 1000) {
		if err := p.Store.ImportProgress(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d attempts by %d people in %s", n, people, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	tally, err := p.Authoring.RebuildItemStats(ctx, "dress")
	if err != nil || tally.Attempts != n {
		b.Fatalf("rebuild: %+v %v", tally, err)
	}
	rebuild := time.Since(start)
	b.Logf("rebuilt the item statistics from %d attempts in one streaming pass: %s", n, rebuild.Round(time.Millisecond))

	if os.Getenv("BENCH_SCAN") != "" {
		start = time.Now()
		all, err := p.Store.LessonAttempts(ctx, "dress")
		if err != nil || len(all) != n {
			b.Fatalf("scan: %d %v", len(all), err)
		}
		b.Logf("before: reading the %d attempts with their results took %s", n, time.Since(start).Round(time.Millisecond))
	}

	if _, err := p.Authoring.Analytics(ctx, "dress", model.LangZH); err != nil { // warms the progress cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := p.Authoring.Analytics(ctx, "dress", model.LangZH)
		if err != nil || a.Attempts != n || len(a.Questions) != len(q.Questions) {
			b.Fatalf("analytics: %v", err)
		}
	}
	b.StopTimer()
	b.ReportMetric(rebuild.Seconds(), "rebuild-s")
}
