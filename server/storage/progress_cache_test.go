package storage_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// TestProgressCacheGivesBackTheDatabase: what the progress cache answers,
// packed in memory, is exactly what the database holds, after a load and
// after later writes (counts, versions, times, fails, receipts, heads),
// and the documents as decoded are packed, not kept whole.
func TestProgressCacheGivesBackTheDatabase(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	now := testkit.Epoch.Add(1234567 * time.Microsecond) // not a whole millisecond: stored as bson's
	ids := []string{model.NewID(), model.NewID(), model.NewID()}
	write := func(id, slug string, u model.ProgressUpdate) {
		t.Helper()
		if err := k.Store.UpdateLessonProgress(ctx, id, slug, u); err != nil {
			t.Fatal(err)
		}
	}
	write(ids[0], "a", model.ProgressUpdate{ReadVersion: 2, PassVersion: 2, AckVersion: 2, Acknowledged: now, LastAttempt: now})
	write(ids[0], "b", model.ProgressUpdate{ReadVersion: 1, AddAttempts: 2, FailedVersion: 1, LastFailed: now})
	write(ids[1], "a", model.ProgressUpdate{ReadVersion: 1})
	same := func(when string) {
		t.Helper()
		stored, err := k.Store.StoredProgressOf(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := k.Store.ProgressOf(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		all, err := k.Store.AllProgress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cached) != 2 || len(all) != 2 {
			t.Fatalf("%s: cached %d, all %d, want 2", when, len(cached), len(all))
		}
		for id, p := range cached {
			if !reflect.DeepEqual(p, *stored[id]) || !reflect.DeepEqual(all[id], p) {
				t.Errorf("%s: cached %+v\nstored %+v", when, p, *stored[id])
			}
			if storage.PacksWhole(*stored[id]) {
				t.Errorf("%s: %s kept whole, not packed", when, id)
			}
		}
	}
	same("after the load")
	write(ids[0], "b", model.ProgressUpdate{PassVersion: 1, AckVersion: 1, Acknowledged: now.Add(time.Hour)})
	write(ids[1], "c", model.ProgressUpdate{ReadVersion: 3, AddAttempts: 1})
	same("after writes")
	// A count past int32 is packed too; a time not in UTC cannot be (it
	// would read back in UTC): kept whole, still exact.
	big := model.Progress{UserID: ids[2], Lessons: map[string]model.LessonProgress{"a": {Attempts: 1 << 40, Fails: map[string]int{"v1": -3}}}}
	if storage.PacksWhole(big) {
		t.Error("a count past int32 was kept whole")
	}
	local := model.Progress{UserID: ids[2], Updated: now.In(time.FixedZone("CST", 8*3600))}
	if !storage.PacksWhole(local) {
		t.Error("a time not in UTC was packed")
	}
}

// TestProgressReadIsOneCopy: a sole writer's read of a person's progress
// from the reports' packed copy allocates what one copy of the document
// does (it used to unpack it and then copy that: a lesson page's largest
// garbage after its standings), and the copy is the caller's: changing
// it, failure counts included, changes no later read.
func TestProgressReadIsOneCopy(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	id := model.NewID()
	for i, slug := range []string{"a", "b", "c", "d", "e", "f"} {
		u := model.ProgressUpdate{ReadVersion: 1, AddAttempts: i, LastAttempt: testkit.Epoch}
		if i%2 == 0 {
			u.FailedVersion, u.LastFailed = 1, testkit.Epoch
		}
		if err := k.Store.UpdateLessonProgress(ctx, id, slug, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := k.Store.ProgressOf(ctx, []string{id}); err != nil { // loads the reports' copy
		t.Fatal(err)
	}
	stored, err := k.Store.StoredProgressOf(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	want := stored[id]
	got, err := k.Store.Progress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v\nstored %+v", got, want)
	}
	for slug, lp := range got.Lessons {
		for key := range lp.Fails {
			lp.Fails[key] += 10
		}
		lp.Attempts += 10
		got.Lessons[slug] = lp
	}
	got.Lessons["z"] = model.LessonProgress{ReadVersion: 9}
	if again, err := k.Store.Progress(ctx, id); err != nil || !reflect.DeepEqual(again, want) {
		t.Fatalf("after the reader changed its copy: %+v, %v\nstored %+v", again, err, want)
	}
	reads := testing.AllocsPerRun(200, func() {
		if _, err := k.Store.Progress(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
	copies := testing.AllocsPerRun(200, func() { _ = storage.CopyProgress(want) })
	if reads > copies {
		t.Errorf("a read of progress allocates %.0f times, one copy of it %.0f", reads, copies)
	}
}

// TestProgressPacksReceiptIDs: receipt ids and chain heads made by NewID
// are packed as their bytes and read back exactly; any other id (an
// imported one, NewID's all-zero) keeps the document whole, still exact.
func TestProgressPacksReceiptIDs(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	now := testkit.Epoch
	zero := "00000000000000000000000000000000"
	mk := func(head, receipt string) model.Progress {
		return model.Progress{UserID: model.NewID(), Updated: now, Head: head, Lessons: map[string]model.LessonProgress{
			"a": {ReadVersion: 1, PassVersion: 1, AckVersion: 1, Acknowledged: now, Receipt: receipt},
			"b": {ReadVersion: 1},
		}}
	}
	r := model.NewID()
	ps := []model.Progress{mk(r, r), mk("", ""), mk(model.NewID(), "imported-7"), mk(zero, model.NewID()), mk(model.NewID(), zero)}
	for i, want := range []bool{false, false, true, true, true} {
		if got := storage.PacksWhole(ps[i]); got != want {
			t.Errorf("progress %d (head %q, receipt %q): kept whole %v, want %v", i, ps[i].Head, ps[i].Lessons["a"].Receipt, got, want)
		}
	}
	if err := k.Store.ImportProgress(ctx, ps); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(ps))
	for i := range ps {
		ids[i] = ps[i].UserID
	}
	stored, err := k.Store.StoredProgressOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := k.Store.ProgressOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !reflect.DeepEqual(cached[id], *stored[id]) {
			t.Errorf("%s: cached %+v\nstored %+v", id, cached[id], *stored[id])
		}
		if got, err := k.Store.Progress(ctx, id); err != nil || !reflect.DeepEqual(*got, *stored[id]) {
			t.Errorf("%s: read %+v, %v\nstored %+v", id, got, err, *stored[id])
		}
	}
}
