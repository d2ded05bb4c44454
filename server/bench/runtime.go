package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// runtimeRead is one read of the server's /debug/runtime-metrics: the
// numbers by name and each histogram's counts by bucket upper bound.
type runtimeRead struct {
	num  map[string]float64
	hist map[string]map[float64]uint64
}

// readRuntime reads the server's runtime metrics from its profiler, or
// nil with no profiler address or on an error.
func readRuntime(addr string) *runtimeRead {
	if addr == "" {
		return nil
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + addr + "/debug/runtime-metrics") // #nosec G107 -- the server's loopback profiler
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: runtime metrics:", err)
		return nil
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "bench: runtime metrics:", res.Status, err)
		return nil
	}
	return parseRuntime(string(raw))
}

func parseRuntime(text string) *runtimeRead {
	r := &runtimeRead{num: map[string]float64{}, hist: map[string]map[float64]uint64{}}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2:
			r.num[f[0]], _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 1 || len(f)%2 == 1:
			h := map[float64]uint64{}
			for i := 1; i+1 < len(f); i += 2 {
				b, _ := strconv.ParseFloat(f[i], 64)
				n, _ := strconv.ParseUint(f[i+1], 10, 64)
				h[b] = n
			}
			r.hist[f[0]] = h
		}
	}
	return r
}

// diffRuntime is what was added between two reads (nil if either is).
func diffRuntime(a, b *runtimeRead) *runtimeRead {
	if a == nil || b == nil {
		return nil
	}
	d := &runtimeRead{num: map[string]float64{}, hist: map[string]map[float64]uint64{}}
	for n, v := range b.num {
		d.num[n] = v - a.num[n]
	}
	for n, h := range b.hist {
		d.hist[n] = map[float64]uint64{}
		for le, c := range h {
			if x := c - a.hist[n][le]; c > a.hist[n][le] {
				d.hist[n][le] = x
			}
		}
	}
	return d
}

// add adds a difference of two reads into r.
func (r *runtimeRead) add(d *runtimeRead) {
	if d == nil {
		return
	}
	for n, v := range d.num {
		r.num[n] += v
	}
	for n, h := range d.hist {
		if r.hist[n] == nil {
			r.hist[n] = map[float64]uint64{}
		}
		for le, c := range h {
			r.hist[n][le] += c
		}
	}
}

// runtimeSummary says what the server's runtime did over a difference of
// reads: the scheduler's latency (how long a runnable goroutine waited
// for a core; sampled) at p99 and its worst bucket, the collector's cycles
// and pauses, the time goroutines waited on locks, and the share of the
// CPU spent in GC and in GC assists (what allocating requests paid; the
// runtime updates these at each GC). "" for nil.
func runtimeSummary(d *runtimeRead) string {
	if d == nil {
		return ""
	}
	user := d.num["/cpu/classes/user:cpu-seconds"]
	gc := d.num["/cpu/classes/gc/total:cpu-seconds"]
	share := func(x float64) string {
		if user+gc <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*x/(user+gc))
	}
	sp99, smax, sn := histStats(d.hist["/sched/latencies:seconds"])
	gp99, gmax, gn := histStats(d.hist["/gc/pauses:seconds"])
	return fmt.Sprintf("runtime: sched latency p99 %s max %s (%d sampled); %.0f GC cycles, pauses p99 %s max %s (%d); lock waits %s; GC %s of CPU, assists %s; %.1f MB allocated",
		dur(sp99), dur(smax), sn, d.num["/gc/cycles/total:gc-cycles"], dur(gp99), dur(gmax), gn,
		dur(d.num["/sync/mutex/wait/total:seconds"]), share(gc), share(d.num["/cpu/classes/gc/mark/assist:cpu-seconds"]),
		d.num["/gc/heap/allocs:bytes"]/1e6)
}

// histStats is a histogram's p99 and highest non-empty bucket (upper
// bounds) and its count.
func histStats(h map[float64]uint64) (p99, top float64, n uint64) {
	les := make([]float64, 0, len(h))
	for le, c := range h {
		if c > 0 {
			les = append(les, le)
			n += c
		}
	}
	slices.Sort(les)
	var seen uint64
	for _, le := range les {
		seen += h[le]
		if p99 == 0 && float64(seen) >= 0.99*float64(n) {
			p99 = le
		}
		top = le
	}
	return p99, top, n
}

// dur prints seconds as a duration; a bucket's unbounded top as "inf".
func dur(s float64) string {
	if math.IsInf(s, 1) {
		return "inf"
	}
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond).String()
}

// traceProfile starts recording an execution trace of the server for
// about d into folder/<backend>-<name>.trace (go tool trace reads it) and
// returns a function that waits for it. With no profiler address it does
// nothing.
func traceProfile(addr, folder, backend, name string, d time.Duration) func() {
	if addr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/trace?seconds=%d", addr, max(1, int(d/time.Second)))
		if err := save(url, profileFile(folder, backend, name, ".trace"), d+30*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "bench: trace:", err)
		}
	}()
	return func() { <-done }
}
