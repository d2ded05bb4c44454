package report_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	portal "conductportal"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// TestOrganisationKeptUntilSomethingChanges: the organisation view is
// computed once and shared while nothing it depends on changed, and each
// of those changes shows in the next view: a progress write, a user's
// move, a publish, and time passing a due date with no write at all.
// orgFixture is a store with the shipped lessons and three employees
// (two in sales, one in the kitchen) hired before them, the clock an hour
// before the first lesson falls due.
type orgFixture struct {
	k     *testkit.Kit
	first model.Lesson
	users []model.User
}

func newOrgFixture(t *testing.T) *orgFixture {
	t.Helper()
	k := testkit.Store(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr := training.New(k.Store, lesson.NewRenderer(), log, k.Clock.Now)
	b, probs := training.LoadBundle(portal.Assets)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := tr.Import(ctx, b, model.ChangeReack, "test", 14); err != nil {
		t.Fatal(err)
	}
	lessons, err := k.Store.Lessons(ctx)
	if err != nil || len(lessons) == 0 {
		t.Fatalf("lessons: %d %v", len(lessons), err)
	}
	first := lessons[0]
	// Hired before the lessons appeared, so the first falls due DueDays
	// after it did: the clock goes to an hour before that.
	hired := first.Since.AddDate(-1, 0, 0)
	k.Clock.Set(first.Since.AddDate(0, 0, first.DueDays).Add(-time.Hour))
	var users []model.User
	for i, dept := range []string{"sales", "sales", "kitchen"} {
		users = append(users, model.User{ID: model.NewID(), Login: "p" + string(rune('a'+i)), Name: "P",
			Roles: []string{model.RoleEmployee}, Department: dept, Active: true, Hired: hired, Created: hired})
	}
	if err := k.Store.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	return &orgFixture{k: k, first: first, users: users}
}

// sign records user i's signature of the first lesson.
func (f *orgFixture) sign(t *testing.T, i int) {
	t.Helper()
	if err := f.k.Store.UpdateLessonProgress(context.Background(), f.users[i].ID, f.first.Slug, model.ProgressUpdate{
		ReadVersion: f.first.Current, PassVersion: f.first.Current, AckVersion: f.first.Current, Acknowledged: f.k.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
}

// TestOrganisationKeptUntilSomethingChanges: the organisation view is
// computed once and shared while nothing it depends on changed, and each
// of those changes shows in the next view: a progress write, a user's
// move, a publish, and time passing a due date with no write at all.
func TestOrganisationKeptUntilSomethingChanges(t *testing.T) {
	f := newOrgFixture(t)
	k, first, users := f.k, f.first, f.users
	ctx := context.Background()
	svc := report.New(k.Store, nil, k.Clock.Now)
	view := func() *report.Organisation {
		t.Helper()
		o, err := svc.Organisation(ctx, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	lessonRow := func(o *report.Organisation) report.OrgRow {
		for _, r := range o.ByLesson {
			if r.Key == first.Slug {
				return r
			}
		}
		t.Fatalf("no row for %s", first.Slug)
		return report.OrgRow{}
	}

	o1 := view()
	if o1.All.People != 3 || lessonRow(o1).Overdue != 0 || lessonRow(o1).Done != 0 {
		t.Fatalf("first view: %+v, %s %+v", o1.All, first.Slug, lessonRow(o1))
	}
	k.Clock.Add(time.Minute / 2)
	if o2 := view(); o2 != o1 {
		t.Fatal("nothing changed, yet the view was computed again")
	}

	// A signature: done at once, without waiting for any time to pass.
	f.sign(t, 0)
	o3 := view()
	if o3 == o1 || lessonRow(o3).Done != 1 {
		t.Fatalf("after a signature: %s %+v", first.Slug, lessonRow(o3))
	}

	// A move to another department shows in the departments.
	moved := users[2]
	moved.Department = "sales"
	if err := k.Store.UpdateUser(ctx, &moved); err != nil {
		t.Fatal(err)
	}
	o4 := view()
	if len(o4.Departments) != 1 || o4.Departments[0].Key != "sales" || o4.Departments[0].People != 3 {
		t.Fatalf("after the move: %+v", o4.Departments)
	}

	// Time alone: from 20 s before the due date to 10 s after it (within
	// orgMaxAge), the two who have not signed become overdue.
	due := first.Since.AddDate(0, 0, first.DueDays)
	k.Clock.Set(due.Add(-20 * time.Second))
	if o := view(); lessonRow(o).Overdue != 0 {
		t.Fatalf("before the due date: %s %+v", first.Slug, lessonRow(o))
	}
	k.Clock.Add(30 * time.Second)
	o5 := view()
	if o5 == o4 || lessonRow(o5).Overdue != 2 || o5.All.OverduePeople != 2 {
		t.Fatalf("after the due date: %s %+v, all %+v", first.Slug, lessonRow(o5), o5.All)
	}
	k.Clock.Add(time.Second)
	if o6 := view(); o6 != o5 {
		t.Fatal("nothing changed since the due date, yet the view was computed again")
	}

	// Another language gets its own order of the same figures.
	if en, err := svc.Organisation(ctx, "en"); err != nil || en.All != o5.All {
		t.Fatalf("in English: %+v %v", en, err)
	}
}
