package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// server is one run of bin/portal.
type server struct {
	cmd  *exec.Cmd
	base string
	log  *os.File
}

// start runs the binary and waits for /readyz; it returns how long that took.
func start(ctx context.Context, bin, dir string, env []string) (*server, time.Duration, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, 0, err
	}
	logf, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve") // #nosec G204 -- the binary under test, given on the command line
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "PORTAL_ADDR="+addr, "PORTAL_REMINDER_JOB=off", "PORTAL_LOG_FORMAT=text")
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, 0, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, log: logf}
	c := &http.Client{Timeout: time.Second}
	for time.Since(t0) < 10*time.Minute {
		if res, err := c.Get(s.base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, time.Since(t0), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.stop()
	return nil, 0, fmt.Errorf("the portal was not ready within 10 minutes; see %s", logf.Name())
}

// peakRSS is the server's peak resident memory, from the kernel.
func (s *server) peakRSS() (int64, error) { return s.rss("VmHWM:") }

// rss is a memory figure of the server's /proc status (VmHWM: peak
// resident, VmRSS: resident now), in bytes.
func (s *server) rss(field string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = s.log.Close()
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// client sends the load's requests.
type client struct {
	base string
	http *http.Client
	// firstErr is the first wrong answer since the last takeErr, so a line
	// with errors says what they were.
	firstErr atomic.Pointer[string]
}

// takeErr returns the first wrong answer since the last call, or "".
func (c *client) takeErr() string {
	if p := c.firstErr.Swap(nil); p != nil {
		return *p
	}
	return ""
}

func (c *client) failed(req *http.Request, what string) {
	msg := fmt.Sprintf("first error: %s %s: %s", req.Method, req.URL.Path, what)
	c.firstErr.CompareAndSwap(nil, &msg)
}

func newClient(base string, conns int) *client {
	tr := &http.Transport{MaxIdleConns: conns * 2, MaxIdleConnsPerHost: conns * 2, DisableCompression: true,
		IdleConnTimeout: time.Minute}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches a page as the person of cookie; ok means 200.
func (c *client) get(path, cookie string) ([]byte, bool) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, false
	}
	if cookie != "" {
		req.Header.Set("Cookie", "portal_session="+cookie)
	}
	return c.do(req, http.StatusOK)
}

// apiGet GETs a path of the JSON API with a token; ok means 200.
func (c *client) apiGet(path, token string) bool {
	req, err := http.NewRequest(http.MethodGet, c.base+"/api/v1"+path, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	_, ok := c.do(req, http.StatusOK)
	return ok
}

// api calls the JSON API with a token; ok means the wanted status.
func (c *client) api(path, token string, body any, want int, into any) bool {
	raw, err := json.Marshal(body)
	if err != nil {
		return false
	}
	req, err := http.NewRequest(http.MethodPost, c.base+"/api/v1"+path, bytes.NewReader(raw))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	out, ok := c.do(req, want)
	if ok && into != nil {
		ok = json.Unmarshal(out, into) == nil
	}
	return ok
}

func (c *client) do(req *http.Request, want int) ([]byte, bool) {
	res, err := c.http.Do(req)
	if err != nil {
		c.failed(req, err.Error())
		return nil, false
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	switch {
	case err != nil:
		c.failed(req, err.Error())
	case res.StatusCode != want:
		c.failed(req, fmt.Sprintf("%d %.200s", res.StatusCode, body))
	}
	return body, err == nil && res.StatusCode == want
}

// result is one measurement.
type result struct {
	name     string
	requests int
	errors   int
	took     time.Duration
	lat      []time.Duration // sorted
	timeline []sample        // the open loop's requests by when they were due
	note     string
	// db is the database commands per request (-1: not read), dbTop the
	// most frequent of them.
	db    float64
	dbTop string
	// runtime is what the server's runtime did during the line (see
	// runtimeSummary), when it was profiled; cpu who used the machine's
	// cores meanwhile (see cpuShare); floor the static file's line measured
	// in the same seconds (interleave).
	runtime, cpu string
	floor        *result
}

// sample is one request of an open loop: when it was due, from the
// line's start, and how long it took from then.
type sample struct{ due, took time.Duration }

// writeTimeline saves an open loop's requests, one a line ("due_ms
// took_ms"), to see whether its slow answers come together (a pause) or
// one by one.
func (r *result) writeTimeline(file string) error {
	var b strings.Builder
	for _, x := range r.timeline {
		fmt.Fprintf(&b, "%.3f %.3f\n", float64(x.due.Microseconds())/1000, float64(x.took.Microseconds())/1000)
	}
	return os.WriteFile(file, []byte(b.String()), 0o600)
}

func (r *result) rps() float64 {
	if r.took <= 0 {
		return 0
	}
	return float64(r.requests) / r.took.Seconds()
}

func (r *result) pct(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]
}

// closed runs workers that each send the next request as soon as the last
// is answered, for d or until op reports there is no more work. op
// returns ok (a right answer) and more (false: nothing left to do, and
// no request was sent).
func closed(name string, workers int, d time.Duration, op func(rnd *rand.Rand) (ok, more bool)) *result {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	t0 := time.Now()
	deadline := t0.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(t0.UnixNano()))) // #nosec G404 -- load pattern, not a secret
			var mine []time.Duration
			for time.Now().Before(deadline) {
				s := time.Now()
				ok, more := op(rnd)
				if !more {
					break
				}
				mine = append(mine, time.Since(s))
				if !ok {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return &result{name: name, requests: len(lat), errors: int(errs.Load()), took: time.Since(t0), lat: lat}
}

// open sends requests at a fixed rate, whatever the answers' pace, and
// measures each from when it was due: a slow answer delays no other, and
// a request that waits for a free sender counts its wait. The senders are
// a fixed pool of workers, each on its own kept-alive connection (the
// client keeps as many idle; give it workers <= 2 x its conns): a
// goroutine and so perhaps a new
// connection a request let a moment's delay grow into a storm of dials and
// of goroutines that the 2 cores the generator shares with the server
// spent more on than on the requests (the generator, not the server,
// collapsed: the server then used 0.4 of a core).
func open(name string, rate float64, d time.Duration, workers int, op func(rnd *rand.Rand) bool) *result {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	dues := make(chan time.Time, n) // never blocks the schedule
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, n)
		timeline = make([]sample, 0, n)
		errs     atomic.Int64
		wg       sync.WaitGroup
	)
	t0 := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(t0.UnixNano()))) // #nosec G404 -- load pattern, not a secret
			mine := make([]time.Duration, 0, n/workers+1)
			var when []sample
			for due := range dues {
				ok := op(rnd)
				took := time.Since(due)
				mine = append(mine, took)
				when = append(when, sample{due.Sub(t0), took})
				if !ok {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			timeline = append(timeline, when...)
			mu.Unlock()
		}()
	}
	for i := range n {
		due := t0.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		dues <- due
	}
	close(dues)
	wg.Wait()
	slices.Sort(lat)
	slices.SortFunc(timeline, func(a, b sample) int { return cmp.Compare(a.due, b.due) })
	return &result{name: name, requests: len(lat), errors: int(errs.Load()), took: time.Since(t0), lat: lat, timeline: timeline,
		note: fmt.Sprintf("open loop at %.0f/s, %d senders", rate, workers)}
}

var (
	logoRe = regexp.MustCompile(`/static/logo\.[0-9a-f]+\.svg`)
	cssRe  = regexp.MustCompile(`/static/app\.[0-9a-f]+\.css`)
)

// svgOfSize is an SVG image of exactly n bytes (n >= 100).
func svgOfSize(n int) []byte {
	head := `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><!--`
	tail := `--></svg>` + "\n"
	pad := max(0, n-len(head)-len(tail))
	return []byte(head + strings.Repeat("x", pad) + tail)
}

// halfSlice is how long each turn of an interleaved pair of lines runs.
const halfSlice = time.Second

// halfLine is one side of an interleaved pair: an open loop at rate.
type halfLine struct {
	name string
	rate float64
	op   func(*rand.Rand) bool
}

// interleave runs two open loops by turns of slice, ABBA, until each has
// run for d, and returns each one's requests together: what the machine
// did meanwhile (a pause of the database, another process's burst) falls
// on both alike. With a profiler address, each line also says what the
// server's runtime did in its own turns; and each line says who used the
// machine's cores in its turns (the server's process is serverPID, the
// database's under dir).
func interleave(a, b halfLine, d, slice time.Duration, workers int, pprofAddr string, serverPID int, dir string) (*result, *result) {
	lines := [2]halfLine{a, b}
	var (
		parts [2][]*result
		rt    [2]*runtimeRead
		reads [2]int // turns whose runtime reads both answered
		cpu   [2]cpuRead
	)
	for i := range rt {
		rt[i] = &runtimeRead{num: map[string]float64{}, hist: map[string]map[float64]uint64{}}
	}
	for turn := 0; time.Duration(len(parts[1]))*slice < d; turn++ {
		order := []int{0, 1}
		if turn%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			x := lines[k]
			r0, c0 := readRuntime(pprofAddr), readCPU(serverPID, dir)
			parts[k] = append(parts[k], open(x.name, x.rate, min(slice, d), workers, x.op))
			if d := diffRuntime(r0, readRuntime(pprofAddr)); d != nil {
				rt[k].add(d)
				reads[k]++
			}
			cpu[k] = cpu[k].plus(c0, readCPU(serverPID, dir))
		}
	}
	var out [2]*result
	for k := range out {
		out[k] = merge(lines[k].name, parts[k])
		out[k].note = fmt.Sprintf("open loop at %.0f/s, %d senders, in turns of %s with the %s", lines[k].rate, workers,
			slice, map[int]string{0: "page", 1: "static file"}[k])
		out[k].cpu = cpuShare(cpuRead{}, cpu[k])
		if reads[k] == len(parts[k]) { // not from some turns only (an older server has no figures)
			out[k].runtime = runtimeSummary(rt[k])
		}
	}
	return out[0], out[1]
}

// merge puts the turns of one line together: their requests and time,
// the timeline one turn after another.
func merge(name string, parts []*result) *result {
	out := &result{name: name}
	for _, p := range parts {
		for _, s := range p.timeline {
			out.timeline = append(out.timeline, sample{out.took + s.due, s.took})
		}
		out.requests += p.requests
		out.errors += p.errors
		out.took += p.took
		out.lat = append(out.lat, p.lat...)
	}
	slices.Sort(out.lat)
	return out
}
