package storage_test

import (
	"context"
	"fmt"
	"testing"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestLessonReadCopiesOne: a lesson read from the kept list copies that
// lesson, not the whole list (a lesson page read it so), and the copy and
// the list a reader gets are its own: changing them changes no later read.
func TestLessonReadCopiesOne(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	for i := range 6 {
		l := &model.Lesson{Slug: fmt.Sprintf("l%d", i), Order: i, Current: 1, Titles: map[string]string{"en": "T"}}
		if err := k.Store.PublishLesson(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	list, err := k.Store.Lessons(ctx)
	if err != nil || len(list) != 6 {
		t.Fatalf("lessons: %d, %v", len(list), err)
	}
	l, err := k.Store.Lesson(ctx, "l3")
	if err != nil || l.Slug != "l3" || l.Order != 3 {
		t.Fatalf("lesson l3: %+v, %v", l, err)
	}
	l.Current, list[3].Current, list[0].Slug = 9, 9, "changed"
	if again, err := k.Store.Lesson(ctx, "l3"); err != nil || again.Current != 1 {
		t.Fatalf("after the reader changed its copy: %+v, %v", again, err)
	}
	if again, err := k.Store.Lessons(ctx); err != nil || again[3].Current != 1 || again[0].Slug != "l0" {
		t.Fatalf("after the reader changed its list: %+v, %v", again, err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := k.Store.Lesson(ctx, "l5"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("a lesson read allocates %.0f times, want 1 (the lesson's copy)", allocs)
	}
}
