package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"conductportal/server/authoring"
	"conductportal/server/lesson"
	"conductportal/server/storage"
)

// exportContent writes the current version of every lesson as a content
// folder that "portal import --check DIR" accepts and that imports unchanged.
func exportContent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export content", "export content DIR\n\n"+
		"Writes the current version of every lesson to DIR/content/<lang>/<slug>.md and\n"+
		"DIR/quizzes/<slug>.yaml, replacing files of the same name.", stdout, stderr)
	if err := fs.parse(args); err != nil {
		return err
	}
	dir := fs.Arg(0)
	if dir == "" || fs.NArg() > 1 {
		return fs.usageError("want exactly one DIR")
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		files, err := authoring.New(store, newTraining(store, log), lesson.NewRenderer(), log).ExportFiles(ctx)
		if err != nil {
			return err
		}
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
				return fmt.Errorf("cli: export: %w", err)
			}
			// Content files are meant to be read and shared (committed to git).
			if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil { // #nosec G306 -- published lesson text, not a secret
				return fmt.Errorf("cli: export: %w", err)
			}
			fmt.Fprintln(stdout, full)
		}
		fmt.Fprintf(stdout, "%d files written to %s\n", len(paths), dir)
		return nil
	})
}
