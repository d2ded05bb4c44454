package report_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"conductportal/server/report"
)

// TestOrganisationKeptWhileRecomputed: when computing the view is slow, a
// change no longer makes HR wait: the kept view answers while the new one
// computes, and the new one replaces it once done. Older than the
// staleness bound, the kept view is not answered: the request waits.
func TestOrganisationKeptWhileRecomputed(t *testing.T) {
	f := newOrgFixture(t)
	svc := report.New(f.k.Store, nil, f.k.Clock.Now)
	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	// Every view counts as slow; a held computation waits for release.
	report.SetOrganisationHook(svc, 0, func() {
		if hold.Load() {
			entered <- struct{}{}
			<-release
		}
	})
	view := func() *report.Organisation {
		t.Helper()
		o, err := svc.Organisation(context.Background(), "en")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	done := func(o *report.Organisation) int {
		for _, r := range o.ByLesson {
			if r.Key == f.first.Slug {
				return r.Done
			}
		}
		t.Fatalf("no row for %s", f.first.Slug)
		return 0
	}

	o1 := view()
	if done(o1) != 0 {
		t.Fatalf("first view: %d done", done(o1))
	}
	f.sign(t, 0)
	hold.Store(true)
	o2 := view() // starts the new computation, which is held
	<-entered
	if o2 != o1 {
		t.Fatal("while the new view computes, the kept one was not answered")
	}
	if o3 := view(); o3 != o1 {
		t.Fatal("a second request during the computation did not get the kept view")
	}
	hold.Store(false)
	release <- struct{}{}
	report.WaitOrganisation(svc)
	o4 := view()
	if o4 == o1 || done(o4) != 1 {
		t.Fatalf("after the computation: %d done, the same view: %v", done(o4), o4 == o1)
	}

	// Past the bound the kept view is not answered: this request gets the
	// view computed after the second signature.
	f.sign(t, 1)
	f.k.Clock.Add(2 * time.Minute)
	hold.Store(true)
	got := make(chan *report.Organisation, 1)
	go func() {
		o, err := svc.Organisation(context.Background(), "en")
		if err != nil {
			t.Error(err)
		}
		got <- o
	}()
	<-entered
	hold.Store(false)
	release <- struct{}{}
	if o5 := <-got; o5 == nil || o5 == o4 || done(o5) != 2 {
		t.Fatalf("past the bound the request did not wait for the new view: %+v", o5)
	}
}
