package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"conductportal/server/config"
	"conductportal/server/model"
	"conductportal/server/quiz"
)

func importContent(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", "import [--check] [--kind reack|requiz|minor] [--grace-days N] [DIR]\n\n"+
		"DIR holds content/ and quizzes/ (naming DIR/content or DIR/quizzes means DIR) (default: the content built into the binary).\n"+
		"--check validates only; otherwise lessons whose text or quiz changed are published\n"+
		"as a new version of the given kind, and new lessons as version 1.", stdout, stderr)
	check := fs.Bool("check", false, "only validate the folder; change nothing")
	kind := fs.String("kind", model.ChangeReack, "what a changed lesson asks of people: minor, reack (sign again) or requiz (sign and retake the changed clauses' questions)")
	grace := fs.Int("grace-days", 14, "days people have to sign a changed lesson again")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fs.usageError("want at most one DIR")
	}
	if !slices.Contains([]string{model.ChangeMinor, model.ChangeReack, model.ChangeRequiz}, *kind) {
		return fmt.Errorf("cli: --kind %q: want minor, reack or requiz", *kind)
	}
	cfg, err := config.FromEnv(nil)
	if err != nil {
		return err
	}
	fsys, name := contentFS(cfg), contentName(cfg)
	if dir := fs.Arg(0); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("cli: %s is not a folder", dir)
		}
		// "import --check content" (or quizzes) means the folder holding both.
		if base := filepath.Base(filepath.Clean(dir)); base == "content" || base == "quizzes" {
			dir = filepath.Dir(filepath.Clean(dir))
		}
		fsys, name = os.DirFS(dir), dir
	}
	b, err := loadBundle(fsys, name, stdout)
	if err != nil {
		return err
	}
	questions := 0
	for _, l := range b.Lessons {
		questions += len(l.Quiz.Questions)
		warnGuesser(stdout, name, l.Slug, l.Quiz)
	}
	if *check {
		fmt.Fprintf(stdout, "%s: ok, %d lessons, %d questions\n", name, len(b.Lessons), questions)
		return nil
	}
	log := newLogger(cfg, stderr)
	db, store, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	res, err := newTraining(store, log).Import(ctx, b, *kind, "import", *grace)
	for _, r := range res {
		if r.Created {
			fmt.Fprintf(stdout, "%s: published version %d (changed clauses: %v)\n", r.Slug, r.Version, r.Changed)
		} else {
			fmt.Fprintf(stdout, "%s: unchanged (version %d)\n", r.Slug, r.Version)
		}
	}
	return err
}

// warnGuesser tells HR when a quiz can be passed without reading its
// lesson. It is a warning: the quiz is imported all the same.
func warnGuesser(w io.Writer, name, slug string, q *quiz.Quiz) {
	for _, g := range q.GuessWarnings() {
		fmt.Fprintf(w, "%s: quizzes/%s.yaml: warning (%s): a guesser who never reads the lesson passes a first attempt %.1f %% of the time (limit %.0f %%), answering by form alone: %s\n",
			name, slug, g.Lang, g.Pass*100, quiz.GuessLimit*100, g.Strategy)
	}
}
