package report

import (
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/training"
)

// A week counts only the lessons already asked of someone: after their
// hire, their account's creation and the lesson's first publication.
func TestWeeksCountFromFirstAssignment(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.Local) // a Wednesday
	lessons := []model.Lesson{{Slug: "dress", Since: now.AddDate(-1, 0, 0)}}
	// Hired two years ago, but the portal has known them for ten days.
	u := &model.User{ID: "u1", Hired: now.AddDate(-2, 0, 0), Created: now.AddDate(0, 0, -10)}
	rows := []Row{{Cells: []Cell{{Slug: "dress", Assigned: true, Code: training.StatusDone}}}}
	prog := map[string]model.Progress{"u1": {Lessons: map[string]model.LessonProgress{
		"dress": {AckVersion: 1, Acknowledged: now.AddDate(0, 0, -1)}}}}
	ws := weeks(rows, lessons, []*model.User{u}, prog, now)
	if len(ws) != chartWeeks {
		t.Fatalf("%d weeks", len(ws))
	}
	var known []WeekPoint
	for _, w := range ws {
		if w.Known {
			known = append(known, w)
		}
	}
	// Created on Sunday 22 Nov: the weeks ending 23 Nov, 30 Nov and now.
	if len(known) != 3 || !ws[chartWeeks-4].End.Before(u.Created) {
		t.Fatalf("known weeks %+v", known)
	}
	if known[0].Percent != 0 || known[2].Percent != 100 {
		t.Errorf("completion %d%% then %d%%, want 0%% then 100%%", known[0].Percent, known[2].Percent)
	}
	// A lesson first published yesterday was asked of nobody before.
	lessons[0].Since = now.AddDate(0, 0, -1)
	for _, w := range weeks(rows, lessons, []*model.User{u}, prog, now)[:chartWeeks-1] {
		if w.Known {
			t.Errorf("week ending %v counts a lesson published on %v", w.End, lessons[0].Since)
		}
	}
}
