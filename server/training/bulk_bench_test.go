package training_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// BenchmarkBulk10k measures a bulk action on a department of 2,000 in a
// company of 10,000 on the embedded database, as the server runs it (the
// in-memory directory, batched writes):
//
//	go test -run '^$' -bench Bulk10k -benchtime 5x ./server/training/
func BenchmarkBulk10k(b *testing.B) {
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "bench password here"})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	users := make([]model.User, 0, 10_000)
	for i := range 10_000 {
		users = append(users, model.User{ID: model.NewID(), Login: fmt.Sprintf("u%05d", i), Name: fmt.Sprintf("员工%05d", i),
			Roles: []string{model.RoleEmployee}, Department: fmt.Sprintf("部门%d", i%5), Active: true, Hired: now, Created: now})
	}
	for i := 0; i < len(users); i += 1000 {
		if err := p.Store.ImportUsers(ctx, users[i:i+1000]); err != nil {
			b.Fatal(err)
		}
	}
	exempt := training.BulkRequest{Lesson: "grooming", Kind: training.BulkExempt, Department: "部门0", Reason: "基准测试"}
	extend := training.BulkRequest{Lesson: "grooming", Kind: training.BulkExtend, Department: "部门1", Days: 7, Reason: "基准测试"}
	b.Run("preview-exempt", func(b *testing.B) {
		for b.Loop() {
			if plan, err := p.Training.PlanBulk(ctx, hr, exempt); err != nil || len(plan.Affected) != 2000 {
				b.Fatal(plan, err)
			}
		}
	})
	b.Run("preview-extend", func(b *testing.B) {
		for b.Loop() {
			if plan, err := p.Training.PlanBulk(ctx, hr, extend); err != nil || len(plan.Affected) != 2000 {
				b.Fatal(plan, err)
			}
		}
	})
	b.Run("undo", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			a, _, err := p.Training.ApplyBulk(ctx, hr, exempt, "")
			if err != nil || a.Count != 2000 {
				b.Fatal(a, err)
			}
			b.StartTimer()
			// The timer covers the undo alone; apply-and-undo below both.
			if _, err := p.Training.UndoBulk(ctx, hr, a.ID, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("apply-and-undo", func(b *testing.B) {
		for b.Loop() {
			a, _, err := p.Training.ApplyBulk(ctx, hr, exempt, "")
			if err != nil || a.Count != 2000 {
				b.Fatal(a, err)
			}
			if _, err := p.Training.UndoBulk(ctx, hr, a.ID, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
