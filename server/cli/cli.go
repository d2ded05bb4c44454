// Package cli reads the command line and runs the server or one of the
// admin commands. Start-up reads top to bottom: config, logger, database,
// schema, content, accounts, serve.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	portal "conductportal"
	"conductportal/server/auth"
	"conductportal/server/config"
	"conductportal/server/database"
	"conductportal/server/lesson"
	"conductportal/server/logging"
	"conductportal/server/metrics"
	"conductportal/server/storage"
	"conductportal/server/training"
)

const usage = `Conduct Portal: teaches the company's rules and proves staff learned them.

Usage: portal [command] [flags]

Commands:
  serve          serve the portal (the default)
  user add       create an account
  user reset-mfa turn off a person's second factor (they enrol again when required)
  token create   print an API token that acts as a user (--scope, --expires)
  token list     list API tokens with their scopes and last use
  token revoke   revoke an API token by the ID token list shows
  import         check or publish a content folder
  export content DIR  write the current lessons and quizzes as a content folder
  verify         check every receipt chain and the texts receipts name
  rebuild        recompute progress from attempts and receipts
  backup FILE    write the whole database to a file
  restore FILE   read a backup into an empty database
  help           show this text

Each command takes --help. Settings come from the environment (see README).
`

// Run runs the command in args and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if (cmd == "user" || cmd == "token" || cmd == "export") && len(args) > 0 {
		cmd, args = cmd+" "+args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stdout, stderr)
	case "user add":
		err = userAdd(ctx, args, stdin, stdout, stderr)
	case "user reset-mfa":
		err = userResetMFA(ctx, args, stdout, stderr)
	case "token create":
		err = tokenCreate(ctx, args, stdout, stderr)
	case "token list":
		err = tokenList(ctx, args, stdout, stderr)
	case "token revoke":
		err = tokenRevoke(ctx, args, stdout, stderr)
	case "import":
		err = importContent(ctx, args, stdout, stderr)
	case "export content":
		err = exportContent(ctx, args, stdout, stderr)
	case "verify":
		err = verify(ctx, args, stdout, stderr)
	case "rebuild":
		err = rebuild(ctx, args, stdout, stderr)
	case "backup":
		err = backupCmd(ctx, args, stdout, stderr)
	case "restore":
		err = restoreCmd(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "portal: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errProblems):
		return 1
	default:
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 1
	}
}

var errUsage = errors.New("usage")

// newFlags returns a flag set that prints its usage to stderr.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: portal %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// newLogger builds the one logger of the process.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	return logging.New(cfg.LogFormat, w)
}

// dbOptions are the database settings of cfg, with the secret key that
// schema steps seal stored secrets with.
func dbOptions(cfg *config.Config, log *slog.Logger) (database.Options, error) {
	box, err := secretBox(cfg, log)
	if err != nil {
		return database.Options{}, err
	}
	return database.Options{URI: cfg.MongoURI, DataDir: cfg.DataDir, Logger: log, Secrets: box}, nil
}

// openStore connects to the configured database and applies the schema.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*database.DB, *storage.Storage, error) {
	return openStoreMetrics(ctx, cfg, log, nil)
}

// openStoreMetrics is openStore timing every database command in m (when
// not nil).
func openStoreMetrics(ctx context.Context, cfg *config.Config, log *slog.Logger, m *metrics.Metrics) (*database.DB, *storage.Storage, error) {
	opts, err := dbOptions(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if m != nil {
		opts.Observe = m.DBCommand
	}
	db, err := database.Open(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx, log); err != nil {
		_ = db.Close(context.Background())
		return nil, nil, err
	}
	if _, err := db.IndexEmbeddedIDs(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, nil, err
	}
	store := storage.New(db.Database)
	if db.Embedded {
		store.SetSoleWriter() // the embedded database's folder is locked to this process
	} else {
		store.SetShared()
	}
	return db, store, nil
}

// withStore opens the configured database (schema applied) for a one-off
// command, runs fn, and closes it.
func withStore(ctx context.Context, stderr io.Writer, fn func(store *storage.Storage, log *slog.Logger) error) error {
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	return fn(store, log)
}

// contentFS is the content to import: PORTAL_CONTENT, or the embedded one.
func contentFS(cfg *config.Config) fs.FS {
	if cfg.ContentDir != "" {
		return os.DirFS(cfg.ContentDir)
	}
	return portal.Assets
}

// loadBundle validates content and reports every problem on w.
func loadBundle(fsys fs.FS, name string, w io.Writer) (*training.Bundle, error) {
	b, probs := training.LoadBundle(fsys)
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintf(w, "%s: %s\n", name, p.Error())
		}
		return nil, fmt.Errorf("cli: %d problem(s) in the content of %s", len(probs), name)
	}
	return b, nil
}

func newTraining(store *storage.Storage, log *slog.Logger) *training.Service {
	return training.New(store, lesson.NewRenderer(), log, nil)
}

func newAuth(store *storage.Storage) *auth.Service { return auth.New(store, nil) }
