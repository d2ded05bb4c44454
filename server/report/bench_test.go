package report_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/testkit"
)

// Benchmarks of the report views on 10,000 employees in 50 departments
// (REPORT_BENCH_PEOPLE=100000 for the large run), teams of 30, six
// lessons, mixed progress. Run with make bench-reports; they report p50
// and p99 per view.

const benchDepartments = 50

var benchPeople = func() int {
	if n, err := strconv.Atoi(os.Getenv("REPORT_BENCH_PEOPLE")); err == nil && n > 0 {
		return n
	}
	return 10000
}()

func seed(b *testing.B) (*testkit.Portal, []model.Lesson) {
	b.Helper()
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	lessons, err := p.Store.Lessons(ctx)
	if err != nil || len(lessons) != 6 {
		b.Fatalf("lessons: %d %v", len(lessons), err)
	}
	now := time.Now().UTC()
	var users []model.User
	var progs []model.Progress
	// Managers: one per department manages it; teams of 30 under them.
	for i := 0; i < benchPeople; i++ {
		dept := fmt.Sprintf("dept-%02d", i%benchDepartments)
		u := model.User{
			ID: model.NewID(), Login: fmt.Sprintf("user%05d", i), Name: fmt.Sprintf("员工%05d", i),
			Roles: []string{model.RoleEmployee}, Department: dept, Active: true,
			Manager: fmt.Sprintf("mgr%03d", i/30), Hired: now.AddDate(0, 0, -(i % 120)), Created: now,
		}
		users = append(users, u)
		lp := map[string]model.LessonProgress{}
		for j, l := range lessons {
			switch (i + j) % 5 {
			case 0, 1:
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, AckVersion: 1, Attempts: 1,
					Acknowledged: now.AddDate(0, 0, -(i % 60))}
			case 2:
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, Attempts: 2}
			case 3:
				lp[l.Slug] = model.LessonProgress{ReadVersion: 1}
			}
		}
		progs = append(progs, model.Progress{UserID: u.ID, Lessons: lp, Updated: now})
	}
	for m := 0; m <= benchPeople/30; m++ {
		users = append(users, model.User{ID: model.NewID(), Login: fmt.Sprintf("mgr%03d", m), Name: fmt.Sprintf("经理%03d", m),
			Roles: []string{model.RoleManager}, Department: fmt.Sprintf("dept-%02d", m%benchDepartments), Active: true, Created: now})
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
	return p, lessons
}

// measure runs f b.N times and reports the 50th and 99th percentile.
func measure(b *testing.B, f func()) {
	b.Helper()
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		f()
		times = append(times, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(times)
	pick := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))].Microseconds()) / 1000
	}
	b.ReportMetric(pick(0.50), "p50-ms")
	b.ReportMetric(pick(0.99), "p99-ms")
}

func BenchmarkReports(b *testing.B) {
	p, _ := seed(b)
	ctx := context.Background()
	svc := report.New(p.Store, nil, nil)
	b.Run("cold-load", func(b *testing.B) {
		// The first report after start loads the directory and everyone's
		// progress once (the server warms this in the background).
		measure(b, func() {
			fresh := report.New(p.Store, nil, nil)
			p.Store.SetSoleWriter()
			if err := fresh.Warm(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
	p.Store.SetSoleWriter()
	if err := svc.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("team-30", func(b *testing.B) {
		measure(b, func() {
			t, err := svc.Team(ctx, report.Scope{Manager: "mgr007"}, report.Filter{})
			if err != nil || len(t.Rows) != 30 {
				b.Fatalf("team: %v rows %v", len(t.Rows), err)
			}
		})
	})
	b.Run("team-30-overdue-filter", func(b *testing.B) {
		measure(b, func() {
			if _, err := svc.Team(ctx, report.Scope{Manager: "mgr007"}, report.Filter{Overdue: true, Sort: "percent"}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("department-200", func(b *testing.B) {
		measure(b, func() {
			t, err := svc.Team(ctx, report.Scope{Department: "dept-07"}, report.Filter{})
			if err != nil || len(t.Rows) < 200 {
				b.Fatalf("department: %d rows %v", len(t.Rows), err)
			}
		})
	})
	b.Run("organisation", func(b *testing.B) {
		// Nothing changed between views: the kept one is shared.
		measure(b, func() {
			o, err := svc.Organisation(ctx, "zh-CN")
			if err != nil || len(o.Departments) < benchDepartments {
				b.Fatalf("organisation: %d departments %v", len(o.Departments), err)
			}
		})
	})
	b.Run("organisation-after-a-write", func(b *testing.B) {
		// One person read a lesson before each view: computed again.
		users, err := p.Store.UserDirectory(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var ms runtime.MemStats
		peak := uint64(0)
		i := 0
		measure(b, func() {
			i++
			if err := p.Store.UpdateLessonProgress(ctx, users[i%len(users)].ID, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
				b.Fatal(err)
			}
			o, err := svc.Organisation(ctx, "zh-CN")
			if err != nil || len(o.Departments) < benchDepartments {
				b.Fatalf("organisation: %d departments %v", len(o.Departments), err)
			}
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		})
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	})
}
