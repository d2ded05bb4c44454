package main

import (
	"cmp"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// BENCH_ONLY picks lines by words of their names, and brings along the
// lines whose load the chosen ones need and the ceiling.
func TestBenchOnly(t *testing.T) {
	cases := []struct {
		only string
		want map[string]bool
	}{
		{"", map[string]bool{"lesson page": true, "quiz submit": true, "team view (30)": true}},
		{"quiz", map[string]bool{ceilingLine: true, "quiz start": true, "quiz submit": true, "acknowledgement": false,
			"lesson page": false, "organisation view (10000)": false}},
		{"Submit", map[string]bool{"quiz start": true, "quiz submit": true, "acknowledgement": false}},
		{"acknowledgement", map[string]bool{"quiz start": true, "quiz submit": true, "acknowledgement": true, "My training": false}},
		{"api", map[string]bool{apiLine: true, cssLine: true, "lesson page": false, oneUserLine: false}},
		{" half peak ,team", map[string]bool{"lesson page": true, "My training": true, "lesson page at half peak": true,
			"team view (30)": true, "quiz start": false}},
	}
	for _, c := range cases {
		o := options{only: words(c.only)}
		for name, want := range c.want {
			if got := o.wants(name); got != want {
				t.Errorf("BENCH_ONLY=%q: wants(%q) = %v, want %v", c.only, name, got, want)
			}
		}
	}
}

// The database commands per request come from /metrics: the counts of
// each command and collection, every outcome together, between two reads.
func TestDBCommandsPerRequest(t *testing.T) {
	read := func(finds, failed, updates string) map[string]float64 {
		return parseDBCommands([]byte(`# HELP portal_db_command_duration_seconds Time of a database command.
# TYPE portal_db_command_duration_seconds histogram
portal_db_command_duration_seconds_bucket{collection="users",command="find",outcome="ok",le="0.001"} 3
portal_db_command_duration_seconds_sum{collection="users",command="find",outcome="ok"} 0.5
portal_db_command_duration_seconds_count{collection="users",command="find",outcome="ok"} ` + finds + `
portal_db_command_duration_seconds_count{collection="users",command="find",outcome="error"} ` + failed + `
portal_db_command_duration_seconds_count{collection="progress",command="update",outcome="ok"} ` + updates + `
portal_http_requests_total{method="GET",route="/",status="200"} 99
`))
	}
	before, after := read("10", "1", "0"), read("40", "1", "10")
	if before["find users"] != 11 || before["update progress"] != 0 {
		t.Fatalf("parsed %v", before)
	}
	total, top := perRequest(before, after, 10)
	if total != 4 || top != "find users 3.00, update progress 1.00" {
		t.Errorf("per request: %v %q, want 4 and find users first", total, top)
	}
	if total, _ := perRequest(nil, after, 10); total != -1 {
		t.Errorf("without a first reading: %v, want -1 (not read)", total)
	}
}

// The open loop sends every request it scheduled through its fixed pool
// of senders, never more at once than the pool (it used to start a
// goroutine, and so perhaps a connection, per request), counts the wrong
// answers, and keeps each request's time in its timeline, in order.
func TestOpenLoopSendsThroughItsPool(t *testing.T) {
	const workers = 3
	var (
		mu         sync.Mutex
		busy, most int
		sent       int
	)
	op := func(*rand.Rand) bool {
		mu.Lock()
		busy++
		most = max(most, busy)
		sent++
		ok := sent%10 != 0
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		busy--
		mu.Unlock()
		return ok
	}
	res := open("test", 2000, 100*time.Millisecond, workers, op)
	if res.requests != 200 || sent != 200 {
		t.Fatalf("%d requests measured, %d sent, want 200", res.requests, sent)
	}
	if most > workers {
		t.Errorf("%d requests at once, the pool is %d", most, workers)
	}
	if res.errors != 20 {
		t.Errorf("%d errors, want 20", res.errors)
	}
	if len(res.timeline) != 200 || !slices.IsSortedFunc(res.timeline, func(a, b sample) int { return cmp.Compare(a.due, b.due) }) {
		t.Errorf("timeline of %d samples, sorted %v", len(res.timeline), slices.IsSortedFunc(res.timeline, func(a, b sample) int { return cmp.Compare(a.due, b.due) }))
	}
	for _, x := range res.timeline {
		if x.took <= 0 {
			t.Fatalf("a request took %s from when it was due", x.took)
		}
	}
}

// The drain wait reads portal_progress_held, not a gauge whose name it
// starts, nor a labelled sample.
func TestParseGauge(t *testing.T) {
	body := []byte("# HELP portal_progress_held x\n# TYPE portal_progress_held gauge\nportal_progress_held_total 9\nportal_progress_held{a=\"b\"} 8\nportal_progress_held 42\nportal_sessions 3\n")
	if v, ok := parseGauge(body, "portal_progress_held"); !ok || v != 42 {
		t.Errorf("portal_progress_held = %v, %v; want 42", v, ok)
	}
	if _, ok := parseGauge(body, "portal_missing"); ok {
		t.Error("a gauge not in the body was found")
	}
}
