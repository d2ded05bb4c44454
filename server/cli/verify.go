package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"conductportal/server/authoring"
	"conductportal/server/lesson"
	"conductportal/server/storage"
)

// errProblems makes the exit code non-zero once the problems are printed.
var errProblems = errors.New("cli: problems found")

func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "verify [--checkpoints FILE [--public-key KEY]]\n\n"+
		"Checks every user's receipt chain (numbered 1..n, each linking to the hash of the one\n"+
		"before, each hash recomputed), every receipt's text hash against the stored lesson\n"+
		"text, and that no acknowledgement lost its receipt. With --checkpoints, also checks\n"+
		"every signature and link of that checkpoint file and that every receipt a checkpoint\n"+
		"covers is still in the database, unchanged and in order: a chain rewritten with new\n"+
		"hashes all the way is named with the first checkpoint it breaks. Prints each problem\n"+
		"and exits 1 when there is any. On the embedded database, run it while the portal is\n"+
		"stopped.", stdout, stderr)
	file := fs.String("checkpoints", "", "a checkpoints.jsonl file (a copy kept away from the portal) to hold the receipts against")
	key := fs.String("public-key", "", "the public key (base64) every checkpoint must be signed by")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	if *key != "" && *file == "" {
		return fs.usageError("--public-key needs --checkpoints FILE")
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		rep, err := newTraining(store, log).Verify(ctx)
		if err != nil {
			return err
		}
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		fmt.Fprintf(stdout, "verify: %d receipts of %d users, %d lesson texts: %d problem(s)\n",
			rep.Receipts, rep.Users, rep.Versions, len(rep.Problems))
		problems := len(rep.Problems)
		if *file != "" {
			n, err := verifyCheckpoints(ctx, store, *file, *key, stdout)
			if err != nil {
				return err
			}
			problems += n
		}
		if problems > 0 {
			return errProblems
		}
		return nil
	})
}

func rebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rebuild", "rebuild [--check]\n\n"+
		"Recomputes every user's progress from their attempts, graded results and receipts,\n"+
		"prints where the stored progress differed, and stores the recomputed one; then\n"+
		"recomputes each lesson's item statistics (HR's quiz analytics) from the graded\n"+
		"attempts. With --check it only reports progress, and exits 1 when anything\n"+
		"differs. Run it while no portal serves this database.", stdout, stderr)
	check := fs.Bool("check", false, "only report differences; change nothing")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := fs.noArgs(); err != nil {
		return err
	}
	return withStore(ctx, stderr, func(store *storage.Storage, log *slog.Logger) error {
		rep, err := newTraining(store, log).RebuildProgress(ctx, nil, !*check)
		if err != nil {
			return err
		}
		for _, d := range rep.Drift {
			fmt.Fprintln(stdout, d.String())
		}
		if *check {
			fmt.Fprintf(stdout, "rebuild --check: %d users, %d field(s) differ from the events\n", rep.Users, len(rep.Drift))
			if _, pending, err := store.ProgressPending(ctx); err == nil && pending && len(rep.Drift) > 0 {
				fmt.Fprintln(stdout, "rebuild --check: the last portal did not stop cleanly: its next start moves progress forward from the events")
			}
			if len(rep.Drift) > 0 {
				return errProblems
			}
			return nil
		}
		fmt.Fprintf(stdout, "rebuild: %d users, %d field(s) differed, %d users' progress rewritten\n", rep.Users, len(rep.Drift), rep.Repaired)
		tr := newTraining(store, log)
		lessons, err := tr.Lessons(ctx)
		if err != nil {
			return err
		}
		au := authoring.New(store, tr, lesson.NewRenderer(), log)
		for _, l := range lessons {
			t, err := au.RebuildItemStats(ctx, l.Slug)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "rebuild: item statistics of %s from %d graded attempts\n", l.Slug, t.Attempts)
		}
		if err := store.SettleProgress(ctx); err != nil { // rebuilt from the events: nothing to recover
			return err
		}
		return store.SettleItemStats(ctx) // whole again: a start need not rebuild them
	})
}
