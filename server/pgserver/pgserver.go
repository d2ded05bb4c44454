// Package pgserver starts a throw-away PostgreSQL cluster with FerretDB in
// front of it, for the load drivers (bench, soak) to run the portal on
// PostgreSQL. FerretDB runs in a child process of the calling program, so
// it is not in the load generator's process and can be stopped and started
// again (an outage): that program calls Host first thing in main.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// hostArg is the first argument of the child process that serves FerretDB.
const hostArg = "host-ferretdb"

// Server is a PostgreSQL cluster in a folder with FerretDB on a Unix
// socket in front of it; URI names FerretDB for MONGODB_URI, and
// PostgreSQLURL the database behind it (PORTAL_POSTGRESQL_URL).
type Server struct {
	URI, PostgreSQLURL string

	dir, pgURL, sock string
	pgRun            func(name string, args ...string) error
	data             string

	mu      sync.Mutex
	ferret  *exec.Cmd
	logFile *os.File
}

// Start makes a cluster in dir/pg with Debian's PostgreSQL (installed with
// apt-get when missing and running as root), starts it on a socket in that
// folder, and FerretDB's PostgreSQL handler in a child process.
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := postgresBin(ctx)
	if err != nil {
		return nil, err
	}
	pg := filepath.Join(dir, "pg")
	if err := os.Mkdir(pg, 0o700); err != nil {
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	// PostgreSQL refuses to run as root: then it runs as "postgres".
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgserver: running as root needs the postgres account: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(pg, uid, gid); err != nil {
			return nil, fmt.Errorf("pgserver: %w", err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} // #nosec G115 -- ids from the passwd file
	}
	s := &Server{dir: dir, sock: filepath.Join(dir, "ferretdb.sock"), data: filepath.Join(pg, "data")}
	s.pgRun = func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...) // #nosec G204 -- PostgreSQL's own tools
		cmd.Dir = pg
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("pgserver: %s: %w\n%s", name, err, out)
		}
		return nil
	}
	if err := s.pgRun("initdb", "-D", s.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, err
	}
	// Durable like the embedded database (fsync on), on a socket only.
	if err := s.pgRun("pg_ctl", "-D", s.data, "-l", filepath.Join(pg, "log"), "-w", "-o",
		"-k "+pg+" -c listen_addresses= -c max_connections=200 -c shared_buffers=128MB", "start"); err != nil {
		return nil, err
	}
	s.pgURL = "postgres://postgres@/postgres?host=" + url.QueryEscape(pg)
	if s.logFile, err = os.Create(filepath.Join(dir, "ferretdb.log")); err != nil {
		s.stopPG()
		return nil, fmt.Errorf("pgserver: %w", err)
	}
	if err := s.StartFerretDB(); err != nil {
		s.Stop()
		return nil, err
	}
	s.URI = "mongodb://" + url.PathEscape(s.sock) + "/"
	s.PostgreSQLURL = s.pgURL
	return s, nil
}

// StartFerretDB starts FerretDB (again, after StopFerretDB) and waits for
// its socket.
func (s *Server) StartFerretDB() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ferret != nil {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	_ = os.Remove(s.sock)                               // a socket left by a killed FerretDB
	cmd := exec.Command(self, hostArg, s.pgURL, s.sock) // #nosec G204 -- this program, re-run
	cmd.Stdout, cmd.Stderr = s.logFile, s.logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgserver: FerretDB: %w", err)
	}
	s.ferret = cmd
	for t0 := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(s.sock); err == nil {
			return nil
		}
		if time.Since(t0) > 30*time.Second {
			return fmt.Errorf("pgserver: FerretDB did not start; see %s", s.logFile.Name())
		}
	}
}

// StopFerretDB stops FerretDB, leaving PostgreSQL up: clients of URI meet
// a database that is gone until StartFerretDB.
func (s *Server) StopFerretDB() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ferret == nil {
		return
	}
	_ = s.ferret.Process.Signal(syscall.SIGTERM)
	_ = s.ferret.Wait()
	s.ferret = nil
}

// Stop stops FerretDB and PostgreSQL.
func (s *Server) Stop() {
	s.StopFerretDB()
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
	s.stopPG()
}

func (s *Server) stopPG() { _ = s.pgRun("pg_ctl", "-D", s.data, "-m", "fast", "-w", "stop") }

// Host serves FerretDB when this process is the child Start runs, and then
// exits; otherwise it returns at once. Call it first in main.
func Host() {
	if len(os.Args) < 2 || os.Args[1] != hostArg {
		return
	}
	if err := hostFerretDB(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "pgserver: ferretdb:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// hostFerretDB serves FerretDB's PostgreSQL handler on a Unix socket
// until SIGTERM.
func hostFerretDB(args []string) error {
	if len(args) != 2 {
		return errors.New("pgserver: usage: " + hostArg + " POSTGRESQL_URL SOCKET")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{Unix: args[1]},
		Handler:       "postgresql",
		PostgreSQLURL: args[0],
		Logger:        quiet,
	})
	if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	return f.Run(ctx)
}

// Installed tells whether PostgreSQL's programs are on this machine, for
// the tests, which must not install them (Start would).
func Installed() bool { return findBin() != "" }

// findBin is the folder of PostgreSQL's programs, or "".
func findBin() string {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(m) > 0 {
		return filepath.Dir(m[len(m)-1])
	}
	return ""
}

// postgresBin finds PostgreSQL's programs, installing Debian's package
// when they are missing (the load drivers only; tests check Installed).
func postgresBin(ctx context.Context) (string, error) {
	if b := findBin(); b != "" {
		return b, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("pgserver: PostgreSQL is not installed: apt-get install postgresql, or BENCH_BACKENDS=sqlite")
	}
	fmt.Println("pgserver: installing PostgreSQL with apt-get...")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...) // #nosec G204 -- fixed arguments
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("pgserver: apt-get %v: %w\n%s", args, err, out)
		}
	}
	if b := findBin(); b != "" {
		return b, nil
	}
	return "", errors.New("pgserver: PostgreSQL installed, but pg_ctl not found")
}
