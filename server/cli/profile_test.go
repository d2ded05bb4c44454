package cli

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// The profiler's runtime figures name every metric the bench reads, with
// the histograms' buckets after a collection has run.
func TestRuntimeMetricsServed(t *testing.T) {
	runtime.GC()
	rec := httptest.NewRecorder()
	serveRuntimeMetrics(rec, httptest.NewRequest("GET", "/debug/runtime-metrics", nil))
	body := rec.Body.String()
	for _, name := range runtimeMetrics {
		if !strings.Contains(body, name) {
			t.Errorf("no %s in:\n%s", name, body)
		}
	}
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "/gc/pauses:seconds") && len(strings.Fields(line)) < 3 {
			t.Errorf("no pause after a GC: %q", line)
		}
	}
}
