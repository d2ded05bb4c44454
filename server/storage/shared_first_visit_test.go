package storage_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// finds is how many reads an instance sent, of every collection.
func (in *instance) allFinds() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, c := range in.finds {
		n += c
	}
	return n
}

// A shared instance answers a person's first visit from memory too: their
// progress from the reports' copy and their receipts from the receipts'
// index, asking the database nothing (but a receipt's document by _id, as
// a sole writer does). Another instance's progress and
// receipt show once the change log names them, and, left to itself,
// never later than SharedStaleness after the write ended.
func TestSharedFirstVisitFromMemory(t *testing.T) {
	ctx := context.Background()
	a, b := sharedPair(t)
	people := map[string]*model.User{}
	for _, login := range []string{"first.visit", "other.write", "left.alone"} {
		u := &model.User{ID: model.NewID(), Login: login, Name: login, Roles: []string{model.RoleEmployee}, Active: true, Created: testkit.Epoch}
		if err := a.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		people[login] = u
	}
	v, w, z := people["first.visit"].ID, people["other.write"].ID, people["left.alone"].ID
	if err := a.UpdateLessonProgress(ctx, v, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
		t.Fatal(err)
	}
	sign := func(userID string, version int) *model.Receipt {
		t.Helper()
		r := &model.Receipt{ID: model.NewID(), UserID: userID, Lesson: "dress", Version: version, Seq: version, At: testkit.Epoch}
		if err := a.CreateReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.RecordReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	signed := sign(v, 1)

	// B starts as serve does: the kept documents, then the reports' copy.
	if _, err := b.LoadKept(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.WarmProgress(ctx); err != nil {
		t.Fatal(err)
	}
	release := b.HoldFetches()
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	before := b.allFinds()
	p, err := b.Progress(ctx, v)
	if err != nil || p.Lessons["dress"].ReadVersion != 1 {
		t.Fatalf("B's first visit of a person: progress %+v, %v", p, err)
	}
	// Which receipt the person holds (the document itself is read by _id
	// once, as a sole writer reads it).
	if id, found, known := b.ReceiptID(v, "dress", 1); !known || !found || id != signed.ID {
		t.Fatalf("B's first visit: receipt %q, found %v, known %v, want %s", id, found, known, signed.ID)
	}
	for _, id := range []string{w, z} { // none stored
		if p, err := b.Progress(ctx, id); err != nil || len(p.Lessons) != 0 {
			t.Fatalf("B's first visit of %s: progress %+v, %v", id, p, err)
		}
		if _, err := b.ReceiptFor(ctx, id, "dress", 1); !isNotFound(err) {
			t.Fatalf("B's first visit of %s: receipt %v, want not found", id, err)
		}
	}
	if got := b.allFinds() - before; got != 0 {
		t.Errorf("B's first visits sent %d reads, want 0", got)
	}

	// A writes w's progress and receipt: B has them once it reads the log.
	if err := a.UpdateLessonProgress(ctx, w, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
		t.Fatal(err)
	}
	sign(w, 1)
	if err := b.ReadChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := b.Progress(ctx, w); err != nil || p.Lessons["dress"].ReadVersion != 1 {
		t.Errorf("B after reading the log: progress %+v, %v", p, err)
	}
	if _, err := b.ReceiptFor(ctx, w, "dress", 1); err != nil {
		t.Errorf("B after reading the log: receipt %v", err)
	}
	release()

	// Left to itself: A writes z's; B may answer from its copy only to
	// reads that start within the bound.
	if err := a.UpdateLessonProgress(ctx, z, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
		t.Fatal(err)
	}
	sign(z, 1)
	done := time.Now()
	for {
		started := time.Now()
		p, err := b.Progress(ctx, z)
		if err != nil {
			t.Fatal(err)
		}
		_, rerr := b.ReceiptFor(ctx, z, "dress", 1)
		if rerr != nil && !isNotFound(rerr) {
			t.Fatal(rerr)
		}
		seen := p.Lessons["dress"].ReadVersion == 1 && rerr == nil
		if !seen && started.Sub(done) > storage.SharedStaleness {
			t.Fatalf("B, %s after A's write ended: progress %+v, receipt %v", started.Sub(done), p.Lessons, rerr)
		}
		if seen {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commands is how many commands of one kind an instance sent.
func (in *instance) commands(cmdColl string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cmds[cmdColl]
}

// An acknowledgement on a shared instance (the receipt, then the progress
// it moves) names its user in the change log once, however many sign at
// the same time: concurrent writers of one instance do not race each
// other for the log's numbers.
func TestSharedAcknowledgementLogsOnce(t *testing.T) {
	ctx := context.Background()
	a, _ := sharedPair(t)
	const people = 8
	ids := make([]string, people)
	for i := range ids {
		ids[i] = model.NewID()
	}
	before := a.commands("insert changes")
	var wg sync.WaitGroup
	errs := make(chan error, people)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &model.Receipt{ID: model.NewID(), UserID: id, Lesson: "dress", Version: 1, Seq: 1, At: testkit.Epoch}
			if err := a.CreateReceipt(ctx, r); err != nil {
				errs <- err
				return
			}
			errs <- a.RecordReceipt(ctx, r)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := a.commands("insert changes") - before
	t.Logf("%d change-log inserts for %d acknowledgements", got, people)
	if got > people {
		t.Errorf("%d acknowledgements sent %d inserts to the change log, want at most %d", people, got, people)
	}
}

// A write of this process leaves its user's progress in memory as the
// database answered it, so the user's next page reads nothing: before,
// each write marked the user dirty and that page read the document again
// (after a burst of signatures, the lesson page's p99 on a shared
// database). What is kept is what the database holds, and the other
// instance learns of it from the change log.
func TestOwnProgressWriteKept(t *testing.T) {
	for _, mode := range []string{"sole writer", "shared"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			uri := hostDatabase(t)
			in, fresh := openInstance(t, uri), openInstance(t, uri) // fresh: no copy, reads the database
			if mode == "shared" {
				in.SetShared()
				fresh.SetShared()
			} else {
				in.SetSoleWriter()
			}
			if err := in.WarmProgress(ctx); err != nil { // as serve does
				t.Fatal(err)
			}
			if mode == "shared" {
				in.HoldFetches()
				if err := in.ReadChanges(ctx); err != nil {
					t.Fatal(err)
				}
			}
			id := model.NewID()
			if err := in.UpdateLessonProgress(ctx, id, "dress", model.ProgressUpdate{ReadVersion: 1}); err != nil {
				t.Fatal(err)
			}
			r := &model.Receipt{ID: model.NewID(), UserID: id, Lesson: "dress", Version: 1, Seq: 1, At: testkit.Epoch}
			if err := in.CreateReceipt(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := in.RecordReceipt(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := in.UpdateLessonProgress(ctx, id, "grooming", model.ProgressUpdate{AddAttempts: 1, LastAttempt: testkit.Epoch}); err != nil {
				t.Fatal(err)
			}
			before := in.found("progress")
			got, err := in.Progress(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := in.found("progress") - before; n != 0 {
				t.Errorf("the next page after the writes read progress %d times, want 0", n)
			}
			dress, grooming := got.Lessons["dress"], got.Lessons["grooming"]
			if dress.ReadVersion != 1 || dress.AckVersion != 1 || dress.Receipt != r.ID || got.Head != r.ID || grooming.Attempts != 1 {
				t.Fatalf("kept after the writes: %+v", got)
			}
			if mode == "shared" {
				if err := fresh.ReadChanges(ctx); err != nil {
					t.Fatal(err)
				}
			}
			stored, err := fresh.Progress(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, stored) {
				t.Errorf("kept %+v\nstored %+v", got, stored)
			}
		})
	}
}
