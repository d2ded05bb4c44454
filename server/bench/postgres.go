package main

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
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// pgServer is a PostgreSQL cluster in a temporary folder with FerretDB
// in front of it, on Unix sockets only.
type pgServer struct {
	uri  string
	stop func()
}

// startPostgres makes a cluster in dir/pg with Debian's PostgreSQL
// (installed with apt-get when missing), starts it on a socket in that
// folder, and FerretDB's PostgreSQL handler in a child process.
func startPostgres(ctx context.Context, dir string) (*pgServer, error) {
	bin, err := postgresBin(ctx)
	if err != nil {
		return nil, err
	}
	pg := filepath.Join(dir, "pg")
	if err := os.Mkdir(pg, 0o700); err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: then it runs as "postgres".
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs the postgres account: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(pg, uid, gid); err != nil {
			return nil, err
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)} // #nosec G115 -- ids from the passwd file
	}
	pgRun := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...) // #nosec G204 -- PostgreSQL's own tools
		cmd.Dir = pg
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(pg, "data")
	if err := pgRun("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		return nil, err
	}
	// Durable like the embedded database (fsync on), on a socket only.
	if err := pgRun("pg_ctl", "-D", data, "-l", filepath.Join(pg, "log"), "-w", "-o",
		"-k "+pg+" -c listen_addresses= -c max_connections=200 -c shared_buffers=128MB", "start"); err != nil {
		return nil, err
	}
	stopPG := func() { _ = pgRun("pg_ctl", "-D", data, "-m", "fast", "-w", "stop") }
	pgURL := "postgres://postgres@/postgres?host=" + url.QueryEscape(pg)

	self, err := os.Executable()
	if err != nil {
		stopPG()
		return nil, err
	}
	sock := filepath.Join(dir, "ferretdb.sock")
	logf, err := os.Create(filepath.Join(dir, "ferretdb.log"))
	if err != nil {
		stopPG()
		return nil, err
	}
	cmd := exec.Command(self, "host-ferretdb", pgURL, sock) // #nosec G204 -- this program, re-run
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		stopPG()
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		_ = logf.Close()
		stopPG()
	}
	for t0 := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Since(t0) > 30*time.Second {
			stop()
			return nil, fmt.Errorf("FerretDB did not start; see %s", logf.Name())
		}
	}
	return &pgServer{uri: "mongodb://" + url.PathEscape(sock) + "/", stop: stop}, nil
}

// postgresBin finds PostgreSQL's programs, installing Debian's package
// when they are missing (the benchmark only; tests never need it).
func postgresBin(ctx context.Context) (string, error) {
	find := func() string {
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
	if b := find(); b != "" {
		return b, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("PostgreSQL is not installed: apt-get install postgresql, or BENCH_BACKENDS=sqlite")
	}
	fmt.Println("bench: installing PostgreSQL with apt-get...")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...) // #nosec G204 -- fixed arguments
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %v: %w\n%s", args, err, out)
		}
	}
	if b := find(); b != "" {
		return b, nil
	}
	return "", errors.New("PostgreSQL installed, but pg_ctl not found")
}

// hostFerretDB serves FerretDB's PostgreSQL handler on a Unix socket
// until SIGTERM: the child process of startPostgres.
func hostFerretDB(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: bench host-ferretdb POSTGRESQL_URL SOCKET")
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
		return err
	}
	return f.Run(ctx)
}

// withPostgres starts PostgreSQL and FerretDB in a temporary folder, runs
// args with PORTAL_TEST_MONGODB_URI naming it, and stops them; it returns
// the command's exit code.
func withPostgres(args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("usage: bench with-postgres [--] COMMAND [ARG...]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "portal-pg-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	// #nosec G302 -- PostgreSQL runs as its own account and needs to reach its folder below
	if err := os.Chmod(dir, 0o755); err != nil {
		return 1, err
	}
	pg, err := startPostgres(ctx, dir)
	if err != nil {
		return 1, err
	}
	defer pg.stop()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) // #nosec G204 -- the command the caller asked for
	cmd.Env = append(os.Environ(), "PORTAL_TEST_MONGODB_URI="+pg.uri)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
