package cli_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestProgressRaceAcrossInstances: two instances on one database start
// quiz attempts for one person at once (each start is a $inc of the
// lesson's attempts, which FerretDB applies as read, modify, write). No
// update is lost: the stored count is the number of attempts, and the
// progress is what the events imply.
func TestProgressRaceAcrossInstances(t *testing.T) {
	ps := testkit.StartShared(t, 2, io.Discard)
	ctx := context.Background()
	u := createUser(t, ps[0], "li.na", "李娜", false)
	// The first start makes the progress document; without the lease
	// two upserts at once also collide on its _id.
	if _, err := ps[0].Training.StartAttempt(ctx, u, "dress", model.LangZH); err != nil {
		t.Fatal(err)
	}
	const perWorker, workers = 6, 4
	var wg sync.WaitGroup
	errs := make(chan error, len(ps)*workers*perWorker)
	for _, p := range ps {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perWorker {
					if _, err := p.Training.StartAttempt(ctx, u, "dress", model.LangZH); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := ps[1].Store.Progress(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(ps)*workers*perWorker; got.Lessons["dress"].Attempts != want {
		t.Errorf("attempts counted %d, want %d: updates were lost", got.Lessons["dress"].Attempts, want)
	}
	rep, err := ps[0].Training.RebuildProgress(ctx, []string{u.ID}, false)
	if err != nil || len(rep.Drift) != 0 {
		t.Errorf("progress differs from the events: %+v %v", rep, err)
	}
}
