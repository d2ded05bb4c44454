// Package testkit starts real portals for tests: a server on a loopback
// port with its own embedded database in a temporary folder, and helpers
// that move a learner along without the browser.
package testkit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	portal "conductportal"
	"conductportal/server/auth"
	"conductportal/server/cli"
	"conductportal/server/config"
	"conductportal/server/database"
	"conductportal/server/lesson"
	"conductportal/server/logging"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/training"
)

// Portal is a running server.
type Portal struct {
	*cli.Server
	Base string // http://127.0.0.1:port
	Dir  string // the data folder

	log  *Log
	stop func()
}

// Config returns the configuration of a portal on dir; env adds settings
// (PORTAL_SMTP_URL, say).
func Config(t testing.TB, dir string, env ...map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string {
		switch k {
		case "PORTAL_DATA":
			return dir
		case "PORTAL_ADDR":
			return "127.0.0.1:0"
		}
		for _, e := range env {
			if v, ok := e[k]; ok {
				return v
			}
		}
		if k == "PORTAL_REMINDER_JOB" || k == "PORTAL_DELIVERY_WORKER" || k == "PORTAL_CHECKPOINT_JOB" {
			return "off" // tests run the jobs themselves, at the time they choose
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Start serves a portal on dir until the test ends (or Stop). The first
// run's console output (the admin password) goes to console.
func Start(t testing.TB, dir string, console io.Writer) *Portal {
	t.Helper()
	return StartConfig(t, Config(t, dir), console)
}

// StartEnv is Start with extra settings.
func StartEnv(t testing.TB, dir string, console io.Writer, env map[string]string) *Portal {
	t.Helper()
	return StartConfig(t, Config(t, dir, env), console)
}

// StartConfig is Start with a configuration of the test's own.
func StartConfig(t testing.TB, cfg *config.Config, console io.Writer) *Portal {
	t.Helper()
	return StartOn(t, cfg, nil, console)
}

// StartOn is StartConfig serving on ln (nil: a new loopback port), for a
// test that must know the portal's address before it starts (to set
// PORTAL_BASE_URL, say).
func StartOn(t testing.TB, cfg *config.Config, ln net.Listener, console io.Writer) *Portal {
	t.Helper()
	dir := cfg.DataDir
	tl := &Log{t: t}
	log := logging.New(cfg.LogFormat, tl)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Served(ln.Addr().String()) // as serve does: links point at this portal
	ctx, cancel := context.WithCancel(context.Background())
	s, err := cli.Start(ctx, cfg, log, console)
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("start: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	p := &Portal{Server: s, Base: "http://" + ln.Addr().String(), Dir: dir, log: tl}
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			tl.close()
		})
	}
	t.Cleanup(p.stop)
	return p
}

// Stop stops the server and its database now.
func (p *Portal) Stop() { p.stop() }

// WaitStarted waits for the start-up jobs (run beside serving) to end: a
// test that then changes the database behind the portal's back knows the
// start-up progress check will not repair the change.
func (p *Portal) WaitStarted(t testing.TB) {
	t.Helper()
	select {
	case <-p.StartupDone():
	case <-time.After(2 * time.Minute):
		t.Fatal("the start-up jobs did not end within 2 minutes")
	}
}

// LoggedErrors is how many errors the server logged.
func (p *Portal) LoggedErrors() int { return p.log.errors() }

// LogText is everything the server logged so far.
func (p *Portal) LogText() string { return p.log.text() }

// Log passes the server's log to the test's, and counts errors.
type Log struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
	errs   int
	all    bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("server: %s", bytes.TrimRight(p, "\n"))
	}
	l.all.Write(p)
	if bytes.Contains(p, []byte("level=ERROR")) || bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		l.errs++
	}
	return len(p), nil
}

func (l *Log) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func (l *Log) errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs
}

// Answers returns right (or deliberately wrong) answers to drawn questions.
func Answers(q *quiz.Quiz, drawn []model.AttemptQuestion, right bool) map[string][]string {
	out := map[string][]string{}
	for _, d := range drawn {
		qq, _ := q.Question(d.ID)
		if right {
			out[d.ID] = slices.Clone(qq.Answer)
			continue
		}
		for _, o := range d.Options {
			if !slices.Contains(qq.Answer, o) {
				out[d.ID] = []string{o}
				break
			}
		}
		// Every option keyed (a multiple choice): one of them is wrong,
		// and not blank (a blank answer is asked about, not graded).
		if _, ok := out[d.ID]; !ok && len(d.Options) > 1 {
			out[d.ID] = []string{d.Options[0]}
		}
	}
	return out
}

// Complete passes the quiz of a lesson's current version (when needed) and
// acknowledges it, as u.
func Complete(t testing.TB, svc *training.Service, u *model.User, slug string) *model.Receipt {
	t.Helper()
	ctx := context.Background()
	st, err := svc.Standing(ctx, u, slug)
	if err != nil {
		t.Fatal(err)
	}
	if !st.QuizDone {
		a, err := svc.StartAttempt(ctx, u, slug, model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := svc.Quiz(ctx, slug, a.Version)
		if got, _, err := svc.Submit(ctx, u, a.ID, Answers(q, a.Questions, true)); err != nil || !got.Passed {
			t.Fatalf("pass %s: %v %v", slug, got, err)
		}
	}
	r, err := svc.Acknowledge(ctx, u, training.AckRequest{Slug: slug, Version: st.Lesson.Current, Lang: model.LangZH, Signature: u.Name})
	if err != nil {
		t.Fatalf("acknowledge %s: %v", slug, err)
	}
	return r
}

// PublishChange publishes the shipped lesson slug with a sentence added at
// the end of its last clause in each language, as a change of kind.
func PublishChange(t testing.TB, svc *training.Service, slug, kind string, added map[string]string) *training.PublishResult {
	t.Helper()
	docs := map[string]*lesson.Doc{}
	for _, lang := range model.Languages {
		file := fmt.Sprintf("content/%s/%s.md", lang, slug)
		raw, err := fs.ReadFile(portal.Assets, file)
		if err != nil {
			t.Fatal(err)
		}
		src := strings.TrimRight(string(raw), "\n") + "\n\n" + added[lang] + "\n"
		d, probs := lesson.Parse(file, lang, []byte(src))
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		docs[lang] = d
	}
	quizSrc, err := fs.ReadFile(portal.Assets, "quizzes/"+slug+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(context.Background(), training.PublishRequest{
		Slug: slug, Docs: docs, QuizSource: string(quizSrc), Kind: kind, GraceDays: 14, Author: "hr", Note: "test change",
	})
	if err != nil || !res.Created {
		t.Fatalf("publish %s: %+v %v", slug, res, err)
	}
	return res
}

func (l *Log) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// BackdateLessons makes every lesson look published years ago, so people
// hired in the past are due (and overdue) from their hire dates, as in a
// portal that has run for a while.
func BackdateLessons(t testing.TB, p *Portal) {
	t.Helper()
	_, err := p.DB.Database.Collection("lessons").UpdateMany(context.Background(), map[string]any{},
		map[string]any{"$set": map[string]any{"since": time.Now().AddDate(-5, 0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	p.Store.DropCaches()
}

// StartShared starts n portals on one database, as several instances
// behind a load balancer share one MongoDB: the embedded database runs
// on its own (database.Host) and every portal reaches it through
// MONGODB_URI. The first start imports the content and creates the
// admin; its console output goes to console.
func StartShared(t testing.TB, n int, console io.Writer) []*Portal {
	t.Helper()
	dir := t.TempDir()
	db, uri, err := database.Host(context.Background(), filepath.Join(dir, "db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the portals stop before the database.
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	out := make([]*Portal, n)
	for i := range out {
		if i > 0 {
			console = io.Discard
		}
		out[i] = StartEnv(t, filepath.Join(dir, fmt.Sprintf("portal%d", i)), console, map[string]string{"MONGODB_URI": uri})
	}
	return out
}

// EnrolSecondFactor turns u's second factor on, as the setup page does,
// and returns its TOTP secret.
func EnrolSecondFactor(t testing.TB, p *Portal, u *model.User) string {
	t.Helper()
	ctx := context.Background()
	if err := p.Auth.StartEnrolment(ctx, u); err != nil {
		t.Fatal(err)
	}
	e, err := p.Auth.Enrolment(u, "test")
	if err != nil {
		t.Fatal(err)
	}
	// The previous step's code: the next one stays unused for a sign-in.
	if _, err := p.Auth.ConfirmEnrolment(ctx, u, auth.CodeAt(e.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

// PublishQuiz publishes the shipped text of slug as a minor version with
// its shipped quiz as edit changes it, and returns that quiz.
func PublishQuiz(t testing.TB, svc *training.Service, slug string, edit func(string) string) *quiz.Quiz {
	t.Helper()
	ctx := context.Background()
	b, probs := training.LoadBundle(portal.Assets)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for _, bl := range b.Lessons {
		if bl.Slug != slug {
			continue
		}
		res, err := svc.Publish(ctx, training.PublishRequest{Slug: slug, Docs: bl.Docs, QuizSource: edit(bl.QuizSource),
			Kind: model.ChangeMinor, Author: "hr", Note: "quiz settings"})
		if err != nil {
			t.Fatal(err)
		}
		q, err := svc.Quiz(ctx, slug, res.Version)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	t.Fatalf("no lesson %s", slug)
	return nil
}

// ItemSeed is what SeedItemAttempts submitted.
type ItemSeed struct {
	Quiz *quiz.Quiz
	// Easy is the question everyone answers right; Reverse the one only
	// the weaker half answers right (a negative discrimination).
	Easy, Reverse string
	Attempts      []*model.Attempt // as graded and stored
}

var drawLine = regexp.MustCompile(`(?m)^draw: *\d+`)

// SeedItemAttempts publishes slug's shipped text with a quiz that asks
// every question of the pool, then has n learners of rising ability submit
// one attempt each through the training service: learner i answers a
// question right with chance i/(n-1) (seeded, so every run is the same),
// picks one wrong option otherwise (some leave it blank), always gets
// Easy right and gets Reverse right only in the weaker half.
func SeedItemAttempts(t testing.TB, p *Portal, slug string, n int) *ItemSeed {
	t.Helper()
	ctx := context.Background()
	q := PublishQuiz(t, p.Training, slug, func(src string) string {
		shipped, probs := quiz.Parse(slug+".yaml", []byte(src), nil)
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		return drawLine.ReplaceAllString(src, fmt.Sprintf("draw: %d", len(shipped.Questions)))
	})
	seed := &ItemSeed{Quiz: q, Easy: q.Questions[0].ID, Reverse: q.Questions[1].ID}
	users := make([]model.User, n)
	for i := range users {
		users[i] = model.User{ID: model.NewID(), Login: fmt.Sprintf("item.%s.%03d", slug, i), Name: fmt.Sprintf("Item %d", i),
			Roles: []string{model.RoleEmployee}, Active: true, Hired: time.Now(), Created: time.Now()}
	}
	if err := p.Store.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	for i := range users {
		u := &users[i]
		a, err := p.Training.StartAttempt(ctx, u, slug, model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(uint64(i), 25)) // #nosec G404 -- test data
		ability := float64(i) / float64(max(n-1, 1))
		answers := map[string][]string{}
		for _, d := range a.Questions {
			qq, _ := q.Question(d.ID)
			right := r.Float64() < ability
			switch d.ID {
			case seed.Easy:
				right = true
			case seed.Reverse:
				right = i < n/2
			}
			if right {
				answers[d.ID] = slices.Clone(qq.Answer)
				continue
			}
			if i%7 == 3 {
				continue // left blank
			}
			var wrong []string
			for _, o := range d.Options {
				if !slices.Contains(qq.Answer, o) {
					wrong = append(wrong, o)
				}
			}
			if len(wrong) == 0 { // every option keyed: leave one out
				answers[d.ID] = qq.Answer[1:]
				continue
			}
			answers[d.ID] = []string{wrong[i%len(wrong)]}
		}
		got, _, err := p.Training.Submit(ctx, u, a.ID, answers)
		if err != nil {
			t.Fatal(err)
		}
		seed.Attempts = append(seed.Attempts, got)
	}
	return seed
}
