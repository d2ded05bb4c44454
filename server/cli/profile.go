package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
	"time"
)

// startProfiler serves Go's profiles (/debug/pprof/...) on
// PORTAL_PPROF_ADDR when it is set: make bench takes a CPU profile of the
// server per measured request kind with it. Profiles show the code and
// its load, so the address must be on loopback. Unset: nothing listens.
func startProfiler(ctx context.Context, log *slog.Logger) error {
	addr := os.Getenv("PORTAL_PPROF_ADDR")
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("cli: PORTAL_PPROF_ADDR=%q: want a loopback address and port, like 127.0.0.1:6060", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cli: profiler: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/runtime-metrics", serveRuntimeMetrics)
	// Who waits on whose lock: 1 in 10 contention events, cheap enough
	// for a profiled run (never set without the profiler).
	runtime.SetMutexProfileFraction(10)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiler", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("profiles served", "addr", ln.Addr().String())
	return nil
}

// runtimeMetrics are the figures of a tail's causes the bench reads before
// and after a line: how long runnable goroutines waited for a core, the
// collector's pauses, and the time spent waiting on locks.
var runtimeMetrics = []string{
	"/sched/latencies:seconds",
	"/gc/pauses:seconds",
	"/sync/mutex/wait/total:seconds",
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/allocs:bytes",
	"/cpu/classes/gc/mark/assist:cpu-seconds",
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/user:cpu-seconds",
}

// serveRuntimeMetrics writes runtimeMetrics as text, one a line: a
// number as "name value", a histogram as "name bucket-upper-bound count
// ..." for its non-empty buckets (cumulative counts since the start, so
// two reads subtract).
func serveRuntimeMetrics(w http.ResponseWriter, _ *http.Request) {
	samples := make([]metrics.Sample, len(runtimeMetrics))
	for i, n := range runtimeMetrics {
		samples[i].Name = n
	}
	metrics.Read(samples)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(w, "%s %d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(w, "%s %g\n", s.Name, s.Value.Float64())
		case metrics.KindFloat64Histogram:
			h := s.Value.Float64Histogram()
			fmt.Fprint(w, s.Name)
			for i, c := range h.Counts {
				if c > 0 {
					fmt.Fprintf(w, " %g %d", h.Buckets[i+1], c)
				}
			}
			fmt.Fprintln(w)
		}
	}
}
