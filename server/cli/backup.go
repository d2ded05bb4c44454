package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"conductportal/server/backup"
	"conductportal/server/config"
	"conductportal/server/database"
	"conductportal/server/storage"
)

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "backup FILE\n\n"+
		"Writes every collection to FILE (gzip'd JSON lines of MongoDB extended JSON).\n"+
		"On the embedded database, run it while the portal is stopped.", stdout, stderr)
	file, err := fileArg(fs, args)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := database.Open(ctx, database.Options{URI: cfg.MongoURI, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	schema, err := db.Migrate(ctx, log)
	if err != nil {
		return err
	}
	// Written beside the target and renamed at the end: FILE is either the
	// whole backup or untouched.
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	sum, err := backup.Write(ctx, storage.New(db.Database), tmp, schema)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("cli: backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: %d documents (%s) written to %s\n", sum.Total(), counts(sum), file)
	return nil
}

func restoreCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", "restore FILE\n\n"+
		"Reads a backup into an EMPTY database (a new PORTAL_DATA folder, or an empty\n"+
		"MONGODB_URI database) and applies the schema steps. Refuses a database with data.", stdout, stderr)
	file, err := fileArg(fs, args)
	if err != nil {
		return err
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	// The whole file is read once before anything is stored: a damaged
	// backup is refused, not half restored.
	f, err := os.Open(file) // #nosec G304 -- the file the operator named on the command line
	if err != nil {
		return fmt.Errorf("cli: restore: %w", err)
	}
	defer f.Close()
	if _, err := backup.Check(f, database.SchemaVersion()); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cli: restore: %w", err)
	}
	log := newLogger(cfg, stderr)
	db, err := database.Open(ctx, database.Options{URI: cfg.MongoURI, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	sum, err := backup.Restore(ctx, storage.New(db.Database), f, database.SchemaVersion())
	if err != nil {
		return err
	}
	// The data goes in first, then every schema step (indexes, backfills),
	// exactly as for a new database.
	if _, err := db.Migrate(ctx, log); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restore: %d documents (%s) restored from %s\n", sum.Total(), counts(sum), file)
	return nil
}

func counts(s *backup.Summary) string {
	var parts []string
	for name, n := range s.Counts {
		parts = append(parts, fmt.Sprintf("%s %d", name, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// fileArg parses a command that takes exactly one FILE argument.
func fileArg(fs *flags, args []string) (string, error) {
	if err := fs.parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fs.usageError("want exactly one FILE")
	}
	return fs.Arg(0), nil
}
