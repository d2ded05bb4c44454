package main

import (
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Interleaved lines run by turns, never at once, and each gets its share
// of the time: the static file's floor is measured in the same seconds as
// the page.
func TestInterleaveTakesTurns(t *testing.T) {
	var (
		a, b atomic.Int64
		mu   sync.Mutex
		seq  []string // the lines in the order their requests ran, runs of one collapsed
	)
	op := func(name string, n *atomic.Int64) func(*rand.Rand) bool {
		return func(*rand.Rand) bool {
			n.Add(1)
			mu.Lock()
			if len(seq) == 0 || seq[len(seq)-1] != name {
				seq = append(seq, name)
			}
			mu.Unlock()
			return true
		}
	}
	ra, rb := interleave(halfLine{name: "static", rate: 200, op: op("static", &a)}, halfLine{name: "page", rate: 100, op: op("page", &b)},
		2*halfSlice, halfSlice, 4, "", os.Getpid(), t.TempDir())
	// ABBA: the static file's turn, the page's two, the static file's.
	if got := strings.Join(seq, " "); got != "static page static" {
		t.Fatalf("turns: %s", got)
	}
	// 2 turns each: 2 x 200 and 2 x 100 requests due (open loops send all
	// that fell due, however slow the machine).
	if ra.requests != 400 || int(a.Load()) != 400 || rb.requests != 200 || int(b.Load()) != 200 {
		t.Fatalf("requests: static %d (op %d), page %d (op %d); want 400 and 200", ra.requests, a.Load(), rb.requests, b.Load())
	}
	if len(ra.lat) != ra.requests || len(ra.timeline) != ra.requests {
		t.Fatalf("static: %d latencies, %d samples for %d requests", len(ra.lat), len(ra.timeline), ra.requests)
	}
	// the second turn's samples come after the first's
	if last, first := ra.timeline[199].due, ra.timeline[200].due; first < last {
		t.Fatalf("turn 2 starts at %s, before turn 1's last %s", first, last)
	}
	if !strings.Contains(rb.note, "in turns of 1s with the static file") || !strings.Contains(ra.note, "with the page") {
		t.Fatalf("notes: %q, %q", ra.note, rb.note)
	}
	if !strings.HasPrefix(rb.cpu, "CPU cores used: server ") {
		t.Fatalf("cpu: %q", rb.cpu)
	}
	if ra.runtime != "" {
		t.Fatalf("runtime figures without a profiler: %q", ra.runtime)
	}
}

// The merged line's percentiles are over every turn's requests.
func TestMergeTurns(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	m := merge("x", []*result{
		{requests: 2, errors: 1, took: ms(1000), lat: []time.Duration{ms(1), ms(3)}, timeline: []sample{{0, ms(1)}, {ms(500), ms(3)}}},
		{requests: 1, took: ms(1000), lat: []time.Duration{ms(2)}, timeline: []sample{{ms(100), ms(2)}}},
	})
	if m.requests != 3 || m.errors != 1 || m.took != ms(2000) || m.pct(0.5) != ms(2) || m.timeline[2].due != ms(1100) {
		t.Fatalf("merged: %+v", m)
	}
}

// The runtime's figures subtract between reads and add over turns.
func TestRuntimeFigures(t *testing.T) {
	a := parseRuntime("/gc/cycles/total:gc-cycles 3\n/sync/mutex/wait/total:seconds 0.5\n/sched/latencies:seconds 1e-06 10 0.001 5\n/gc/pauses:seconds\n")
	b := parseRuntime("/gc/cycles/total:gc-cycles 5\n/sync/mutex/wait/total:seconds 0.75\n/sched/latencies:seconds 1e-06 100 0.001 205 0.016 2\n/gc/pauses:seconds 0.0005 4\n")
	acc := &runtimeRead{num: map[string]float64{}, hist: map[string]map[float64]uint64{}}
	acc.add(diffRuntime(a, b))
	acc.add(diffRuntime(a, b))
	got := runtimeSummary(acc)
	for _, want := range []string{"sched latency p99 1ms max 16ms (584 sampled)", "4 GC cycles", "pauses p99 500µs max 500µs (8)", "lock waits 500ms"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if diffRuntime(nil, b) != nil || runtimeSummary(nil) != "" {
		t.Error("a missing read gave figures")
	}
}

// The bench's own CPU is the generator's; a count that went down adds
// nothing.
func TestCPUShare(t *testing.T) {
	dir := t.TempDir()
	c0 := readCPU(-1, dir)
	c1 := c0
	for end := time.Now().Add(10 * time.Second); c1.generator == c0.generator && time.Now().Before(end); {
		for x := range 1_000_000 {
			_ = x * x
		}
		c1 = readCPU(-1, dir)
	}
	if c1.generator <= c0.generator || c1.all <= c0.all {
		t.Fatalf("no ticks counted: %+v -> %+v", c0, c1)
	}
	if got := (cpuRead{}).plus(c1, c0); got != (cpuRead{}) {
		t.Fatalf("went down: %+v", got)
	}
	if s := cpuShare(c0, c1); !strings.Contains(s, "generator ") || strings.Contains(s, "generator 0.00") {
		t.Fatalf("share: %q", s)
	}
}
