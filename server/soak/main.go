// Command soak drives the real portal binary under load and kills it with
// SIGKILL at random moments, then checks that nothing it answered 2xx was
// lost: every attempt, graded result, receipt and reading it confirmed is
// in the database, progress equals what the events imply, and "portal
// verify" passes. "make soak" runs it twice: on the embedded database, and
// with -postgres on FerretDB on a fresh PostgreSQL cluster of its own, which
// it also takes away for a few seconds (an outage: answers must be 503
// within 5 s, and the portal must recover without a restart). With
// MONGODB_URI (an empty database) it runs the crash part on that server.
// It only listens on loopback.
//
//	go run ./server/soak -bin bin/portal -duration 60s
//	go run ./server/soak -bin bin/portal -duration 30s -postgres
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	portal "conductportal"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/pgserver"
	"conductportal/server/quiz"
	"conductportal/server/storage"
)

func main() {
	pgserver.Host() // the FerretDB child process of -postgres
	bin := flag.String("bin", "bin/portal", "the portal binary")
	duration := flag.Duration("duration", 60*time.Second, "how long to drive load and kill the server")
	users := flag.Int("users", 48, "learners")
	workers := flag.Int("workers", 10, "concurrent clients")
	think := flag.Duration("think", 50*time.Millisecond, "mean pause between a client's requests")
	minKills := flag.Int("min-kills", 5, "fail when fewer SIGKILLs happened")
	keep := flag.Bool("keep", false, "keep the temporary folder")
	uri := flag.String("mongodb-uri", os.Getenv("MONGODB_URI"), "an external database, empty or new, for the portal (default $MONGODB_URI; empty: embedded)")
	postgres := flag.Bool("postgres", false, "start PostgreSQL and FerretDB in the temporary folder, and test an outage of it too")
	flag.Parse()
	if err := run(*bin, *uri, *postgres, *duration, *users, *workers, *think, *minKills, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", err)
		os.Exit(1)
	}
}

// soak is one run: the server under test and what the clients were told.
type soak struct {
	bin, dir, data, addr, base string
	uri                        string           // MONGODB_URI for the portal; empty: embedded
	pg                         *pgserver.Server // with -postgres: the database, to take away
	logFile                    *os.File
	quizzes                    map[string]*quiz.Quiz

	requests, answered2xx, unanswered atomic.Int64
	statuses                          sync.Map // status -> *atomic.Int64
	violations                        atomic.Int64

	mu     sync.Mutex
	claims []claim // what a 2xx answer promised is stored
}

// claim is a write the portal answered 2xx.
type claim struct {
	kind   string // read, attempt, submit, ack
	login  string
	id     string // attempt or receipt id
	slug   string
	n      int    // version read, or score
	hash   string // receipt hash
	passed bool
}

func run(bin, uri string, postgres bool, duration time.Duration, nUsers, nWorkers int, think time.Duration, minKills int, keep bool) error {
	started := time.Now()
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("no binary at %s (make build): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "portal-soak-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("soak: folder", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s := &soak{bin: abs, uri: uri, dir: dir, data: filepath.Join(dir, "data"), addr: freeLoopbackAddr()}
	s.base = "http://" + s.addr
	if postgres {
		// #nosec G302 -- PostgreSQL runs as its own account and needs to reach its folder below
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		if s.pg, err = pgserver.Start(context.Background(), dir); err != nil {
			return err
		}
		defer s.pg.Stop()
		s.uri = s.pg.URI
	}
	backend := "embedded (FerretDB on SQLite)"
	if s.uri != "" {
		backend = "external, MONGODB_URI " + s.uri
	}
	fmt.Println("soak: database", backend)
	if s.logFile, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		return err
	}
	defer s.logFile.Close()
	if s.quizzes, err = quiz.LoadDir(portal.Assets, "quizzes"); err != nil {
		return err
	}

	// Accounts and tokens, with the command line, while the server is stopped.
	type learner struct{ login, name, token string }
	learners := make([]learner, nUsers)
	for i := range learners {
		l := learner{login: fmt.Sprintf("soak%02d", i), name: fmt.Sprintf("测试员%02d", i)}
		if _, err := s.cli("long enough password\n", "user", "add", "--login", l.login, "--name", l.name, "--password-stdin"); err != nil {
			return err
		}
		out, err := s.cli("", "token", "create", "--login", l.login)
		if err != nil {
			return err
		}
		l.token = strings.TrimSpace(out)
		learners[i] = l
	}
	fmt.Printf("soak: %d users with tokens created in %s\n", nUsers, time.Since(started).Round(time.Millisecond))

	// Clients: each takes learners from the queue and walks them through
	// every lesson; when none are left, it revisits finished ones.
	loadCtx, stopLoad := context.WithCancel(context.Background())
	queue := make(chan learner, nUsers)
	for _, l := range learners {
		queue <- l
	}
	close(queue)
	var done []learner
	var doneMu sync.Mutex
	var wg sync.WaitGroup
	for w := range nWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{s: s, http: &http.Client{Timeout: 15 * time.Second}, ctx: loadCtx, think: think,
				rnd: rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))}
			for l := range queue {
				c.login, c.name, c.token = l.login, l.name, l.token
				if !c.learn() {
					return
				}
				doneMu.Lock()
				done = append(done, l)
				doneMu.Unlock()
			}
			for loadCtx.Err() == nil {
				doneMu.Lock()
				if len(done) == 0 {
					doneMu.Unlock()
					return
				}
				l := done[c.rnd.IntN(len(done))]
				doneMu.Unlock()
				c.login, c.name, c.token = l.login, l.name, l.token
				c.revisit()
			}
		}()
	}

	// The server: up for a random while, then SIGKILL, again and again.
	kills, restarts := 0, 0
	loadStarted := time.Now()
	deadline := loadStarted.Add(duration)
	for time.Now().Before(deadline) {
		cmd, err := s.start()
		if err != nil {
			stopLoad()
			return err
		}
		restarts++
		up := time.Duration(1000+rand.IntN(4000)) * time.Millisecond
		if remaining := time.Until(deadline); up > remaining {
			up = max(remaining, 500*time.Millisecond)
		}
		time.Sleep(up)
		if time.Now().Before(deadline) {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			kills++
			// Down for a moment: clients meet refused connections.
			time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
			continue
		}
		// The last run ends with SIGTERM under load: a graceful stop.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			if err != nil {
				stopLoad()
				return fmt.Errorf("the server did not stop cleanly on SIGTERM: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			stopLoad()
			return errors.New("the server did not stop within 20 s of SIGTERM")
		}
	}
	stopLoad()
	wg.Wait()
	loadTook := time.Since(loadStarted)
	var outageFails []string
	if s.pg != nil {
		if outageFails, err = s.outage(learners[0].login, learners[0].token); err != nil {
			return err
		}
	}

	// Checks, with the server stopped.
	verifyOut, verifyErr := s.cli("", "verify")
	rebuildOut, rebuildErr := s.cli("", "rebuild", "--check")
	stored, missing, err := s.checkClaims()
	if err != nil {
		return err
	}
	drift := countInLog(filepath.Join(dir, "server.log"), `msg="progress drift found"`)
	writes := len(s.claims)

	fmt.Printf("soak: %s of load, %d SIGKILLs, %d starts, last stop by SIGTERM\n", loadTook.Round(time.Second), kills, restarts)
	fmt.Printf("soak: requests %d, answered 2xx %d, other answers %s, unanswered (server down or killed mid-request) %d\n",
		s.requests.Load(), s.answered2xx.Load(), s.otherStatuses(), s.unanswered.Load())
	fmt.Printf("soak: writes answered 2xx %d, stored %d, missing %d\n", writes, stored, missing)
	fmt.Printf("soak: start-ups that found progress behind the events (repaired) %d\n", drift)
	fmt.Printf("soak: verify: %s", lastLine(verifyOut))
	fmt.Printf("soak: rebuild --check: %s", lastLine(rebuildOut))
	fmt.Printf("soak: answers contradicting earlier ones %d\n", s.violations.Load())

	fails := outageFails
	if missing > 0 {
		fails = append(fails, fmt.Sprintf("%d writes answered 2xx are not in the database", missing))
	}
	if verifyErr != nil {
		fails = append(fails, "verify failed: "+verifyOut)
	}
	if rebuildErr != nil {
		fails = append(fails, "progress differs from the events: "+rebuildOut)
	}
	if kills < minKills {
		fails = append(fails, fmt.Sprintf("only %d kills (want %d): run longer", kills, minKills))
	}
	if v := s.violations.Load(); v > 0 {
		fails = append(fails, fmt.Sprintf("%d answers contradicted earlier ones", v))
	}
	if s.answered2xx.Load() == 0 {
		fails = append(fails, "no request was answered")
	}
	if n := s.status(500); n > 0 {
		fails = append(fails, fmt.Sprintf("%d answers were 500", n))
	}
	if len(fails) > 0 {
		fmt.Println("soak: server log tail:\n" + tail(filepath.Join(dir, "server.log"), 30))
		return errors.New(strings.Join(fails, "; "))
	}
	fmt.Printf("soak: PASS in %s\n", time.Since(started).Round(time.Second))
	return nil
}

// cli runs a command of the binary on the soak's data folder.
func (s *soak) cli(stdin string, args ...string) (string, error) {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("portal %s: %w: %s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), nil
}

func (s *soak) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTAL_") && !strings.HasPrefix(kv, "MONGODB_URI=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PORTAL_DATA="+s.data, "PORTAL_ADDR="+s.addr)
	if s.uri != "" {
		env = append(env, "MONGODB_URI="+s.uri)
	}
	if s.pg != nil {
		env = append(env, "PORTAL_POSTGRESQL_URL="+s.pg.PostgreSQLURL)
	}
	return env
}

// start starts the server and waits until it is ready.
func (s *soak) start() (*exec.Cmd, error) {
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := c.Get(s.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("the server did not become ready in 30 s:\n%s", tail(s.logFile.Name(), 20))
}

func (s *soak) claim(c claim) {
	s.mu.Lock()
	s.claims = append(s.claims, c)
	s.mu.Unlock()
}

func (s *soak) count(status int) {
	v, _ := s.statuses.LoadOrStore(status, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
}

func (s *soak) status(status int) int64 {
	if v, ok := s.statuses.Load(status); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (s *soak) otherStatuses() string {
	var parts []string
	s.statuses.Range(func(k, v any) bool {
		if st := k.(int); st < 200 || st > 299 {
			parts = append(parts, fmt.Sprintf("%d×%d", v.(*atomic.Int64).Load(), st))
		}
		return true
	})
	slices.Sort(parts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// checkClaims opens the database (the server is stopped), embedded or the
// external one the portal used, and looks up every write answered 2xx.
func (s *soak) checkClaims() (stored, missing int, err error) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{URI: s.uri, DataDir: s.data, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close(ctx)
	store := storage.New(db.Database)
	ids := map[string]string{}
	report := func(c claim, why string) {
		missing++
		if missing <= 20 {
			fmt.Printf("soak: MISSING %s by %s (%s %s): %s\n", c.kind, c.login, c.slug, c.id, why)
		}
	}
	for _, c := range s.claims {
		if c.kind == "read" {
			if ids[c.login] == "" {
				u, err := store.UserByLogin(ctx, c.login)
				if err != nil {
					return 0, 0, err
				}
				ids[c.login] = u.ID
			}
			p, err := store.Progress(ctx, ids[c.login])
			if err != nil {
				return 0, 0, err
			}
			if p.Lessons[c.slug].ReadVersion < c.n {
				report(c, fmt.Sprintf("read_version %d", p.Lessons[c.slug].ReadVersion))
				continue
			}
		}
		switch c.kind {
		case "attempt", "submit":
			a, err := store.Attempt(ctx, c.id)
			if errors.Is(err, model.ErrNotFound) {
				report(c, "no such attempt")
				continue
			} else if err != nil {
				return 0, 0, err
			}
			if c.kind == "submit" && (!a.Submitted || a.Score != c.n || a.Passed != c.passed) {
				report(c, fmt.Sprintf("stored result %v %d %v, answered %d %v", a.Submitted, a.Score, a.Passed, c.n, c.passed))
				continue
			}
		case "ack":
			r, err := store.Receipt(ctx, c.id)
			if errors.Is(err, model.ErrNotFound) {
				report(c, "no such receipt")
				continue
			} else if err != nil {
				return 0, 0, err
			}
			if r.Hash != c.hash {
				report(c, "stored hash differs from the answered one")
				continue
			}
		}
		stored++
	}
	return stored, missing, nil
}

// client is one simulated learner's browser-less app.
type client struct {
	s                  *soak
	http               *http.Client
	ctx                context.Context
	think              time.Duration
	rnd                *rand.Rand
	login, name, token string
}

// do sends a request until it gets an answer (retrying, as a client would,
// while the server is down), and returns the status and JSON body.
func (c *client) do(method, path string, body any) (int, map[string]any, bool) {
	for c.ctx.Err() == nil {
		if c.think > 0 {
			time.Sleep(time.Duration(c.rnd.Int64N(int64(2 * c.think))))
		}
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequestWithContext(c.ctx, method, c.s.base+"/api/v1"+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		c.s.requests.Add(1)
		res, err := c.http.Do(req)
		if err != nil {
			c.s.unanswered.Add(1)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			c.s.unanswered.Add(1)
			continue
		}
		c.s.count(res.StatusCode)
		if res.StatusCode == http.StatusServiceUnavailable {
			time.Sleep(100 * time.Millisecond)
			continue // the database is starting or gone: try again
		}
		if res.StatusCode/100 == 2 {
			c.s.answered2xx.Add(1)
		}
		var obj map[string]any
		_ = json.Unmarshal(raw, &obj)
		return res.StatusCode, obj, true
	}
	return 0, nil, false
}

// learn walks the learner through every lesson: read, quiz until passed,
// acknowledge. It returns false when the load is over.
func (c *client) learn() bool {
	slugs := slices.Sorted(mapsKeys(c.s.quizzes))
	c.rnd.Shuffle(len(slugs), func(i, j int) { slugs[i], slugs[j] = slugs[j], slugs[i] })
	for _, slug := range slugs {
		st, les, ok := c.do("GET", "/lessons/"+slug, nil)
		if !ok {
			return false
		}
		if st != http.StatusOK {
			c.s.violations.Add(1)
			continue
		}
		version := int(les["version"].(float64))
		if st, _, ok := c.do("POST", "/lessons/"+slug+"/read", nil); !ok {
			return false
		} else if st == http.StatusOK {
			c.s.claim(claim{kind: "read", login: c.login, slug: slug, n: version})
		}
		for passed := false; !passed; {
			st, at, ok := c.do("POST", "/lessons/"+slug+"/attempts", nil)
			if !ok {
				return false
			}
			if st == http.StatusConflict {
				break // passed already: the answer to an earlier submit was lost
			}
			if st != http.StatusCreated {
				c.s.violations.Add(1)
				break
			}
			id := at["id"].(string)
			c.s.claim(claim{kind: "attempt", login: c.login, id: id, slug: slug})
			answers := map[string][]string{}
			right := c.rnd.IntN(10) < 7
			for _, q := range at["questions"].([]any) {
				qid := q.(map[string]any)["id"].(string)
				qq, _ := c.s.quizzes[slug].Question(qid)
				if right {
					answers[qid] = qq.Answer
				} else {
					answers[qid] = []string{"wrong"}
				}
			}
			st, res, ok := c.do("POST", "/attempts/"+id+"/submit", map[string]any{"answers": answers})
			if !ok {
				return false
			}
			if st != http.StatusOK {
				c.s.violations.Add(1)
				break
			}
			passed = res["passed"].(bool)
			c.s.claim(claim{kind: "submit", login: c.login, id: id, slug: slug, n: int(res["score"].(float64)), passed: passed})
			// Sometimes the client submits again (a double click): same result.
			if c.rnd.IntN(5) == 0 {
				if st, again, ok := c.do("POST", "/attempts/"+id+"/submit", map[string]any{"answers": map[string][]string{}}); ok &&
					(st != http.StatusOK || again["score"] != res["score"]) {
					c.s.violations.Add(1)
				}
			}
		}
		st, rec, ok := c.do("POST", "/lessons/"+slug+"/acknowledgements", map[string]any{"version": version, "signature": c.name})
		if !ok {
			return false
		}
		if st != http.StatusCreated {
			c.s.violations.Add(1)
			continue
		}
		c.s.claim(claim{kind: "ack", login: c.login, id: rec["id"].(string), slug: slug, hash: rec["hash"].(string)})
	}
	return true
}

// revisit acknowledges a finished lesson again (the same receipt must come
// back), reads again, and checks the learner's chain as the API shows it.
func (c *client) revisit() {
	slugs := slices.Sorted(mapsKeys(c.s.quizzes))
	slug := slugs[c.rnd.IntN(len(slugs))]
	st, rec, ok := c.do("POST", "/lessons/"+slug+"/acknowledgements", map[string]any{"version": 1, "signature": c.name})
	if !ok {
		return
	}
	if st != http.StatusCreated {
		c.s.violations.Add(1)
		return
	}
	c.s.claim(claim{kind: "ack", login: c.login, id: rec["id"].(string), slug: slug, hash: rec["hash"].(string)})
	if st, _, ok := c.do("POST", "/lessons/"+slug+"/read", nil); ok && st == http.StatusOK {
		c.s.claim(claim{kind: "read", login: c.login, slug: slug, n: 1})
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// freeLoopbackAddr picks a loopback port the server can take each restart.
func freeLoopbackAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func countInLog(file, needle string) int {
	raw, _ := os.ReadFile(file)
	return bytes.Count(raw, []byte(needle))
}

func tail(file string, n int) string {
	raw, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1] + "\n"
}

// outage takes FerretDB away from a running portal for a few seconds:
// every request must answer 503 within 5 s (never hang), and once the
// database is back the portal must serve writes again without a restart.
// The writes it makes are claims like the load's. It returns what failed.
func (s *soak) outage(login, token string) ([]string, error) {
	cmd, err := s.start()
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	slug := slices.Sorted(mapsKeys(s.quizzes))[0]
	hc := &http.Client{Timeout: 15 * time.Second} // longer than the portal's own deadline
	call := func(method, path string) (int, time.Duration) {
		req, _ := http.NewRequest(method, s.base+"/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		res, err := hc.Do(req)
		took := time.Since(t0)
		if err != nil {
			return 0, took
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, took
	}
	var fails []string
	if st, _ := call("POST", "/lessons/"+slug+"/read"); st != http.StatusOK {
		return []string{fmt.Sprintf("outage: a write before the outage answered %d", st)}, nil
	}
	s.claim(claim{kind: "read", login: login, slug: slug, n: 1})

	s.pg.StopFerretDB()
	down := time.Now()
	answers := map[int]int{}
	var timings []string
	for time.Since(down) < 4*time.Second {
		for _, r := range [][2]string{{"GET", "/me/lessons"}, {"POST", "/lessons/" + slug + "/read"}, {"GET", "/lessons/" + slug}} {
			st, took := call(r[0], r[1])
			answers[st]++
			timings = append(timings, took.Round(time.Millisecond).String())
			if st != http.StatusServiceUnavailable {
				fails = append(fails, fmt.Sprintf("outage: %s %s answered %d after %s, want 503", r[0], r[1], st, took.Round(time.Millisecond)))
			} else if took > 5*time.Second {
				fails = append(fails, fmt.Sprintf("outage: %s %s took %s to answer 503 (want within 5 s)", r[0], r[1], took.Round(time.Millisecond)))
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := s.pg.StartFerretDB(); err != nil {
		return nil, err
	}
	back := time.Now()
	recovered := time.Duration(0)
	for time.Since(back) < 60*time.Second {
		if st, _ := call("POST", "/lessons/"+slug+"/read"); st == http.StatusOK {
			recovered = time.Since(back)
			s.claim(claim{kind: "read", login: login, slug: slug, n: 1})
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var codes []string
	for st, n := range answers {
		codes = append(codes, fmt.Sprintf("%d×%d", n, st))
	}
	slices.Sort(codes)
	fmt.Printf("soak: outage: FerretDB stopped %s; answers %s in %s; after it started again, a write answered 200 in %s, no portal restart\n",
		back.Sub(down).Round(time.Millisecond), strings.Join(codes, ", "), strings.Join(timings, " "), recovered.Round(time.Millisecond))
	if recovered == 0 {
		fails = append(fails, "outage: the portal did not serve a write within 60 s of the database's return")
	}
	if len(fails) > 5 {
		fails = append(fails[:5], fmt.Sprintf("and %d more", len(fails)-5))
	}
	return fails, nil
}
