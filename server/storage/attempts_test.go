package storage_test

import (
	"context"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// A sole writer's attempts read from memory agree with the database: drawn
// and not graded, then graded by the first submit only, whose result every
// later read (and a second storage on the same database) sees.
func TestAttemptReadsAfterGrading(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	a := &model.Attempt{ID: model.NewID(), UserID: "u1", Lesson: "dress", Version: 1, Lang: model.LangZH,
		Questions: []model.AttemptQuestion{{ID: "q1"}}, Started: testkit.Epoch, PassMark: 80}
	if err := k.Store.CreateAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := k.Store.Attempt(ctx, a.ID)
	if err != nil || got.Submitted || got.UserID != "u1" || len(got.Questions) != 1 {
		t.Fatalf("a drawn attempt: %+v %v", got, err)
	}
	first := *a
	first.Score, first.Passed, first.At = 100, true, testkit.Epoch.Add(time.Minute)
	if won, err := k.Store.SubmitAttempt(ctx, &first); err != nil || !won {
		t.Fatalf("the first submit: %v %v", won, err)
	}
	second := *a
	second.Score, second.At = 0, testkit.Epoch.Add(2*time.Minute)
	if won, err := k.Store.SubmitAttempt(ctx, &second); err != nil || won {
		t.Fatalf("the second submit: %v %v, want not stored", won, err)
	}
	fresh := storage.New(k.DB.Database) // no memory: the database's own answer
	for name, s := range map[string]*storage.Storage{"this storage": k.Store, "the database": fresh} {
		got, err := s.Attempt(ctx, a.ID)
		if err != nil || !got.Submitted || got.Score != 100 || !got.Passed || !got.At.Equal(first.At) {
			t.Fatalf("%s after two submits: %+v %v, want the first's result", name, got, err)
		}
	}
}
