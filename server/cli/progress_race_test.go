package cli_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
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
	raceAttempts(t, ps, u, workers, perWorker)
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

// TestProgressLeaseTakeover: an instance died holding a user's progress
// lease, and another died while ending it (its end marker left behind,
// both expired). Two instances then race on that user: they take the
// lease over, count every attempt, and leave no lease or marker behind.
func TestProgressLeaseTakeover(t *testing.T) {
	ps := testkit.StartShared(t, 2, io.Discard)
	ctx := context.Background()
	u := createUser(t, ps[0], "li.na", "李娜", false)
	locks := ps[0].DB.Database.Collection("locks")
	past := time.Now().Add(-time.Minute)
	for _, id := range []string{"progress/" + u.ID, "progress/" + u.ID + "/end/dead"} {
		if _, err := locks.InsertOne(ctx, bson.M{"_id": id, "token": "dead", "expires": past}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 5
	raceAttempts(t, ps, u, 1, n)
	got, err := ps[0].Store.Progress(ctx, u.ID)
	if err != nil || got.Lessons["dress"].Attempts != len(ps)*n {
		t.Errorf("attempts counted %d, want %d (%v)", got.Lessons["dress"].Attempts, len(ps)*n, err)
	}
	if left, err := locks.CountDocuments(ctx, bson.M{}); err != nil || left != 0 {
		t.Errorf("%d leases or markers left behind (%v)", left, err)
	}
}

// raceAttempts starts perWorker attempts of dress for u from workers
// goroutines on every instance at once, and fails on any error.
func raceAttempts(t *testing.T, ps []*testkit.Portal, u *model.User, workers, perWorker int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(ps)*workers*perWorker)
	for _, p := range ps {
		for range workers {
			wg.Go(func() {
				for range perWorker {
					if _, err := p.Training.StartAttempt(context.Background(), u, "dress", model.LangZH); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
