package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	portal "conductportal"
	"conductportal/server/quiz"
)

// report is one backend's numbers.
type report struct {
	backend                     string
	employees, clients, seconds int
	readyFirst, readyAgain      time.Duration
	firstOrg                    time.Duration
	lessonBytes                 int
	rss                         int64 // peak
	rssNow                      int64 // at the end of the lines
	results                     []*result
	ratio                       float64 // lesson page / ceiling
	apiRatio                    float64 // lesson API / stylesheet
	ceiling                     float64 // req/s of the static file
	load                        string
	idRead, scan                time.Duration
	check                       time.Duration            // from start to the start-up jobs' end
	jobs                        map[string]time.Duration // each start-up job's time
	drained                     drain                    // the progress held after the write lines
}

// startupLimit is how long the bench waits for the start-up jobs before
// it gives up on the server; startupBound what the large run should take.
const (
	startupLimit = 30 * time.Minute
	startupBound = 2 * time.Minute
)

// startupJobs are the start-up jobs' log messages (see cli's startupJobs),
// in their order, and the name the bench prints for each.
var startupJobs = []struct{ msg, name string }{
	{"directory loaded", "directory"},
	{"report cache loaded", "report cache"},
	{"users and sessions loaded", "users and sessions"},
	{"audit log loaded", "audit log"},
	{"progress matches the events", "progress check"},
	{"progress drift found", "progress check"},
	{"start-up jobs done", "all"},
}

var tookRe = regexp.MustCompile(`msg=(?:"([^"]*)"|(\S+)) .*took=(\S+)`)

// startupTimes reads, from a server log written from offset on, how long
// each start-up job took, by name; done tells whether they all ended.
func startupTimes(file string, offset int64) (times map[string]time.Duration, done bool) {
	raw, _ := os.ReadFile(file) // #nosec G304 -- the bench's own log file
	times = map[string]time.Duration{}
	for line := range strings.SplitSeq(string(raw[min(offset, int64(len(raw))):]), "\n") {
		m := tookRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, j := range startupJobs {
			if j.msg == m[1]+m[2] {
				d, _ := time.ParseDuration(m[3])
				times[j.name] = d
			}
		}
	}
	_, done = times["all"]
	return times, done
}

// waitStartup waits for the start-up jobs of the server whose log starts
// at offset, saying every half minute which have ended, up to limit.
func waitStartup(backend, file string, offset int64, limit time.Duration) (map[string]time.Duration, time.Duration, error) {
	t0, said := time.Now(), time.Now()
	for {
		times, done := startupTimes(file, offset)
		if done {
			return times, time.Since(t0), nil
		}
		if time.Since(t0) > limit {
			return nil, 0, fmt.Errorf("the start-up jobs did not end within %s (ended: %s); see %s", limit, jobList(times), file)
		}
		if time.Since(said) >= 30*time.Second {
			fmt.Printf("bench: %s: waiting for the start-up jobs, %s so far (ended: %s)\n", backend,
				time.Since(t0).Round(time.Second), jobList(times))
			said = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jobList names the start-up jobs in times with how long each took.
func jobList(times map[string]time.Duration) string {
	var out []string
	for _, j := range startupJobs {
		if d, ok := times[j.name]; ok && j.name != "all" && !slices.Contains(out, j.name+" "+d.Round(time.Millisecond).String()) {
			out = append(out, j.name+" "+d.Round(time.Millisecond).String())
		}
	}
	if len(out) == 0 {
		return "none yet"
	}
	return strings.Join(out, ", ")
}

// findPrefix is the first line whose name starts with prefix, or nil.
func (r *report) findPrefix(prefix string) *result {
	for _, x := range r.results {
		if strings.HasPrefix(x.name, prefix) {
			return x
		}
	}
	return nil
}

func within(ok bool) string {
	if ok {
		return "within"
	}
	return "OVER"
}

func (r *report) find(name string) *result {
	for _, x := range r.results {
		if x.name == name {
			return x
		}
	}
	return nil
}

// measure starts the portal on the seeded database and runs every
// measurement against it.
func measure(ctx context.Context, o options, dir string, env []string, sd *seeded, r *report) error {
	r.idRead, r.scan = sd.idRead, sd.scan
	load, _ := os.ReadFile("/proc/loadavg")
	r.load = strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " ")

	// First start: the time to ready on the freshly seeded database, and
	// the size of a lesson page.
	srv, took, err := start(ctx, o.bin, dir, env)
	if err != nil {
		return err
	}
	r.readyFirst = took
	page, ok := newClient(srv.base, 1).get("/lessons/"+sd.slugs[0], sd.learners[0].cookie)
	srv.stop()
	if !ok {
		return fmt.Errorf("the lesson page did not answer 200 to a seeded session; see %s", filepath.Join(dir, "server.log"))
	}
	// Second start, with a "logo" of the lesson page's size: the same
	// server serves it as a static file, which is the ceiling.
	logo := filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(logo, svgOfSize(len(page)), 0o600); err != nil {
		return err
	}
	logFile := filepath.Join(dir, "server.log")
	var offset int64
	if st, err := os.Stat(logFile); err == nil {
		offset = st.Size() // this start's lines come after
	}
	env2 := append(env, "PORTAL_LOGO="+logo)
	pprofAddr := ""
	if o.profiles != "" {
		if pprofAddr, err = freeLoopbackAddr(); err != nil {
			return err
		}
		env2 = append(env2, "PORTAL_PPROF_ADDR="+pprofAddr)
	}
	srv, took, err = start(ctx, o.bin, dir, env2)
	if err != nil {
		return err
	}
	defer srv.stop()
	r.readyAgain = took
	// The start-up jobs run beside serving and scan whole collections; the
	// measurements start when they are done (the limit only stops a hung
	// server: how long they took is a figure of the table, with its bound).
	fmt.Printf("bench: %s: ready after %s; waiting for the start-up jobs...\n", r.backend, took.Round(time.Millisecond))
	times, waited, err := waitStartup(r.backend, logFile, offset, startupLimit)
	if err != nil {
		return err
	}
	r.jobs, r.check = times, waited+took
	heapProfile(pprofAddr, o.profiles, r.backend, "after-startup")
	c := newClient(srv.base, o.clients)
	page, _ = c.get("/lessons/"+sd.slugs[0], sd.learners[0].cookie)
	r.lessonBytes = len(page)
	static := logoRe.Find(page)
	if static == nil {
		return fmt.Errorf("no logo on the lesson page")
	}
	css := cssRe.Find(page)
	if css == nil {
		return fmt.Errorf("no stylesheet on the lesson page")
	}
	// The first organisation view waits for the reports' cache to load
	// (the server loads it after it is ready); a slow database may make it
	// answer 503 at the request deadline first, so try for a while.
	// Not when no line of HR's is measured: on a loaded machine the load
	// may not finish (on PostgreSQL its scan can outlast the driver's
	// timeout), and the page lines do not need it.
	t0 := time.Now()
	r.firstOrg = -1
	for o.wants("organisation view") || o.wants("CSV export") {
		if _, ok := c.get("/organisation", sd.hr.cookie); ok {
			r.firstOrg = time.Since(t0)
			break
		}
		if time.Since(t0) > 10*time.Minute {
			return fmt.Errorf("the organisation view did not answer 200 within 10 minutes")
		}
	}

	qz, err := quiz.LoadDir(portal.Assets, "quizzes") // the shipped quizzes, for right answers
	if err != nil {
		return err
	}
	d := time.Duration(o.seconds) * time.Second
	learner := func(rnd *rand.Rand) *person { return sd.learners[rnd.IntN(len(sd.learners))] }
	pick := func(rnd *rand.Rand) string { return sd.slugs[rnd.IntN(len(sd.slugs))] }
	getOK := func(path, cookie string) bool { _, ok := c.get(path, cookie); return ok }

	run := func(name string, op func(rnd *rand.Rand) (bool, bool)) *result {
		if !o.wants(name) {
			return &result{name: name}
		}
		fmt.Printf("bench: %s: %s...\n", r.backend, name)
		prof := profile(pprofAddr, o.profiles, r.backend, name, d)
		c.takeErr()
		before := c.dbCommands()
		res := closed(name, o.clients, d, op)
		res.note = c.takeErr()
		res.db, res.dbTop = perRequest(before, c.dbCommands(), res.requests)
		prof()
		heapProfile(pprofAddr, o.profiles, r.backend, name)
		r.results = append(r.results, res)
		return res
	}
	page1 := func(op func(rnd *rand.Rand) bool) func(*rand.Rand) (bool, bool) {
		return func(rnd *rand.Rand) (bool, bool) { return op(rnd), true }
	}
	staticOp := func(*rand.Rand) bool { return getOK(string(static), "") }
	lessonOp := func(rnd *rand.Rand) bool { return getOK("/lessons/"+pick(rnd), learner(rnd).cookie) }
	oneUserOp := func(*rand.Rand) bool { return getOK("/lessons/"+sd.slugs[0], sd.learners[0].cookie) }
	cssOp := func(*rand.Rand) bool { return getOK(string(css), "") }
	apiOp := func(rnd *rand.Rand) bool { return c.apiGet("/lessons/"+pick(rnd), learner(rnd).token) }
	trainingOp := func(rnd *rand.Rand) bool { return getOK("/", learner(rnd).cookie) }

	ceiling := run(ceilingLine, page1(staticOp))
	lesson := run("lesson page", page1(lessonOp))
	// Issue 17's first two rows: the lesson page of one person against the
	// file of its size (the ceiling), and the lesson API of random people
	// against the stylesheet.
	run(oneUserLine, page1(oneUserOp))
	css1 := run(cssLine, page1(cssOp))
	api1 := run(apiLine, page1(apiOp))
	if css1.rps() > 0 {
		r.apiRatio = api1.rps() / css1.rps()
	}
	training := run("My training", page1(trainingOp))
	run("team view (30)", page1(func(rnd *rand.Rand) bool {
		return getOK("/team", sd.managers[rnd.IntN(len(sd.managers))].cookie)
	}))
	run(fmt.Sprintf("organisation view (%d)", o.employees), page1(func(*rand.Rand) bool { return getOK("/organisation", sd.hr.cookie) }))
	run("CSV export (department)", page1(func(*rand.Rand) bool {
		return getOK("/team/export.csv?department="+sd.dept, sd.hr.cookie)
	}))

	// The quiz and the signature: each (person, lesson) once, in turn.
	pairs := make(chan pair, len(sd.pairs))
	for _, p := range sd.pairs {
		pairs <- p
	}
	close(pairs)
	type started struct {
		pair
		id        string
		questions []struct {
			ID      string `json:"id"`
			Options []struct {
				ID string `json:"id"`
			} `json:"options"`
		}
	}
	startedQ := make(chan started, len(sd.pairs))
	passedQ := make(chan pair, len(sd.pairs))
	run("quiz start", func(*rand.Rand) (bool, bool) {
		p, more := <-pairs
		if !more {
			return false, false
		}
		var a struct {
			ID        string `json:"id"`
			Questions []struct {
				ID      string `json:"id"`
				Options []struct {
					ID string `json:"id"`
				} `json:"options"`
			} `json:"questions"`
		}
		ok := c.api("/lessons/"+p.slug+"/attempts", p.who.token, map[string]any{}, 201, &a)
		if ok {
			startedQ <- started{pair: p, id: a.ID, questions: a.Questions}
		}
		return ok, true
	})
	close(startedQ)
	run("quiz submit", func(*rand.Rand) (bool, bool) {
		s, more := <-startedQ
		if !more {
			return false, false
		}
		answers := map[string][]string{}
		for _, q := range s.questions {
			if qq, ok := qz[s.slug].Question(q.ID); ok {
				answers[q.ID] = qq.Answer
			}
		}
		var res struct {
			Passed bool `json:"passed"`
		}
		ok := c.api("/attempts/"+s.id+"/submit", s.who.token, map[string]any{"answers": answers}, 200, &res) && res.Passed
		if ok {
			passedQ <- s.pair
		}
		return ok, true
	})
	close(passedQ)
	run("acknowledgement", func(*rand.Rand) (bool, bool) {
		p, more := <-passedQ
		if !more {
			return false, false
		}
		return c.api("/lessons/"+p.slug+"/acknowledgements", p.who.token,
			map[string]any{"version": 1, "signature": p.who.name}, 201, nil), true
	})

	// The quiz and signature lines leave progress held in memory, written
	// behind (storage/progress_behind.go): the half-peak lines measure the
	// pages, not that drain, so they start once it is written, and how
	// long that took is a figure of its own.
	if o.wants("lesson page at half peak") || o.wants("My training at half peak") {
		r.drained = waitDrained(c, drainLimit)
	}

	// Page views at half their peak rate: the latency a person sees when
	// the server is busy but not saturated. Each is measured interleaved
	// with the static file at the same rate (the same generator, senders
	// and HTTP stack at the same pace, so its p99 is the floor of the
	// page's: at its own half peak, measured apart, it was not, the peaks
	// being as noisy as the machine), in turns of halfSlice in the order
	// ABBA: both see the same seconds of the machine (the database's
	// background work, other processes' load), so a tail that is the
	// machine's shows in both and one that is the page's in the page's
	// alone.
	type half struct {
		peak *result
		op   func(*rand.Rand) bool
	}
	for _, x := range []half{{lesson, lessonOp}, {training, trainingOp}} {
		name := x.peak.name + " at half peak"
		if !o.wants(name) || x.peak.rps() <= 0 || ceiling.rps() <= 0 {
			continue
		}
		fmt.Printf("bench: %s: %s, interleaved with the static file's...\n", r.backend, name)
		prof := profile(pprofAddr, o.profiles, r.backend, name, 2*d)
		tr := traceProfile(pprofAddr, o.profiles, r.backend, name, 2*d)
		c.takeErr()
		before := c.dbCommands()
		floor, res := interleave(
			halfLine{name: "static file at the same rate, beside " + x.peak.name, rate: x.peak.rps() / 2, op: staticOp},
			halfLine{name: name, rate: x.peak.rps() / 2, op: x.op},
			d, halfSlice, 2*o.clients, pprofAddr, srv.cmd.Process.Pid, dir)
		if e := c.takeErr(); e != "" {
			res.note += "; " + e
		}
		// The commands of both: the static file's are none.
		res.db, res.dbTop = perRequest(before, c.dbCommands(), res.requests)
		floor.db = -1
		res.floor = floor
		prof()
		tr()
		heapProfile(pprofAddr, o.profiles, r.backend, name)
		if o.profiles != "" {
			if err := res.writeTimeline(profileFile(o.profiles, r.backend, name, ".timeline")); err != nil {
				fmt.Fprintln(os.Stderr, "bench: timeline:", err)
			}
			if err := floor.writeTimeline(profileFile(o.profiles, r.backend, floor.name, ".timeline")); err != nil {
				fmt.Fprintln(os.Stderr, "bench: timeline:", err)
			}
		}
		r.results = append(r.results, floor, res)
	}
	if r.ceiling = ceiling.rps(); r.ceiling > 0 {
		r.ratio = lesson.rps() / r.ceiling
	}
	if r.rssNow, err = srv.rss("VmRSS:"); err != nil {
		return err
	}
	if r.rss, err = srv.peakRSS(); err != nil {
		return err
	}
	return nil
}

// percent is a/b as a percentage with one decimal below 10 %, or "-".
func percent(a, b float64) string {
	switch {
	case b <= 0:
		return "-"
	case a/b < 0.1:
		return fmt.Sprintf("%.1f%%", 100*a/b)
	default:
		return fmt.Sprintf("%.0f%%", 100*a/b)
	}
}

// dbPerRequest is a line's database commands per request, or "-".
func dbPerRequest(x *result) string {
	if x.db < 0 || x.requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x.db)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s: %d employees in %d departments, 6 lessons; %d clients, %d s each; %d CPUs; load average before: %s\n",
		r.backend, r.employees, departments, r.clients, r.seconds, runtime.NumCPU(), r.load)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// "of ceiling" is the line's req/s over the static file's: what the
	// issue's targets are stated in, steadier across machines than req/s
	// (for the "at half peak" lines, whose rate is set, it is that rate's).
	fmt.Fprintln(tw, "request\treq/s\tof ceiling\tp50 ms\tp99 ms\terrors\trequests\tdb/req\t")
	for _, x := range r.results {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t%d\t%s\t  %s\n", x.name, x.rps(), percent(x.rps(), r.ceiling),
			ms(x.pct(0.50)), ms(x.pct(0.99)), x.errors, x.requests, dbPerRequest(x), x.note)
	}
	_ = tw.Flush()
	for _, x := range r.results {
		if x.dbTop != "" {
			fmt.Fprintf(w, "database commands per request, %s: %s\n", x.name, x.dbTop)
		}
	}
	for _, x := range r.results {
		if x.floor != nil && x.floor.pct(0.99) > 0 {
			fmt.Fprintf(w, "%s: p99 %s ms beside the static file's %s ms in the same seconds (%.1fx its floor)\n",
				x.name, ms(x.pct(0.99)), ms(x.floor.pct(0.99)), float64(x.pct(0.99))/float64(x.floor.pct(0.99)))
		}
		if x.cpu != "" {
			fmt.Fprintf(w, "  %s: %s\n", x.name, x.cpu)
		}
		if x.runtime != "" {
			fmt.Fprintf(w, "  %s: %s\n", x.name, x.runtime)
		}
	}
	fmt.Fprintf(w, "lesson page: %.0f%% of the static ceiling (a %d-byte file from the same server)\n", 100*r.ratio, r.lessonBytes)
	if one := r.find(oneUserLine); one != nil && one.requests > 0 && r.ceiling > 0 {
		fmt.Fprintf(w, "lesson page of one person / the file of its size: %.2f (issue 17: >= 0.5)\n", one.rps()/r.ceiling)
	}
	if api := r.find(apiLine); api != nil && api.requests > 0 {
		fmt.Fprintf(w, "lesson API / the static stylesheet: %.2f (issue 17: >= 0.5)\n", r.apiRatio)
	}
	fmt.Fprintf(w, "ready after start: %s on the freshly seeded database, %s on a restart\n",
		r.readyFirst.Round(time.Millisecond), r.readyAgain.Round(time.Millisecond))
	fmt.Fprintf(w, "start-up jobs (beside serving, one after another, before the measurements) ended %s after start: %s\n",
		r.check.Round(time.Millisecond), jobList(r.jobs))
	if r.firstOrg >= 0 {
		fmt.Fprintf(w, "first organisation view after that: %s\n", r.firstOrg.Round(time.Millisecond))
	}
	switch d := r.drained; {
	case d.held > 0 && d.ended:
		fmt.Fprintf(w, "progress written behind: %.0f users held when the write lines ended, all written %s later (the half-peak lines waited)\n",
			d.held, d.took.Round(100*time.Millisecond))
	case d.held > 0:
		fmt.Fprintf(w, "progress written behind: %.0f users held when the write lines ended, still some after %s (the half-peak lines measured beside it)\n",
			d.held, d.took.Round(time.Second))
	}
	fmt.Fprintf(w, "peak RSS of the server: %.0f MB (%.0f MB after the last line)\n", float64(r.rss)/(1<<20), float64(r.rssNow)/(1<<20))
	if r.employees >= 100000 { // the large run's bounds (issue 17)
		if org := r.findPrefix("organisation view"); org != nil {
			fmt.Fprintf(w, "large-run bounds: organisation view p99 %s ms (bound 1000: %s), peak RSS %.0f MB (bound 250: %s), start-up jobs %.0f s (bound %.0f: %s)\n",
				ms(org.pct(0.99)), within(org.pct(0.99) <= time.Second), float64(r.rss)/(1<<20), within(r.rss <= 250<<20),
				r.check.Seconds(), startupBound.Seconds(), within(r.check <= startupBound))
		}
	}
	fmt.Fprintf(w, "the database alone, from the bench process: one read by _id %s ms (median), a scan of %d users %s ms\n",
		ms(r.idRead), r.employees, ms(r.scan))
}

// printSideBySide puts the backends' req/s and p99 next to each other.
func printSideBySide(w io.Writer, rs []*report) {
	fmt.Fprintln(w, "\n== side by side: req/s and p99 ms")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "request\t"
	for _, r := range rs {
		head += r.backend + " req/s\t" + r.backend + " p99\t"
	}
	last := rs[len(rs)-1]
	head += last.backend + "/" + rs[0].backend + "\t"
	fmt.Fprintln(tw, head)
	var names []string
	for _, x := range rs[0].results {
		names = append(names, x.name)
	}
	for _, n := range names {
		line := n + "\t"
		for _, r := range rs {
			if x := r.find(n); x != nil {
				line += fmt.Sprintf("%.0f\t%s\t", x.rps(), ms(x.pct(0.99)))
			} else {
				line += "-\t-\t"
			}
		}
		if a, b := last.find(n), rs[0].find(n); a != nil && b != nil && b.rps() > 0 {
			line += fmt.Sprintf("%.2f\t", a.rps()/b.rps())
		} else {
			line += "-\t"
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	for _, r := range rs {
		fmt.Fprintf(w, "%s: lesson/static %.0f%%, ready %s, RSS %.0f MB\n", r.backend, 100*r.ratio,
			r.readyAgain.Round(time.Millisecond), float64(r.rss)/(1<<20))
	}
}
