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
	// A count past int32 cannot be packed: kept whole, still exact.
	big := model.Progress{UserID: ids[2], Lessons: map[string]model.LessonProgress{"a": {Attempts: 1 << 40}}}
	if !storage.PacksWhole(big) {
		t.Error("a count past int32 was packed")
	}
}
