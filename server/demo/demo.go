// Package demo fills an empty database with a sample company, so that a
// newcomer can log in as each role and see every state of the training:
// departments, HR, managers and about sixty employees, not started,
// reading, quiz passed, done, overdue, asked to sign again after a
// sample publish, exempted, given more time, and with signatures about
// to age out.
//
// Nothing is written around the rules: every attempt is drawn and graded,
// and every receipt signed and chained, by the training service, run on a
// clock set to the moment each event happened. So "portal verify" passes
// and the reports show what a portal in use for a year would.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"conductportal/server/auth"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/training"
)

// Stories: what a person of the sample company has done so far.
const (
	Done      = "done"        // every lesson signed, the sample change too
	Reack     = "needs_reack" // signed everything before the sample change, not since
	Expiring  = "expiring"    // done; the ethics signature ages out within 30 days
	Renewal   = "renewal"     // the ethics signature aged out: to be signed again
	Passed    = "quiz_passed" // a new hire: one lesson signed, one quiz passed, not yet signed
	Reading   = "reading"     // a new hire reading the first lesson, one failed attempt
	Fresh     = "not_started" // hired today or yesterday
	Overdue   = "overdue"     // hired weeks ago, two lessons done, the rest late
	Extended  = "extended"    // overdue, but HR gave more time on one lesson
	Exempt    = "exempt"      // done, and exempted from one lesson by HR
	Published = "publish"     // (not a story) the sample change of the dress code
)

// Stories lists the employees' stories in the order they are printed.
var Stories = []string{Done, Reack, Expiring, Renewal, Passed, Reading, Fresh, Overdue, Extended, Exempt}

// StoryText describes each story, for the list of logins "portal demo"
// prints (the console speaks English, as the rest of the CLI).
var StoryText = map[string]string{ // #nosec G101 -- descriptions of states, not credentials
	Done:     "every lesson done",
	Reack:    "must sign the changed dress code again",
	Expiring: "ethics signature ages out within 30 days",
	Renewal:  "ethics signature aged out: sign again",
	Passed:   "new hire, a quiz passed, not yet signed",
	Reading:  "new hire, reading the first lesson",
	Fresh:    "hired today or yesterday, not started",
	Overdue:  "overdue on four lessons",
	Extended: "overdue, HR extended one lesson",
	Exempt:   "exempted from grooming by HR",
}

// storyCounts says how many of the sixty employees live each story.
var storyCounts = map[string]int{
	Done: 16, Reack: 10, Expiring: 4, Renewal: 2, Passed: 5, Reading: 6, Fresh: 6, Overdue: 8, Extended: 1, Exempt: 2,
}

// The lessons the story names; they ship with the portal.
const (
	ethics     = "professional-ethics" // signatures count for a year in the demo
	dress      = "dress"               // changed by the sample publish
	grooming   = "grooming"            // the exemption
	validYears = 12                    // months an ethics signature counts
)

// Account is one person of the sample company.
type Account struct {
	Login, Name, Department string
	Roles                   []string
	Manager, Manages        string
	Story                   string // one of Stories, for employees
}

// Result is what Fill made.
type Result struct {
	Password string    // every account's
	Accounts []Account // the admin, HR and the managers first, then the employees
	Receipts int
	Attempts int
}

// Options are what Fill needs. Store must hold an empty database with
// the schema applied; Bundle is the shipped content, loaded from Content.
type Options struct {
	Store   *storage.Storage
	Bundle  *training.Bundle
	Content fs.FS
	Log     *slog.Logger
	Now     time.Time // the demo's today; zero: the wall clock
}

// ErrContent says the content lacks a lesson the story needs.
var ErrContent = errors.New("demo: the sample company needs the lessons shipped with the portal")

// Fill stores the sample company. The database is marked as demo data
// first, so even a fill cut short shows the marker.
func Fill(ctx context.Context, o Options) (*Result, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Minute)
	for _, slug := range []string{ethics, dress, grooming} {
		if !slices.ContainsFunc(o.Bundle.Lessons, func(l training.BundleLesson) bool { return l.Slug == slug }) {
			return nil, fmt.Errorf("%w: %s is missing", ErrContent, slug)
		}
	}
	if err := o.Store.MarkDemo(ctx, now); err != nil {
		return nil, err
	}
	clk := &clock{t: now.AddDate(0, 0, -420)}
	f := &filler{
		store: o.Store, now: now, clock: clk,
		train: training.New(o.Store, lesson.NewRenderer(), o.Log, clk.Now),
		auth:  auth.New(o.Store, clk.Now),
		rng:   rand.New(rand.NewPCG(18, 2026)), // #nosec G404 -- the same sample company every time, not a secret
		res:   &Result{Password: auth.RandomPassword()},
	}
	// The lessons were published long ago, before anyone here was hired
	// (the demo's ethics signatures count for a year).
	for _, l := range o.Bundle.Lessons {
		if l.Slug == ethics {
			for _, d := range l.Docs {
				d.ValidMonths = validYears
			}
		}
	}
	if _, err := f.train.Import(ctx, o.Bundle, model.ChangeReack, "hr.demo", 14); err != nil {
		return nil, fmt.Errorf("demo: import lessons: %w", err)
	}
	lessons, err := o.Store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range lessons {
		f.slugs = append(f.slugs, l.Slug)
	}
	hash, err := auth.HashPassword(f.res.Password)
	if err != nil {
		return nil, err
	}
	people := Company()
	f.res.Accounts = people
	var events []event
	for i, p := range people {
		u, err := f.create(ctx, p, hash)
		if err != nil {
			return nil, err
		}
		events = append(events, f.story(u, p, i)...)
	}
	events = append(events, event{at: f.day(5, 0), do: func(ctx context.Context) error {
		return samplePublish(ctx, f.train, o.Content, o.Bundle)
	}})
	// Every event happens in the order of its time, on the clock of that
	// time: hire dates, attempts, signatures and the publish interleave
	// as they would have.
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	for _, e := range events {
		clk.set(e.at)
		if err := e.do(ctx); err != nil {
			return nil, err
		}
	}
	clk.set(now)
	_ = o.Store.Audit(ctx, &model.AuditEntry{At: now, Actor: "cli", Action: "demo.create",
		Detail: fmt.Sprintf("%d people, %d receipts", len(people), f.res.Receipts)})
	return f.res, nil
}

// clock is the training service's clock, moved from event to event.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type event struct {
	at time.Time
	do func(ctx context.Context) error
}

type filler struct {
	store *storage.Storage
	train *training.Service
	auth  *auth.Service
	clock *clock
	now   time.Time
	rng   *rand.Rand
	slugs []string // the lessons, in order
	hr    *model.User
	res   *Result
}

// day is a moment d days before the demo's today, k steps of 9 minutes
// into that day's work (from 09:00 China time).
func (f *filler) day(d, k int) time.Time {
	y, m, dd := f.now.In(china).AddDate(0, 0, -d).Date()
	return time.Date(y, m, dd, 9, 0, 0, 0, china).Add(time.Duration(k) * 9 * time.Minute).UTC()
}

var china = time.FixedZone("CST", 8*3600)

func (f *filler) create(ctx context.Context, p Account, hash string) (*model.User, error) {
	hired := f.day(hiredDaysAgo(p), -1)
	if hired.After(f.now) { // before nine in the morning: hired an hour ago
		hired = f.now.Add(-time.Hour)
	}
	f.clock.set(hired)
	u, err := f.auth.CreateUser(ctx, auth.NewUser{
		Login: p.Login, Name: p.Name, Roles: p.Roles, Department: p.Department,
		Manager: p.Manager, Manages: p.Manages, Hired: hired, PasswordHash: hash,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: account %s: %w", p.Login, err)
	}
	if slices.Contains(p.Roles, model.RoleHR) {
		f.hr = u
	}
	return u, nil
}

// hiredDaysAgo is how long ago a person of the story was hired; the
// login spreads people of one story over their range.
func hiredDaysAgo(p Account) int {
	n := 0
	for _, c := range p.Login {
		n += int(c)
	}
	switch p.Story {
	case Done, Exempt:
		return 30 + n%270
	case Reack:
		return 60 + n%240
	case Expiring:
		return 340 + n%18 // signed ethics 8 to 25 days short of a year ago
	case Renewal:
		return 376 + n%3 // the ethics signature aged out about ten days ago
	case Passed:
		return 4
	case Reading:
		return 2
	case Fresh:
		return n % 2
	case Overdue, Extended:
		return 20 + n%25
	}
	return 300 // staff (the admin, HR, managers)
}

// story returns the events of one person's training so far.
func (f *filler) story(u *model.User, p Account, i int) []event {
	h := hiredDaysAgo(p)
	lang := model.LangZH
	if i%9 == 4 {
		lang = model.LangEN // a few people read in English
	}
	var ev []event
	add := func(at time.Time, do func(ctx context.Context) error) { ev = append(ev, event{at: at, do: do}) }
	if lang != model.LangZH {
		add(f.day(h, 0), func(ctx context.Context) error { return f.auth.SetLanguage(ctx, u, lang) })
	}
	// complete reads, passes (sometimes after a failed try) and signs.
	complete := func(slug string, d, k int, failFirst bool) {
		add(f.day(d, k), func(ctx context.Context) error { return f.read(ctx, u, slug) })
		if failFirst {
			add(f.day(d, k+1), func(ctx context.Context) error { return f.quiz(ctx, u, slug, lang, false) })
		}
		add(f.day(d, k+2), func(ctx context.Context) error { return f.quiz(ctx, u, slug, lang, true) })
		add(f.day(d, k+3), func(ctx context.Context) error { return f.sign(ctx, u, slug, lang) })
	}
	everything := func(except string) {
		for j, slug := range f.slugs {
			if slug != except {
				complete(slug, h-1-j/3, 4*(j%3), (i+j)%7 == 3)
			}
		}
	}
	resign := func() { // the sample change, signed again after it was published
		d := 1 + i%4
		add(f.day(d, 20), func(ctx context.Context) error { return f.read(ctx, u, dress) })
		add(f.day(d, 21), func(ctx context.Context) error { return f.sign(ctx, u, dress, lang) })
	}
	switch p.Story {
	case Done, "", Expiring, Renewal:
		everything("")
		if p.Login != "wang.qiang" { // the department manager has not signed it again yet
			resign()
		}
	case Exempt:
		add(f.day(h, 0), func(ctx context.Context) error {
			return f.exception(ctx, u, grooming, "exempt", time.Time{}, "劳务派遣人员，仪容仪表由派遣单位培训并考核")
		})
		everything(grooming)
		resign()
	case Reack:
		everything("")
	case Passed:
		complete(f.slugs[0], 3, 2, false)
		add(f.day(2, 3), func(ctx context.Context) error { return f.read(ctx, u, f.slugs[1]) })
		add(f.day(2, 5), func(ctx context.Context) error { return f.quiz(ctx, u, f.slugs[1], lang, true) })
	case Reading:
		add(f.day(1, 2), func(ctx context.Context) error { return f.read(ctx, u, f.slugs[0]) })
		if i%2 == 0 {
			add(f.day(1, 4), func(ctx context.Context) error { return f.quiz(ctx, u, f.slugs[0], lang, false) })
		}
	case Overdue, Extended:
		complete(f.slugs[0], h-1, 2, i%2 == 0)
		complete(f.slugs[1], h-2, 2, false)
		add(f.day(h-3, 2), func(ctx context.Context) error { return f.read(ctx, u, f.slugs[2]) })
		if p.Story == Extended {
			add(f.day(3, 1), func(ctx context.Context) error {
				return f.exception(ctx, u, ethics, "extend", f.now.AddDate(0, 0, 10), "病假两周，返岗后补学")
			})
		}
	}
	return ev
}

func (f *filler) read(ctx context.Context, u *model.User, slug string) error {
	if _, _, err := f.train.Open(ctx, u, slug); err != nil {
		return fmt.Errorf("demo: %s opens %s: %w", u.Login, slug, err)
	}
	if _, err := f.train.MarkRead(ctx, u, slug); err != nil {
		return fmt.Errorf("demo: %s reads %s: %w", u.Login, slug, err)
	}
	return nil
}

// quiz draws an attempt and answers it, rightly or with one wrong answer
// per question, a few minutes later.
func (f *filler) quiz(ctx context.Context, u *model.User, slug, lang string, right bool) error {
	a, err := f.train.StartAttempt(ctx, u, slug, lang)
	if err != nil {
		return fmt.Errorf("demo: %s starts the quiz of %s: %w", u.Login, slug, err)
	}
	q, err := f.train.Quiz(ctx, slug, a.Version)
	if err != nil {
		return err
	}
	answers := map[string][]string{}
	for k, d := range a.Questions {
		qq, _ := q.Question(d.ID)
		// A pass may still miss one question; a failure misses most.
		wrong := !right && k%4 != 1 || right && k == 1 && f.rng.IntN(3) == 0
		if !wrong {
			answers[d.ID] = slices.Clone(qq.Answer)
			continue
		}
		for _, o := range d.Options {
			if !slices.Contains(qq.Answer, o) {
				answers[d.ID] = []string{o}
				break
			}
		}
	}
	f.clock.set(f.clock.Now().Add(time.Duration(3+f.rng.IntN(5)) * time.Minute))
	got, _, err := f.train.Submit(ctx, u, a.ID, answers)
	if err != nil {
		return fmt.Errorf("demo: %s submits the quiz of %s: %w", u.Login, slug, err)
	}
	if got.Passed != right {
		// Missing one question in a pass might fail a quiz with a high
		// pass mark: answer it again, all right.
		if right {
			return f.quiz(ctx, u, slug, lang, true)
		}
		return fmt.Errorf("demo: %s's wrong answers to %s passed (score %d)", u.Login, slug, got.Score)
	}
	f.res.Attempts++
	return nil
}

var agents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.54",
	"Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 DingTalk/7.6.25",
}

func (f *filler) sign(ctx context.Context, u *model.User, slug, lang string) error {
	st, err := f.train.Standing(ctx, u, slug)
	if err != nil {
		return err
	}
	r, err := f.train.Acknowledge(ctx, u, training.AckRequest{
		Slug: slug, Version: st.Lesson.Current, Lang: lang, Signature: u.Name,
		Client: fmt.Sprintf("10.18.%d.%d", 1+f.rng.IntN(4), 10+f.rng.IntN(200)), Agent: agents[f.rng.IntN(len(agents))],
	})
	if err != nil {
		return fmt.Errorf("demo: %s signs %s: %w", u.Login, slug, err)
	}
	if r.At.Equal(f.clock.Now()) { // a new receipt, not one signed before
		f.res.Receipts++
	}
	return nil
}

// exception records HR's decision and refreshes u, whose exceptions
// decide what it is assigned.
func (f *filler) exception(ctx context.Context, u *model.User, slug, kind string, until time.Time, reason string) error {
	if err := f.train.SetException(ctx, f.hr, u, slug, kind, until, reason); err != nil {
		return fmt.Errorf("demo: exception for %s: %w", u.Login, err)
	}
	fresh, err := f.store.User(ctx, u.ID)
	if err != nil {
		return err
	}
	*u = *fresh
	return nil
}

// samplePublish publishes a clarified dress code that everyone must sign
// again: the state "needs re-acknowledgement" and the diff people see.
func samplePublish(ctx context.Context, svc *training.Service, content fs.FS, b *training.Bundle) error {
	added := map[string]string{
		model.LangZH: "工牌佩戴在左胸前，正面朝外，不得遮挡。（演示数据中的示例修订）",
		model.LangEN: " Wear it on the left of your chest, facing out and uncovered. (A sample revision in the demo data.)",
	}
	i := slices.IndexFunc(b.Lessons, func(l training.BundleLesson) bool { return l.Slug == dress })
	if i < 0 {
		return fmt.Errorf("%w: %s is missing", ErrContent, dress)
	}
	docs := map[string]*lesson.Doc{}
	for lang := range b.Lessons[i].Docs {
		file := "content/" + lang + "/" + dress + ".md"
		raw, err := fs.ReadFile(content, file)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		src, ok := appendToClause(string(raw), "{#name-badge}", added[lang])
		if !ok {
			return fmt.Errorf("%w: the dress lesson has no name-badge clause", ErrContent)
		}
		d, probs := lesson.Parse(file, lang, []byte(src))
		if len(probs) > 0 {
			return fmt.Errorf("demo: sample change of %s: %v", dress, probs)
		}
		docs[lang] = d
	}
	_, err := svc.Publish(ctx, training.PublishRequest{
		Slug: dress, Docs: docs, QuizSource: b.Lessons[i].QuizSource, Kind: model.ChangeReack, GraceDays: 14,
		Author: "zhou.min", Note: "演示：明确工牌的佩戴位置 / demo: where the badge is worn",
	})
	return err
}

// appendToClause adds a sentence at the end of the first paragraph after
// the heading marked anchor.
func appendToClause(src, anchor, sentence string) (string, bool) {
	i := strings.Index(src, anchor)
	if i < 0 {
		return src, false
	}
	rest := src[i:]
	// The heading line, a blank line, then the clause's first paragraph.
	start := strings.Index(rest, "\n\n")
	if start < 0 {
		return src, false
	}
	end := strings.Index(rest[start+2:], "\n")
	if end < 0 {
		end = len(rest) - start - 2
	}
	at := i + start + 2 + end
	return src[:at] + sentence + src[at:], true
}
