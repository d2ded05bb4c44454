// Command bench measures the real portal binary on a seeded database:
// it seeds employees with mixed progress, starts bin/portal on it, and
// drives it over loopback from this separate process. For each request
// kind it prints requests/s, p50, p99 and errors; beside them the same
// server's throughput on a static file of the lesson page's size (the
// ceiling), the time from start to ready, and the server's peak RSS. It
// runs on the embedded database (SQLite) and on FerretDB's PostgreSQL
// backend. "make bench" runs it.
//
//	go run ./server/bench -bin bin/portal
//
// Environment: BENCH_EMPLOYEES (10000), BENCH_BACKENDS (sqlite,postgresql),
// BENCH_SECONDS per measurement (5), BENCH_CLIENTS concurrent clients (8),
// BENCH_PROFILES a folder for a CPU profile of the server per request kind
// and a heap profile after the start-up jobs (<backend>-after-startup.heap.pprof;
// unset: none; the server then serves its profiles on loopback),
// BENCH_SYNC_PEOPLE the people of the directory sync figures (100000;
// BENCH_SYNC=off skips them), BENCH_ONLY the lines to run, as words of
// their names separated by commas ("quiz": quiz start and submit; unset:
// every line; the ceiling and what a chosen line needs always run).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"conductportal/server/pgserver"
)

func main() {
	// The PostgreSQL run hosts FerretDB in a child process of this
	// program, so the database is not in the load generator's process.
	pgserver.Host()
	// with-postgres runs a command (the burst tests, say) against FerretDB
	// on a fresh PostgreSQL, named by PORTAL_TEST_MONGODB_URI.
	if len(os.Args) > 1 && os.Args[1] == "with-postgres" {
		code, err := withPostgres(os.Args[2:])
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: with-postgres:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	bin := flag.String("bin", "bin/portal", "the portal binary")
	keep := flag.Bool("keep", false, "keep the temporary folders")
	flag.Parse()
	opts := options{
		bin:        *bin,
		keep:       *keep,
		employees:  envInt("BENCH_EMPLOYEES", 10000),
		seconds:    envInt("BENCH_SECONDS", 5),
		clients:    envInt("BENCH_CLIENTS", 8),
		backends:   strings.Split(envString("BENCH_BACKENDS", "sqlite,postgresql"), ","),
		profiles:   os.Getenv("BENCH_PROFILES"),
		syncPeople: envInt("BENCH_SYNC_PEOPLE", 100000),
		sync:       envString("BENCH_SYNC", "on") != "off",
		only:       words(os.Getenv("BENCH_ONLY")),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAIL:", err)
		os.Exit(1)
	}
}

type options struct {
	bin                         string
	keep                        bool
	employees, seconds, clients int
	backends                    []string
	profiles                    string // folder for CPU profiles, or ""
	sync                        bool   // measure the directory sync (BENCH_SYNC=off: not)
	syncPeople                  int
	only                        []string // BENCH_ONLY's words, lower case; nil: every line
}

// ceilingLine is the static file's line, which every run measures: the
// other lines are given as a share of it.
const ceilingLine = "static file (ceiling)"

// The lines of issue 17's first two rows.
const (
	oneUserLine = "lesson page, one user"
	cssLine     = "static stylesheet"
	apiLine     = "lesson API"
)

// needs names the line each line's load comes from: a quiz is submitted
// after it is started, and so on.
var needs = map[string]string{
	"quiz submit":              "quiz start",
	"acknowledgement":          "quiz submit",
	"lesson page at half peak": "lesson page",
	apiLine:                    cssLine,
	"My training at half peak": "My training",
}

// wants reports whether BENCH_ONLY selects the line called name, or a line
// that needs it.
func (o options) wants(name string) bool {
	if o.only == nil || name == ceilingLine {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range o.only {
		if strings.Contains(lower, w) {
			return true
		}
	}
	for line, need := range needs {
		if need == name && o.wants(line) {
			return true
		}
	}
	return false
}

// words splits a comma-separated list into lower-case words; nil when empty.
func words(list string) []string {
	var out []string
	for w := range strings.SplitSeq(list, ",") {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func envString(k, def string) string {
	if v := strings.TrimSpace(os.Getenv(k)); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options) error {
	abs, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("no binary at %s (make build): %w", o.bin, err)
	}
	o.bin = abs
	if o.profiles != "" {
		if err := os.MkdirAll(o.profiles, 0o750); err != nil {
			return err
		}
	}
	if o.sync {
		if err := syncFigures(ctx, o, o.syncPeople); err != nil {
			return err
		}
	}
	var reports []*report
	for _, b := range o.backends {
		b = strings.TrimSpace(b)
		if b == "" || b == "none" {
			continue
		}
		if b != "sqlite" && b != "postgresql" {
			return fmt.Errorf("BENCH_BACKENDS: unknown backend %q (sqlite, postgresql)", b)
		}
		r, err := runBackend(ctx, o, b)
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		reports = append(reports, r)
		r.print(os.Stdout)
	}
	if len(reports) == 0 && !o.sync {
		return errors.New("BENCH_BACKENDS names no backend")
	}
	if len(reports) > 1 {
		printSideBySide(os.Stdout, reports)
	}
	return nil
}

// runBackend seeds a database on one backend, starts the portal on it and
// measures it.
func runBackend(ctx context.Context, o options, backend string) (*report, error) {
	dir, err := os.MkdirTemp("", "portal-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Println("bench: folder", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// #nosec G302 -- PostgreSQL runs as its own account and needs to reach its folder below
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	env := []string{"PORTAL_DATA=" + filepath.Join(dir, "data")}
	if backend == "postgresql" {
		db, err := pgserver.Start(ctx, dir)
		if err != nil {
			return nil, err
		}
		defer db.Stop()
		env = append(env, "MONGODB_URI="+db.URI, "PORTAL_POSTGRESQL_URL="+db.PostgreSQLURL)
	}
	fmt.Printf("bench: %s: seeding %d employees...\n", backend, o.employees)
	t0 := time.Now()
	seeded, err := seed(ctx, env, o.employees)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	fmt.Printf("bench: %s: seeded in %s; the database alone: a read by _id %s, a scan of the users %s\n", backend,
		time.Since(t0).Round(time.Millisecond), seeded.idRead.Round(time.Microsecond), seeded.scan.Round(time.Millisecond))
	r := &report{backend: backend, employees: o.employees, clients: o.clients, seconds: o.seconds}
	if err := measure(ctx, o, dir, env, seeded, r); err != nil {
		return nil, err
	}
	return r, nil
}
