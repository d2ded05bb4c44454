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

// TestLessonsReadOnlyLends: the read-only list is the kept one (no copy a
// page), and a publish replaces it rather than changing it under a
// reader that still holds it.
func TestLessonsReadOnlyLends(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	for i := range 3 {
		l := &model.Lesson{Slug: fmt.Sprintf("l%d", i), Order: i, Current: 1, Titles: map[string]string{"en": "T"}}
		if err := k.Store.PublishLesson(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	held, err := k.Store.LessonsReadOnly(ctx)
	if err != nil || len(held) != 3 {
		t.Fatalf("lessons: %d, %v", len(held), err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = k.Store.LessonsReadOnly(ctx) }); allocs != 0 {
		t.Errorf("a read-only read allocates %.0f times, want 0", allocs)
	}
	if err := k.Store.PublishLesson(ctx, &model.Lesson{Slug: "l1", Order: 1, Current: 2, Titles: map[string]string{"en": "T2"}}); err != nil {
		t.Fatal(err)
	}
	now, err := k.Store.LessonsReadOnly(ctx)
	if err != nil || len(now) != 3 || now[1].Current != 2 {
		t.Fatalf("after the publish: %+v, %v", now, err)
	}
	if held[1].Current != 1 || held[1].Titles["en"] != "T" {
		t.Fatalf("the held list changed under its reader: %+v", held[1])
	}
}
