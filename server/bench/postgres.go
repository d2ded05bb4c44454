package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"conductportal/server/pgserver"
)

// withPostgres starts PostgreSQL and FerretDB in a temporary folder, runs
// args with PORTAL_TEST_MONGODB_URI naming it (and PORTAL_TEST_POSTGRESQL_URL
// the PostgreSQL behind it), and stops them; it returns
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
	pg, err := pgserver.Start(ctx, dir)
	if err != nil {
		return 1, err
	}
	defer pg.Stop()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) // #nosec G204 -- the command the caller asked for
	cmd.Env = append(os.Environ(), "PORTAL_TEST_MONGODB_URI="+pg.URI, "PORTAL_TEST_POSTGRESQL_URL="+pg.PostgreSQLURL)
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
