package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"conductportal/server/config"
)

// healthcheck asks the portal on PORTAL_ADDR for /healthz (or /readyz):
// the container's HEALTHCHECK, in an image that has no shell or curl.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", "healthcheck [--ready] [--addr host:port]\n\n"+
		"Exits 0 when the portal serving on PORTAL_ADDR answers /healthz (with --ready:\n"+
		"/readyz, the database reachable) within 3 seconds, 1 otherwise.", stdout, stderr)
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	addr := fs.String("addr", cfg.Addr, "the portal's address (PORTAL_ADDR)")
	ready := fs.Bool("ready", false, "ask /readyz: the database answers too")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("cli: healthcheck: %q: %w", *addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // listening on every address: ask this machine's
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := "http://" + net.JoinHostPort(host, port) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("cli: healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cli: healthcheck: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("cli: healthcheck: %s answered %s", u, res.Status)
	}
	fmt.Fprintf(stdout, "%s: %s\n", u, res.Status)
	return nil
}
