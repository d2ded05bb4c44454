package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	portal "conductportal"
	"conductportal/server/backup"
	"conductportal/server/config"
	"conductportal/server/demo"
	"conductportal/server/model"
	"conductportal/server/storage"
)

// errNotEmpty refuses a demo over data someone may need.
var errNotEmpty = errors.New("cli: demo: the demo fills an empty database only")

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo\n\nFills an EMPTY data folder (PORTAL_DATA, default ./data) with a sample company:\n"+
		"departments, HR, managers and 60 employees in every state, with real quiz attempts and\n"+
		"signed receipts. Prints the logins and the one password they share; then run 'portal serve'.\n"+
		"Every page then says the data are samples. Refuses a folder (or MONGODB_URI database) with data.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	if cfg.ContentDir != "" {
		return errors.New("cli: demo: the sample company follows the lessons built into the portal; unset PORTAL_CONTENT")
	}
	if cfg.MongoURI == "" {
		// Checked before the database is opened, which makes files there.
		entries, err := os.ReadDir(cfg.DataDir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cli: demo: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("%w: %s is not empty (use another folder: PORTAL_DATA=./demo-data portal demo)", errNotEmpty, cfg.DataDir)
		}
	}
	bundle, err := loadBundle(portal.Assets, "embedded content", stdout)
	if err != nil {
		return err
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		if empty, full, err := backup.Empty(ctx, store); err != nil {
			return err
		} else if !empty {
			return fmt.Errorf("%w: collection %s of MONGODB_URI has documents", errNotEmpty, full)
		}
		started := time.Now()
		res, err := demo.Fill(ctx, demo.Options{Store: store, Bundle: bundle, Content: portal.Assets, Log: log})
		if err != nil {
			return err
		}
		printDemo(stdout, cfg, res, time.Since(started))
		return nil
	})
}

// printDemo tells the newcomer whom to log in as, and what each sees.
func printDemo(w io.Writer, cfg *config.Config, res *demo.Result, took time.Duration) {
	where := cfg.DataDir
	if cfg.MongoURI != "" {
		where = "MONGODB_URI"
	}
	fmt.Fprintf(w, "\nDemo company created in %s in %s: %d people, %d quiz attempts, %d signed receipts.\n\n",
		where, took.Round(100*time.Millisecond), len(res.Accounts), res.Attempts, res.Receipts)
	fmt.Fprintf(w, "  Every account's password:  %s\n\n", res.Password)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Names last: tabwriter counts a Chinese character as one column.
	fmt.Fprintln(tw, "  LOGIN\tWHAT THEY SEE\tWHO")
	seen := map[string]bool{}
	for _, a := range res.Accounts {
		switch {
		case a.Story == "":
			fmt.Fprintf(tw, "  %s\t%s\t%s, %s\n", a.Login, staffRole(a), a.Name, a.Department)
		case !seen[a.Story]:
			seen[a.Story] = true
			fmt.Fprintf(tw, "  %s\t%s\t%s, %s, team of %s\n", a.Login, demo.StoryText[a.Story], a.Name, a.Department, a.Manager)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n  HR's /hr/people lists all %d. Start the portal with 'make run' (or 'portal serve')\n"+
		"  and open http://%s; every page shows that the data are samples.\n\n", len(res.Accounts), cfg.Addr)
}

func staffRole(a demo.Account) string {
	switch {
	case a.Manages != "":
		return "department manager: /team shows the whole department"
	case slices.Contains(a.Roles, model.RoleManager):
		return "manager: their team at /team"
	case slices.Contains(a.Roles, model.RoleHR):
		return "HR: /organisation, /hr/lessons (edit, publish), /hr/people"
	default:
		return "administrator: accounts and API tokens (/admin/tokens)"
	}
}
