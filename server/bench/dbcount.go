package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dbCommandsPrefix starts each line of /metrics that counts one kind of
// database command (a histogram's count, by command, collection, outcome).
const dbCommandsPrefix = "portal_db_command_duration_seconds_count{"

// dbCommands reads the server's database commands so far from /metrics
// (open to loopback), by "command collection"; nil when it cannot.
func (c *client) dbCommands() map[string]float64 {
	body, ok := c.metrics()
	if !ok {
		return nil
	}
	return parseDBCommands(body)
}

// metrics is the server's /metrics body (open to loopback).
func (c *client) metrics() ([]byte, bool) {
	req, err := http.NewRequest(http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil, false
	}
	return c.do(req, http.StatusOK)
}

// parseDBCommands sums the command counts of a /metrics body by command
// and collection.
func parseDBCommands(body []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), dbCommandsPrefix)
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(line, "} ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		var cmd, coll string
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "command":
				cmd = v
			case "collection":
				coll = v
			}
		}
		out[cmd+" "+coll] += n
	}
	return out
}

// perRequest is the commands sent between two readings per request: the
// total, and the three most frequent as "find users 0.31, ...".
func perRequest(before, after map[string]float64, requests int) (total float64, top string) {
	if before == nil || after == nil || requests == 0 {
		return -1, ""
	}
	type kind struct {
		name string
		n    float64
	}
	var kinds []kind
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			kinds = append(kinds, kind{k, d / float64(requests)})
			total += d / float64(requests)
		}
	}
	slices.SortFunc(kinds, func(a, b kind) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var parts []string
	for _, k := range kinds[:min(3, len(kinds))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", k.name, k.n))
	}
	return total, strings.Join(parts, ", ")
}

// gauge reads an unlabelled gauge of the server's /metrics; ok is false
// when it cannot (no answer, no such gauge).
func (c *client) gauge(name string) (v float64, ok bool) {
	body, ok := c.metrics()
	if !ok {
		return 0, false
	}
	return parseGauge(body, name)
}

// parseGauge finds the unlabelled sample name of a /metrics body.
func parseGauge(body []byte, name string) (float64, bool) {
	for line := range strings.SplitSeq(string(body), "\n") {
		value, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return n, err == nil
	}
	return 0, false
}

// drainLimit is how long the bench waits for the progress the write lines
// left held in memory to be written before it measures on anyway.
const drainLimit = 2 * time.Minute

// drain is how the progress held after the write lines was written.
type drain struct {
	held  float64       // users held when the last write line ended; -1: not known
	took  time.Duration // until none was held
	ended bool          // false: drainLimit passed first
}

// waitDrained waits until the server holds no progress unwritten
// (portal_progress_held 0), polling every 100 ms, at most limit.
func waitDrained(c *client, limit time.Duration) drain {
	t0 := time.Now()
	d := drain{held: -1}
	for {
		n, ok := c.gauge("portal_progress_held")
		if !ok {
			return d // a server without the gauge: nothing to wait for
		}
		if d.held < 0 {
			d.held = n
		}
		if n == 0 || time.Since(t0) >= limit {
			d.took, d.ended = time.Since(t0), n == 0
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
}
