package storage_test

import (
	"context"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestProgressUpdate applies typed updates to one lesson's progress: the
// versions and times only move forward (a late or repeated update does not
// move them back), the counts add, and the repair fields raise the counts
// to at least their value; other lessons are left alone.
func TestProgressUpdate(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	at := k.Clock.Now()
	update := func(slug string, u model.ProgressUpdate) model.LessonProgress {
		t.Helper()
		if err := k.Store.UpdateLessonProgress(ctx, "u1", slug, u); err != nil {
			t.Fatal(err)
		}
		p, err := k.Store.Progress(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		return p.Lessons[slug]
	}
	lp := update("dress", model.ProgressUpdate{ReadVersion: 2, LastAttempt: at, AddAttempts: 1})
	if lp.ReadVersion != 2 || lp.Attempts != 1 || !lp.LastAttempt.Equal(at) {
		t.Fatalf("first update: %+v", lp)
	}
	// A late event: older version and time; its count still adds.
	lp = update("dress", model.ProgressUpdate{ReadVersion: 1, LastAttempt: at.Add(-time.Hour), AddAttempts: 1})
	if lp.ReadVersion != 2 || lp.Attempts != 2 || !lp.LastAttempt.Equal(at) {
		t.Fatalf("a late update moved progress back or did not count: %+v", lp)
	}
	lp = update("dress", model.ProgressUpdate{FailedVersion: 2, LastFailed: at})
	lp = update("dress", model.ProgressUpdate{FailedVersion: 2, LastFailed: at.Add(-time.Minute)})
	if lp.Fails[model.FailKey(2)] != 2 || !lp.LastFailed.Equal(at) {
		t.Fatalf("two failed attempts at version 2: %+v", lp)
	}
	lp = update("dress", model.ProgressUpdate{PassVersion: 2, AckVersion: 2, Acknowledged: at})
	if lp.PassVersion != 2 || lp.AckVersion != 2 || !lp.Acknowledged.Equal(at) {
		t.Fatalf("pass and acknowledgement: %+v", lp)
	}
	// A repair raises counts to at least its value, never lowers them.
	lp = update("dress", model.ProgressUpdate{Attempts: 5, Fails: map[string]int{model.FailKey(2): 1, model.FailKey(3): 4}})
	if lp.Attempts != 5 || lp.Fails[model.FailKey(2)] != 2 || lp.Fails[model.FailKey(3)] != 4 {
		t.Fatalf("repair: %+v", lp)
	}
	// An empty update changes nothing of the lesson's.
	before := lp
	lp = update("dress", model.ProgressUpdate{})
	if lp.Attempts != before.Attempts || lp.ReadVersion != before.ReadVersion || len(lp.Fails) != len(before.Fails) {
		t.Fatalf("an empty update changed %+v to %+v", before, lp)
	}
	if other := update("grooming", model.ProgressUpdate{ReadVersion: 1}); other.ReadVersion != 1 || other.Attempts != 0 {
		t.Fatalf("another lesson: %+v", other)
	}
	if lp := update("dress", model.ProgressUpdate{}); lp.Attempts != 5 {
		t.Fatalf("updating another lesson touched dress: %+v", lp)
	}
	if n := k.LoggedErrors(); n != 0 {
		t.Fatalf("%d errors logged", n)
	}
}

// A sole writer answers a person's progress from memory: before the
// reports' cache is loaded, from its own copy; after, from the reports'
// copy; and after every write, the new state, on both paths.
func TestProgressKept(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	const who = "kept-progress-user"
	read := func(want int, when string) {
		t.Helper()
		p, err := k.Store.Progress(ctx, who)
		if err != nil || p.Lessons["dress"].ReadVersion != want {
			t.Fatalf("%s: %v %+v, want read version %d", when, err, p, want)
		}
		p.Lessons["dress"] = model.LessonProgress{ReadVersion: 99} // a caller's change stays its own
	}
	write := func(v int) {
		t.Helper()
		if err := k.Store.UpdateLessonProgress(ctx, who, "dress", model.ProgressUpdate{ReadVersion: v}); err != nil {
			t.Fatal(err)
		}
	}
	read(0, "none stored")
	write(1)
	read(1, "after a write, before the reports' cache")
	read(1, "kept")
	if _, err := k.Store.AllProgress(ctx); err != nil { // loads the reports' cache
		t.Fatal(err)
	}
	read(1, "from the reports' cache")
	write(2)
	read(2, "after a write, the reports' cache not refreshed")
	if _, err := k.Store.AllProgress(ctx); err != nil {
		t.Fatal(err)
	}
	read(2, "after the refresh")
	k.Store.ForgetKept()
	read(2, "from the reports' cache alone")
}
