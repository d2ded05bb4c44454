package storage_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// storedDoc reads a user's progress document straight from the database,
// past every cache and what a sole writer holds.
func storedDoc(t *testing.T, k *testkit.Kit, id string) model.Progress {
	t.Helper()
	var p model.Progress
	err := k.DB.Database.Collection("progress").FindOne(context.Background(), bson.M{"_id": id}).Decode(&p)
	if err != nil {
		t.Fatalf("progress of %s in the database: %v", id, err)
	}
	return p
}

// A sole writer holds the progress an event makes in memory: every read
// (a person's, the reports') sees it at once, with the updates written at
// once on top; a flush writes it all, and a second flush or a repeated
// write counts nothing twice; the marker is stored before the first change
// is held and goes at a settled stop.
func TestProgressWrittenBehind(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	at := k.Clock.Now()
	const who = "behind-user"
	pending := func(want bool) {
		t.Helper()
		_, got, err := k.Store.ProgressPending(ctx)
		if err != nil || got != want {
			t.Fatalf("marker stored: %v %v, want %v", got, err, want)
		}
	}
	pending(false)
	event := func(u model.ProgressUpdate) {
		t.Helper()
		if err := k.Store.RecordEventProgress(ctx, who, "dress", u); err != nil {
			t.Fatal(err)
		}
	}
	want := model.LessonProgress{Attempts: 1, LastAttempt: at}
	check := func(when string) {
		t.Helper()
		p, err := k.Store.Progress(ctx, who)
		if err != nil || !reflect.DeepEqual(p.Lessons["dress"], want) {
			t.Fatalf("%s: a person's read %+v %v, want %+v", when, p.Lessons["dress"], err, want)
		}
		all, err := k.Store.AllProgress(ctx)
		if err != nil || !reflect.DeepEqual(all[who].Lessons["dress"], want) {
			t.Fatalf("%s: the reports' read %+v %v, want %+v", when, all[who].Lessons["dress"], err, want)
		}
		stored, err := k.Store.StoredProgressOf(ctx, []string{who})
		if err != nil || !reflect.DeepEqual(stored[who].Lessons["dress"], want) {
			t.Fatalf("%s: the checker's read %+v %v, want %+v", when, stored[who].Lessons["dress"], err, want)
		}
	}
	if n := k.Store.ProgressHeld(); n != 0 {
		t.Fatalf("%d users held before any event", n)
	}
	event(model.ProgressUpdate{LastAttempt: at, AddAttempts: 1})
	pending(true)
	if n := k.Store.ProgressHeld(); n != 1 {
		t.Fatalf("%d users held after one event, want 1", n)
	}
	if since, _, err := k.Store.ProgressPending(ctx); err != nil || since.IsZero() || time.Since(since) < 0 {
		t.Fatalf("the marker's time: %v %v, want when the first change was held", since, err)
	}
	check("started, before the reports' cache")
	// Written at once, on top of what is held: the reports' cache does not
	// reload the person from the database, which lacks the attempt.
	if err := k.Store.UpdateLessonProgress(ctx, who, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
		t.Fatal(err)
	}
	want.ReadVersion = 1
	check("read as well")
	event(model.ProgressUpdate{PassVersion: 1})
	want.PassVersion = 1
	check("passed, from the reports' cache")
	r := &model.Receipt{ID: model.NewID(), UserID: who, Lesson: "dress", Version: 1, At: at.Add(time.Minute)}
	if err := k.Store.RecordReceipt(ctx, r); err != nil {
		t.Fatal(err)
	}
	want.AckVersion, want.Acknowledged, want.Receipt = 1, r.At, r.ID
	check("acknowledged")

	for range 2 { // the second has nothing to write
		if err := k.Store.FlushProgress(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := k.Store.ProgressHeld(); n != 0 {
		t.Fatalf("%d users held after the flush, want 0", n)
	}
	if got := storedDoc(t, k, who); !reflect.DeepEqual(got.Lessons["dress"], want) || got.Head != r.ID {
		t.Fatalf("written: %+v (head %s), want %+v (head %s)", got.Lessons["dress"], got.Head, want, r.ID)
	}
	k.Store.ForgetKept()
	check("written, read again")
	// Another attempt held, written twice (as after a lost answer): counted once.
	event(model.ProgressUpdate{LastAttempt: at.Add(time.Hour), AddAttempts: 1})
	want.Attempts, want.LastAttempt = 2, at.Add(time.Hour)
	if err := k.Store.FlushProgress(ctx); err != nil {
		t.Fatal(err)
	}
	event(model.ProgressUpdate{})
	if err := k.Store.FlushProgress(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedDoc(t, k, who).Lessons["dress"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("written again: %+v, want %+v", got, want)
	}
	if err := k.Store.SettleProgress(ctx); err != nil {
		t.Fatal(err)
	}
	pending(false)
	// Once the stop began, a late request's change is written at once:
	// nothing is left held after the last write, and no marker is stored.
	if err := k.Store.CloseProgress(ctx); err != nil {
		t.Fatal(err)
	}
	event(model.ProgressUpdate{PassVersion: 2})
	if got := storedDoc(t, k, who).Lessons["dress"]; got.PassVersion != 2 {
		t.Fatalf("a change after the stop began: stored %+v, want passed version 2", got)
	}
	pending(false)
	if n := k.LoggedErrors(); n != 0 {
		t.Fatalf("%d errors logged", n)
	}
}

// What a sole writer holds and then writes is exactly what the database
// makes of the same updates written at once (a store that caches nothing,
// as a tool's or another instance's): the same counts, versions, times and
// failures, over random sequences.
func TestProgressHeldMatchesTheDatabase(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	direct := storage.New(k.DB.Database) // writes at once
	rnd := rand.New(rand.NewPCG(17, 1))
	slugs := []string{"dress", "grooming"}
	for user := range 12 {
		held, written := model.NewID(), model.NewID()
		for range 1 + rnd.IntN(8) {
			slug := slugs[rnd.IntN(len(slugs))]
			at := testkit.Epoch.Add(time.Duration(rnd.IntN(1e6)) * time.Millisecond)
			var u model.ProgressUpdate
			switch rnd.IntN(4) {
			case 0:
				u = model.ProgressUpdate{LastAttempt: at, AddAttempts: 1}
			case 1:
				u = model.ProgressUpdate{LastFailed: at, FailedVersion: 1 + rnd.IntN(3)}
			case 2:
				u = model.ProgressUpdate{PassVersion: 1 + rnd.IntN(3)}
			default:
				u = model.ProgressUpdate{ReadVersion: 1 + rnd.IntN(3), Attempts: rnd.IntN(4), Fails: map[string]int{model.FailKey(2): rnd.IntN(3)}}
			}
			if err := k.Store.RecordEventProgress(ctx, held, slug, u); err != nil {
				t.Fatal(err)
			}
			if err := direct.RecordEventProgress(ctx, written, slug, u); err != nil {
				t.Fatal(err)
			}
		}
		inMemory, err := k.Store.Progress(ctx, held)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Store.FlushProgress(ctx); err != nil {
			t.Fatal(err)
		}
		want := storedDoc(t, k, written).Lessons
		if got := storedDoc(t, k, held).Lessons; !reflect.DeepEqual(got, want) {
			t.Fatalf("user %d: written behind %+v\nwritten at once %+v", user, got, want)
		}
		if !reflect.DeepEqual(inMemory.Lessons, want) {
			t.Fatalf("user %d: held %+v\nwritten at once %+v", user, inMemory.Lessons, want)
		}
	}
	if _, pending, err := direct.ProgressPending(ctx); err != nil || !pending {
		t.Fatalf("the sole writer's marker: %v %v", pending, err)
	}
}
