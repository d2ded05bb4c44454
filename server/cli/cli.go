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
	"text/tabwriter"

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

// command is one line of the command table: Run dispatches on it, the
// overview and "portal help" list it, and a test walks it, so a command
// is reachable, described and helped in one place.
type command struct {
	name    string // as typed: "verify", "user add"
	args    string // what follows the name in the overview
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

// noInput adapts a command that reads no standard input.
func noInput(f func(context.Context, []string, io.Writer, io.Writer) error) func(context.Context, []string, io.Reader, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return f(ctx, args, stdout, stderr)
	}
}

// commands is every command, in the order the overview lists them.
var commands = []command{
	{"serve", "[--addr host:port]", "serve the portal (the default)", noInput(serve)},
	{"demo", "", "fill an empty data folder with a sample company to try the portal", noInput(demoCmd)},
	{"user add", "--login L --name N ...", "create an account", userAdd},
	{"user reset-mfa", "--login L", "turn off a person's second factor (they enrol again when required)", noInput(userResetMFA)},
	{"user reset-sso", "--login L", "unbind a person from their sign-on account (the next sign-on binds by login again)", noInput(userResetSSO)},
	{"token create", "--login L ...", "print an API token that acts as a user (--scope, --expires)", noInput(tokenCreate)},
	{"token list", "[--login L]", "list API tokens with their scopes and last use", noInput(tokenList)},
	{"token revoke", "ID", "revoke an API token by the ID token list shows", noInput(tokenRevoke)},
	{"import", "[--check] [DIR]", "check or publish a content folder", noInput(importContent)},
	{"export content", "DIR", "write the current lessons and quizzes as a content folder", noInput(exportContent)},
	{"verify", "[--checkpoints FILE]", "check every receipt chain and the texts receipts name (and against signed checkpoints)", noInput(verify)},
	{"checkpoint", "", "sign the heads of the receipt chains into PORTAL_DATA/checkpoints.jsonl", noInput(checkpointCmd)},
	{"rebuild", "[--check]", "recompute progress from attempts and receipts", noInput(rebuild)},
	{"backup", "FILE", "write the whole database (and the secret key) to a file", noInput(backupCmd)},
	{"restore", "FILE", "read a backup into an empty database", noInput(restoreCmd)},
	{"healthcheck", "[--ready]", "exit 0 when the portal on PORTAL_ADDR answers /healthz (a container's check)", noInput(healthcheck)},
	{"version", "", "print the version, commit and build date", noInput(versionCmd)},
	{"help", "[COMMAND]", "show this text, or a command's help", nil},
}

// Commands lists the names of every command ("user add" for a
// sub-command), for tests that walk them all.
func Commands() []string {
	out := make([]string, 0, len(commands))
	for _, c := range commands {
		out = append(out, c.name)
	}
	return out
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// isGroup reports whether name is a word that takes a sub-command
// ("user" of "user add").
func isGroup(name string) bool {
	for _, c := range commands {
		if strings.HasPrefix(c.name, name+" ") {
			return true
		}
	}
	return false
}

// overview writes the list of commands (of one group, when group is set).
func overview(w io.Writer, group string) {
	if group == "" {
		fmt.Fprint(w, "Conduct Portal: teaches the company's rules and proves staff learned them.\n\n"+
			"Usage: portal [command] [flags]\n\nCommands:\n")
	} else {
		fmt.Fprintf(w, "Usage: portal %s COMMAND [flags]\n\nCommands:\n", group)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		if group != "" && !strings.HasPrefix(c.name, group+" ") {
			continue
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
	}
	_ = tw.Flush()
	if group == "" {
		fmt.Fprint(w, "\nRun 'portal help COMMAND' or 'portal COMMAND --help' for a command's flags.\n"+
			"'portal --version' prints the version. Settings come from the environment (see README).\n")
	} else {
		fmt.Fprintf(w, "\nRun 'portal %s COMMAND --help' for a command's flags.\n", group)
	}
}

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// Run runs the command in args and returns the exit code: 0 done (help
// included), 1 failed, 2 not understood (an unknown command or flag).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "serve" // flags alone are serve's: "portal --addr :8081"
	switch {
	case len(args) > 0 && isHelp(args[0]):
		overview(stdout, "")
		return 0
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-version"):
		name, args = "version", args[1:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	if name == "help" {
		if len(args) == 0 {
			overview(stdout, "")
			return 0
		}
		// "portal help user add" is "portal user add --help".
		name, args = args[0], append(args[1:], "--help")
		if name == "help" {
			overview(stdout, "")
			return 0
		}
	}
	if isGroup(name) {
		switch {
		case len(args) == 0:
			fmt.Fprintf(stderr, "portal %s: a command is missing\nRun 'portal %s --help' for its commands.\n", name, name)
			return 2
		case isHelp(args[0]):
			overview(stdout, name)
			return 0
		}
		if lookup(name+" "+args[0]) == nil {
			fmt.Fprintf(stderr, "portal: unknown command %q\nRun 'portal %s --help' for its commands.\n", name+" "+args[0], name)
			return 2
		}
		name, args = name+" "+args[0], args[1:]
	}
	cmd := lookup(name)
	if cmd == nil || cmd.run == nil {
		fmt.Fprintf(stderr, "portal: unknown command %q\nRun 'portal --help' for the list of commands.\n", name)
		return 2
	}
	err := cmd.run(ctx, args, stdin, stdout, stderr)
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

// errUsage makes the exit code 2 once the one-line error and its hint
// are printed.
var errUsage = errors.New("usage")

// flags is a command's flag set: --help prints its usage on standard
// output; a bad flag or argument prints one line and a hint on standard
// error.
type flags struct {
	*flag.FlagSet
	synopsis       string
	stdout, stderr io.Writer
}

// newFlags returns the flag set of the command name; synopsis is its
// usage line, then (after a blank line) what it does.
func newFlags(name, synopsis string, stdout, stderr io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints its own messages
	fs.Usage = func() {}
	return &flags{FlagSet: fs, synopsis: synopsis, stdout: stdout, stderr: stderr}
}

// parse reads args; --help prints the usage and returns flag.ErrHelp.
func (f *flags) parse(args []string) error {
	err := f.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		f.help()
		return flag.ErrHelp
	default:
		return f.usageError("%v", err)
	}
}

// help prints the usage line, the description and the flags, spelt
// --name as the README and the overview spell them.
func (f *flags) help() {
	fmt.Fprintf(f.stdout, "Usage: portal %s\n", f.synopsis)
	first := true
	f.VisitAll(func(fl *flag.Flag) {
		if first {
			fmt.Fprint(f.stdout, "\nFlags:\n")
			first = false
		}
		arg, usage := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		switch arg {
		case "":
		case "string":
			line += " VALUE"
		case "int":
			line += " N"
		default:
			line += " " + strings.ToUpper(arg)
		}
		if fl.DefValue != "" && fl.DefValue != "false" {
			usage += fmt.Sprintf(" (default %q)", fl.DefValue)
		}
		fmt.Fprintf(f.stdout, "%s\n      %s\n", line, usage)
	})
}

// usageError prints a one-line error and the hint to --help, and returns
// errUsage (exit code 2).
func (f *flags) usageError(format string, a ...any) error {
	fmt.Fprintf(f.stderr, "portal %s: %s\nRun 'portal %s --help' for usage.\n", f.Name(), fmt.Sprintf(format, a...), f.Name())
	return errUsage
}

// noArgs refuses positional arguments for a command that takes none.
func (f *flags) noArgs() error {
	if f.NArg() > 0 {
		return f.usageError("unexpected argument %q", f.Arg(0))
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
	return database.Options{URI: cfg.MongoURI, DataDir: cfg.DataDir, Logger: log, Secrets: box, PostgreSQLURL: cfg.PostgreSQLURL}, nil
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
	if _, err := db.IndexIDs(ctx); err != nil {
		_ = db.Close(context.Background())
		return nil, nil, err
	}
	store := storage.New(db.Database)
	store.SetLogger(log)
	store.SetWritesWaiting(db.WritesWaiting)
	if db.Embedded {
		store.SetSoleWriter() // the embedded database's folder is locked to this process
		store.SetCounter(db.CountEmbedded)
		store.SetScanner(db.ScanEmbedded) // the bulk loads read its file, not through FerretDB
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
	// No flush timer outlives the command (the flushes below failing leave
	// one to try again).
	defer store.StopLater()
	if err := fn(store, log); err != nil {
		return err
	}
	// What a command's quiz submits held (portal demo) is written; the
	// markers stay for the next start, which may have a crash to recover.
	return errors.Join(store.FlushProgress(ctx), store.FlushItemStats(ctx))
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
