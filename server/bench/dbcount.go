package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// dbCommandsPrefix starts each line of /metrics that counts one kind of
// database command (a histogram's count, by command, collection, outcome).
const dbCommandsPrefix = "portal_db_command_duration_seconds_count{"

// dbCommands reads the server's database commands so far from /metrics
// (open to loopback), by "command collection"; nil when it cannot.
func (c *client) dbCommands() map[string]float64 {
	req, err := http.NewRequest(http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil
	}
	body, ok := c.do(req, http.StatusOK)
	if !ok {
		return nil
	}
	return parseDBCommands(body)
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
