// Package training holds the rules of the portal: who must do what by when,
// reading, quiz attempts, signed receipts, and publishing lesson versions.
package training

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"conductportal/server/fault"
	"conductportal/server/lesson"
	"conductportal/server/metrics"
	"conductportal/server/model"
	"conductportal/server/quiz"
)

// Errors the callers turn into messages for the user: each says its kind
// and, where the kind's answer is too vague, its API code, message key and
// field (see package fault).
var (
	ErrNotFound error = &fault.Error{Kind: fault.NotFound, Text: "training: not found"}
	// ErrNotAssigned answers as a plain "not found": a lesson not assigned
	// is not the caller's to see.
	ErrNotAssigned   error = &fault.Error{Kind: fault.NotFound, Text: "training: lesson not assigned to this user"}
	ErrQuizNotPassed error = &fault.Error{Kind: fault.Conflict, Text: "training: the quiz of this version has not been passed",
		Code: "quiz_not_passed", Key: "ack.quiz_first", Message: "pass the quiz of this version first"}
	ErrNotCurrent error = &fault.Error{Kind: fault.Conflict, Text: "training: only the current version can be acknowledged",
		Code: "not_current", Key: "ack.not_current", Message: "only the current version can be acknowledged", Field: "version"}
	ErrSignature error = &fault.Error{Kind: fault.Invalid, Text: "training: the signature must be the user's full name",
		Code: "invalid_signature", Key: "ack.bad_signature", Message: "the signature must be your full name", Field: "signature"}
	ErrCooldown error = &fault.Error{Kind: fault.Throttled, Text: "training: wait before the next attempt",
		Code: "cooldown", Key: "quiz.cooldown", Message: "wait before the next attempt"}
	ErrNoAttemptsRemaining error = &fault.Error{Kind: fault.Conflict, Text: "training: no attempts left",
		Code: "no_attempts_left", Key: "quiz.nomore", Message: "no attempts left at this quiz"}
	ErrAlreadyDone error = &fault.Error{Kind: fault.Conflict, Text: "training: nothing left to do in this lesson",
		Code: "quiz_already_passed", Message: "the quiz of this version is already passed"}
)

// CooldownError says until when a learner must wait before the next
// attempt; it wraps ErrCooldown, so errors.Is(err, ErrCooldown) holds.
type CooldownError struct{ Until time.Time }

func (e *CooldownError) Error() string {
	return "training: wait before the next attempt, until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap makes a CooldownError an ErrCooldown.
func (e *CooldownError) Unwrap() error { return ErrCooldown }

// CooldownUntil is when the next attempt at q may start for progress p
// (zero: no wait applies). Two waits may apply: cooldown_minutes after
// any attempt started, and HR's cool-down after every Cooldown.After
// failed attempts in a row, counted from the last failure.
func CooldownUntil(q *quiz.Quiz, p model.LessonProgress) time.Time {
	var until time.Time
	if q.CooldownMinutes > 0 && !p.LastAttempt.IsZero() {
		until = p.LastAttempt.Add(time.Duration(q.CooldownMinutes) * time.Minute)
	}
	if cd := q.Cooldown; cd.After > 0 && !p.LastFailed.IsZero() {
		if run := p.FailRun(); run > 0 && run%cd.After == 0 {
			if t := p.LastFailed.Add(cd.Wait); t.After(until) {
				until = t
			}
		}
	}
	return until
}

// Cooldown returns until when the user must wait before the next attempt
// at a lesson (zero: they need not). It reads nothing but the cached quiz.
func (s *Service) Cooldown(ctx context.Context, st *Standing) (time.Time, error) {
	q, err := s.Quiz(ctx, st.Lesson.Slug, st.Lesson.Current)
	if err != nil {
		return time.Time{}, err
	}
	if until := CooldownUntil(q, st.Progress); s.Now().Before(until) {
		return until, nil
	}
	return time.Time{}, nil
}

// Store is what training reads and writes of the database: lessons, attempts,
// receipts, progress, certificates and bulk actions, in typed operations
// (storage.Storage is one; cli hands it in).
type Store interface {
	AddBulkAction(ctx context.Context, a *model.BulkAction) error
	AddItemTallies(ctx context.Context, slug string, passed bool, ts []model.ItemTally) error
	AllProgress(ctx context.Context) (map[string]model.Progress, error)
	Attempt(ctx context.Context, id string) (*model.Attempt, error)
	Audit(ctx context.Context, e *model.AuditEntry) error
	BulkAction(ctx context.Context, id string) (*model.BulkAction, error)
	BulkActions(ctx context.Context, limit int64) ([]model.BulkAction, error)
	Certificate(ctx context.Context, code string) (*model.Certificate, error)
	CertificateByFingerprint(ctx context.Context, fp string) (*model.Certificate, error)
	ClaimBulkUndo(ctx context.Context, id, by string, at time.Time) error
	CreateAttempt(ctx context.Context, a *model.Attempt) error
	CreateCertificate(ctx context.Context, c *model.Certificate) error
	CreateLessonVersion(ctx context.Context, v *model.LessonVersion) error
	CreateReceipt(ctx context.Context, r *model.Receipt) error
	EachProgress(ctx context.Context, fn func(*model.Progress) error) error
	EachReceipt(ctx context.Context, fn func(*model.Receipt) error) error
	EventsOf(ctx context.Context, userIDs []string) (map[string]*model.Events, error)
	EventUsersSince(ctx context.Context, since time.Time) ([]string, error)
	ExportReceipts(ctx context.Context, f model.ReceiptFilter, fn func(*model.Receipt) error) error
	LastReceipt(ctx context.Context, userID string) (*model.Receipt, error)
	LatestCertificate(ctx context.Context, userID string) (*model.Certificate, error)
	Lesson(ctx context.Context, slug string) (*model.Lesson, error)
	Lessons(ctx context.Context) ([]model.Lesson, error)
	LessonVersion(ctx context.Context, slug string, n int) (*model.LessonVersion, error)
	MarkBulkUndone(ctx context.Context, id, by string, at time.Time) error
	Progress(ctx context.Context, userID string) (*model.Progress, error)
	ProgressOf(ctx context.Context, ids []string) (map[string]model.Progress, error)
	ProgressPending(ctx context.Context) (time.Time, bool, error)
	PublishLesson(ctx context.Context, l *model.Lesson) error
	Receipt(ctx context.Context, id string) (*model.Receipt, error)
	ReceiptFor(ctx context.Context, userID, slug string, version int) (*model.Receipt, error)
	ReceiptID(userID, slug string, version int) (id string, found, known bool)
	RecentEventUsers(ctx context.Context, n int64) ([]string, error)
	RecordEventProgress(ctx context.Context, userID, slug string, u model.ProgressUpdate) error
	RecordReceipt(ctx context.Context, r *model.Receipt) error
	ReplaceProgress(ctx context.Context, p *model.Progress) error
	SearchUsers(ctx context.Context, q model.UserSearch) ([]model.User, bool, error)
	SetException(ctx context.Context, userID, slug string, ex *model.Exception) error
	SetExceptions(ctx context.Context, slug string, exs map[string]*model.Exception) error
	SetLessonSettings(ctx context.Context, slug string, order int, audience string, dueDays, validMonths int) error
	SettleProgress(ctx context.Context) error
	StoredProgressOf(ctx context.Context, userIDs []string) (map[string]*model.Progress, error)
	SubmitAttempt(ctx context.Context, a *model.Attempt) (bool, error)
	UpdateLessonProgress(ctx context.Context, userID, slug string, u model.ProgressUpdate) error
	User(ctx context.Context, id string) (*model.User, error)
	UserDirectory(ctx context.Context) ([]model.User, error)
	UserIDs(ctx context.Context) ([]string, error)
	UserReceipts(ctx context.Context, userID string) ([]model.Receipt, error)
	UsersByLogin(ctx context.Context, logins []string) (map[string]*model.User, error)
}

// Service is the training domain over its Store.
type Service struct {
	store    Store
	renderer *lesson.Renderer
	log      *slog.Logger
	now      func() time.Time

	// Published versions and their quizzes never change: cached for good.
	versions sync.Map // versionID -> *model.LessonVersion
	quizzes  sync.Map // versionID -> *quiz.Quiz

	randMu sync.Mutex
	rand   *rand.Rand

	metrics *metrics.Metrics // counts attempts and receipts; nil: not counted

	// bulk runs this process's bulk actions and undos one at a time, so
	// each plans from what the one before it wrote (a double-clicked
	// confirm then finds nobody left to change).
	bulk sync.Mutex

	// OnAcknowledged, when set, hears of each signature (the inbox marks
	// the reminders it answers as read). It runs in the signing request.
	OnAcknowledged func(ctx context.Context, u *model.User) error
}

// SetMetrics makes the service count graded attempts and receipts in m.
func (s *Service) SetMetrics(m *metrics.Metrics) { s.metrics = m }

// New returns a Service. now may be nil for the wall clock.
func New(store Store, renderer *lesson.Renderer, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(fmt.Errorf("training: crypto/rand failed: %w", err))
	}
	// ChaCha8 seeded from crypto/rand: draws nobody can predict, and cheap.
	r := rand.New(rand.NewChaCha8(seed)) // #nosec G404 -- a CSPRNG, seeded from crypto/rand
	return &Service{store: store, renderer: renderer, log: log, now: now, rand: r}
}

// Now is the service's clock, in UTC at millisecond precision (what the
// database stores, so hashes computed before and after storing agree).
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func notFound(err error) error {
	if errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Version returns a published lesson version (cached).
func (s *Service) Version(ctx context.Context, slug string, n int) (*model.LessonVersion, error) {
	id := model.VersionID(slug, n)
	if v, ok := s.versions.Load(id); ok {
		return v.(*model.LessonVersion), nil
	}
	v, err := s.store.LessonVersion(ctx, slug, n)
	if err != nil {
		return nil, notFound(err)
	}
	s.versions.Store(id, v)
	return v, nil
}

// WarmCurrent reads every lesson's current version and its quiz into the
// caches, so the first lesson page after a start reads neither; it returns
// how many lessons.
func (s *Service) WarmCurrent(ctx context.Context) (int, error) {
	ls, err := s.store.Lessons(ctx)
	if err != nil {
		return 0, err
	}
	for _, l := range ls {
		if l.Current == 0 {
			continue // not published yet
		}
		if _, err := s.Quiz(ctx, l.Slug, l.Current); err != nil {
			return 0, err
		}
	}
	return len(ls), nil
}

// Quiz returns the quiz of a lesson version (cached).
func (s *Service) Quiz(ctx context.Context, slug string, n int) (*quiz.Quiz, error) {
	id := model.VersionID(slug, n)
	if q, ok := s.quizzes.Load(id); ok {
		return q.(*quiz.Quiz), nil
	}
	v, err := s.Version(ctx, slug, n)
	if err != nil {
		return nil, err
	}
	q, probs := quiz.Parse(slug+".yaml", []byte(v.QuizSource), nil)
	if q == nil {
		return nil, fmt.Errorf("training: stored quiz of %s is invalid: %v", id, probs)
	}
	s.quizzes.Store(id, q)
	return q, nil
}

// Assigned reports whether u must take a lesson: HR's exception for u
// decides first (exempt, or assigned beyond the audience), else the
// audience: "all", or a comma list naming one of u's roles or department.
func Assigned(l *model.Lesson, u *model.User) bool {
	switch ex := u.Exceptions[l.Slug]; {
	case ex.Exempt:
		return false // HR exempted this person
	case ex.Assigned:
		return true // HR assigned it beyond the audience
	}
	a := strings.TrimSpace(l.Audience)
	if a == "" || a == "all" {
		return true
	}
	for _, part := range strings.Split(a, ",") {
		part = strings.TrimSpace(part)
		if part == "all" || (part != "" && (u.HasRole(part) || part == u.Department)) {
			return true
		}
	}
	return false
}

// StaffOnly reports whether u holds only the roles that run the portal
// (HR, administrator) and none that learns (employee, manager).
func StaffOnly(u *model.User) bool {
	return len(u.Roles) > 0 && !u.HasRole(model.RoleEmployee) && !u.HasRole(model.RoleManager)
}

// AssignedByName reports whether l is assigned to u by more than an
// audience of "all": HR assigned it to u, or the audience names one of
// u's roles or u's department. The company's completion counts a staff
// account (StaffOnly) only in the lessons assigned to it by name.
func AssignedByName(l *model.Lesson, u *model.User) bool {
	if !Assigned(l, u) {
		return false
	}
	if u.Exceptions[l.Slug].Assigned {
		return true
	}
	for _, part := range strings.Split(l.Audience, ",") {
		part = strings.TrimSpace(part)
		if part != "" && part != "all" && (u.HasRole(part) || part == u.Department) {
			return true
		}
	}
	return false
}

// assignedLesson loads a lesson and checks that u must take it.
func (s *Service) assignedLesson(ctx context.Context, u *model.User, slug string) (*model.Lesson, error) {
	// Input that cannot be a slug never reaches a query.
	if !lesson.ValidID(slug) {
		return nil, ErrNotFound
	}
	l, err := s.store.Lesson(ctx, slug)
	if err != nil {
		return nil, notFound(err)
	}
	if !Assigned(l, u) {
		return nil, ErrNotAssigned
	}
	return l, nil
}

// Status codes of a lesson for a user, as the API names them.
const (
	StatusNotStarted = "not_started"
	StatusReading    = "reading"
	StatusQuizPassed = "quiz_passed"
	StatusDone       = "done"
	StatusNeedsReack = "needs_reack"
	// StatusQuizFailed is what managers' reports show instead of reading
	// when the quiz asked now was failed and not passed since (see
	// Standing.ReportCode); the learner's own pages keep reading, with
	// their attempts.
	StatusQuizFailed = "quiz_failed"
)

// Standing is where a user is in one lesson.
type Standing struct {
	Lesson   model.Lesson
	Progress model.LessonProgress
	Code     string
	Due      time.Time
	Overdue  bool
	// QuizDone says the quiz need not be taken again for the current version.
	QuizDone bool
	// Renewal says the lesson is due again because the signature aged out
	// (the validity period), not because the text changed.
	Renewal bool
	// Expires is when the current signature ages out (zero: never).
	Expires time.Time
}

// StandingOf derives the status of one lesson from the user's progress.
func StandingOf(l model.Lesson, p model.LessonProgress, hired, now time.Time) Standing {
	st := Standing{Lesson: l, Progress: p, QuizDone: p.PassVersion >= max(l.QuizFrom, 1)}
	if p.AckVersion >= max(l.Required, 1) && l.ValidMonths > 0 && !p.Acknowledged.IsZero() {
		st.Expires = p.Acknowledged.AddDate(0, l.ValidMonths, 0)
	}
	switch {
	case !st.Expires.IsZero() && !now.Before(st.Expires):
		st.Code, st.Renewal = StatusNeedsReack, true
	case p.AckVersion >= max(l.Required, 1):
		st.Code = StatusDone
	case p.AckVersion > 0:
		st.Code = StatusNeedsReack
	case st.QuizDone:
		st.Code = StatusQuizPassed
	case p.ReadVersion > 0 || p.Attempts > 0:
		st.Code = StatusReading
	default:
		st.Code = StatusNotStarted
	}
	switch {
	case st.Renewal:
		st.Due = st.Expires.AddDate(0, 0, l.GraceDays)
	case p.AckVersion > 0 && st.Code == StatusNeedsReack:
		st.Due = l.RequiredAt.AddDate(0, 0, l.GraceDays)
	default:
		// From the hire date, or from when the lesson appeared for people
		// hired before it: a new lesson does not make everyone overdue.
		start := hired
		if l.Since.After(start) {
			start = l.Since
		}
		st.Due = start.AddDate(0, 0, l.DueDays)
	}
	st.Overdue = st.Code != StatusDone && now.After(st.Due)
	return st
}

// QuizFailed reports whether the quiz the lesson asks now was failed and
// has not been passed since: a failed attempt at a version from QuizFrom on
// (a pass there would have made QuizDone).
func (st Standing) QuizFailed() bool {
	if st.QuizDone || st.Code != StatusReading {
		return false
	}
	from := max(st.Lesson.QuizFrom, 1)
	for k, n := range st.Progress.Fails {
		if v, err := strconv.Atoi(strings.TrimPrefix(k, "v")); err == nil && v >= from && n > 0 {
			return true
		}
	}
	return false
}

// ReportCode is the status as others see it (a manager's matrix, a
// person's page, the exports): quiz_failed instead of reading when
// QuizFailed says so; otherwise Code.
func (st Standing) ReportCode() string {
	if st.QuizFailed() {
		return StatusQuizFailed
	}
	return st.Code
}

// StandingFor is StandingOf for a person, with HR's extension of their
// due date applied.
func StandingFor(l model.Lesson, p model.LessonProgress, u *model.User, now time.Time) Standing {
	st := StandingOf(l, p, u.Hired, now)
	if until := u.Exceptions[l.Slug].Until; st.Code != StatusDone && until.After(st.Due) {
		st.Due = until
		st.Overdue = now.After(st.Due)
	}
	return st
}

// Standings returns every lesson assigned to u with its status, in order.
func (s *Service) Standings(ctx context.Context, u *model.User) ([]Standing, error) {
	var (
		lessons []model.Lesson
		err     error
	)
	// Each standing copies its lesson: the store's own list, when it lends
	// it, saves a copy of every lesson per page.
	if ro, ok := s.store.(lessonLender); ok {
		lessons, err = ro.LessonsReadOnly(ctx)
	} else {
		lessons, err = s.store.Lessons(ctx)
	}
	if err != nil {
		return nil, err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := make([]Standing, 0, len(lessons)) // grown by append, a page's largest garbage
	for _, l := range lessons {
		if l.Current == 0 || !Assigned(&l, u) {
			continue
		}
		out = append(out, StandingFor(l, prog.Lessons[l.Slug], u, now))
	}
	return out, nil
}

// lessonLender is a store that lends its kept list of lessons: the caller
// reads it and never changes it.
type lessonLender interface {
	LessonsReadOnly(ctx context.Context) ([]model.Lesson, error)
}

// Standing returns the status of one assigned lesson.
func (s *Service) Standing(ctx context.Context, u *model.User, slug string) (*Standing, error) {
	l, err := s.assignedLesson(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	st := StandingFor(*l, prog.Lessons[slug], u, s.Now())
	return &st, nil
}

// Open returns the current version of an assigned lesson. It changes
// nothing: a GET never does. Reading is recorded by MarkRead.
func (s *Service) Open(ctx context.Context, u *model.User, slug string) (*model.Lesson, *model.LessonVersion, error) {
	l, err := s.assignedLesson(ctx, u, slug)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.Version(ctx, slug, l.Current)
	if err != nil {
		return nil, nil, err
	}
	return l, v, nil
}

// MarkRead records that the user read the current version.
func (s *Service) MarkRead(ctx context.Context, u *model.User, slug string) (int, error) {
	l, err := s.assignedLesson(ctx, u, slug)
	if err != nil {
		return 0, err
	}
	err = s.store.UpdateLessonProgress(ctx, u.ID, slug, model.ProgressUpdate{ReadVersion: l.Current})
	return l.Current, err
}

// StartAttempt draws a new attempt at the quiz of the lesson's current
// version. After a re-quiz publish, a user who passed before is asked only
// the questions on the clauses that changed.
func (s *Service) StartAttempt(ctx context.Context, u *model.User, slug, lang string) (*model.Attempt, error) {
	l, err := s.assignedLesson(ctx, u, slug)
	if err != nil {
		return nil, err
	}
	q, err := s.Quiz(ctx, slug, l.Current)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := prog.Lessons[slug]
	if p.PassVersion >= max(l.QuizFrom, 1) {
		return nil, ErrAlreadyDone
	}
	now := s.Now()
	if until := CooldownUntil(q, p); now.Before(until) {
		return nil, &CooldownError{Until: until}
	}
	if q.MaxAttempts > 0 && p.Attempts >= q.MaxAttempts {
		return nil, ErrNoAttemptsRemaining
	}
	pool := q.IDs(nil)
	if p.PassVersion > 0 && l.QuizFrom > p.PassVersion {
		// Asked again: the questions on every clause that a re-quiz
		// publish changed since the version the person passed.
		var changed []string
		for n := p.PassVersion + 1; n <= l.QuizFrom; n++ {
			v, err := s.Version(ctx, slug, n)
			if err != nil {
				return nil, err
			}
			if v.Kind == model.ChangeRequiz {
				for _, c := range v.Changed {
					if !slices.Contains(changed, c) {
						changed = append(changed, c)
					}
				}
			}
		}
		if ids := q.IDs(changed); len(changed) > 0 && len(ids) > 0 {
			pool = ids
		}
	}
	s.randMu.Lock()
	drawn := q.Draw(pool, q.PerAttempt, s.rand)
	s.randMu.Unlock()
	a := &model.Attempt{
		ID: model.NewID(), UserID: u.ID, Lesson: slug, Version: l.Current, Lang: lang,
		Questions: drawn, Started: now, PassMark: q.PassMark,
	}
	if err := s.store.CreateAttempt(ctx, a); err != nil {
		return nil, err
	}
	// Follows from the stored attempt: a sole writer writes it behind.
	err = s.store.RecordEventProgress(ctx, u.ID, slug, model.ProgressUpdate{LastAttempt: now, AddAttempts: 1})
	return a, err
}

// Attempt returns one of the user's own attempts.
func (s *Service) Attempt(ctx context.Context, u *model.User, id string) (*model.Attempt, *quiz.Quiz, error) {
	if !validObjectID(id) {
		return nil, nil, ErrNotFound
	}
	a, err := s.store.Attempt(ctx, id)
	if err != nil {
		return nil, nil, notFound(err)
	}
	if a.UserID != u.ID {
		// Someone else's attempt does not exist for this user.
		return nil, nil, ErrNotFound
	}
	q, err := s.Quiz(ctx, a.Lesson, a.Version)
	if err != nil {
		return nil, nil, err
	}
	return a, q, nil
}

// Unanswered returns the ids of a's questions that answers leaves blank,
// in the attempt's order. Pages and the API ask before grading those.
func Unanswered(a *model.Attempt, answers map[string][]string) []string {
	var out []string
	for _, q := range a.Questions {
		if !slices.ContainsFunc(answers[q.ID], func(s string) bool { return s != "" }) {
			out = append(out, q.ID)
		}
	}
	return out
}

// Submit grades an attempt once. Submitting it again, or concurrently,
// returns the result stored first.
func (s *Service) Submit(ctx context.Context, u *model.User, id string, answers map[string][]string) (*model.Attempt, *quiz.Quiz, error) {
	a, q, err := s.Attempt(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	got, err := s.Grade(ctx, u, a, q, answers)
	return got, q, err
}

// Grade is Submit of an attempt the caller has just read with Attempt (a
// handler that looked at it first), without reading it again: a stale
// copy grades nothing twice, since the result's insert decides.
func (s *Service) Grade(ctx context.Context, u *model.User, a *model.Attempt, q *quiz.Quiz, answers map[string][]string) (*model.Attempt, error) {
	if a.UserID != u.ID {
		return nil, ErrNotFound
	}
	cp := *a // the caller's copy stays as it was read
	a = &cp
	if a.Submitted {
		// Graded before; make sure its progress update is in place too
		// (the grading request may have stopped in between).
		if err := s.recordPass(ctx, u, a); err != nil {
			return nil, err
		}
		return a, nil
	}
	if q.Cooldown.After > 0 {
		// An attempt drawn before the cool-down began is not graded
		// during it: else starting several at once would skip it.
		prog, err := s.store.Progress(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if until := CooldownUntil(q, prog.Lessons[a.Lesson]); s.Now().Before(until) {
			return nil, &CooldownError{Until: until}
		}
	}
	a.Answers, a.Score = q.Grade(a.Questions, answers)
	a.PassMark = q.PassMark
	a.Passed = a.Score >= q.PassMark
	a.At = s.Now()
	won, err := s.store.SubmitAttempt(ctx, a)
	if err != nil {
		return nil, err
	}
	if !won {
		stored, err := s.store.Attempt(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if err := s.recordPass(ctx, u, stored); err != nil {
			return nil, err
		}
		return stored, nil
	}
	a.Submitted = true
	s.metrics.QuizAttempt(a.Passed)
	// Item statistics are a projection (RebuildItemStats recomputes it):
	// a failure to count is logged, the learner's result stands.
	if err := s.store.AddItemTallies(ctx, a.Lesson, a.Passed, q.Tallies(a.Lesson, a.Answers)); err != nil {
		s.log.ErrorContext(ctx, "item statistics not updated", "attempt", a.ID, "err", err)
	}
	if !a.Passed {
		// Counted for the cool-down: $inc per version, $max on the time,
		// both rebuilt from the events by ExpectedProgress.
		err := s.store.RecordEventProgress(ctx, u.ID, a.Lesson, model.ProgressUpdate{LastFailed: a.At, FailedVersion: a.Version})
		if err != nil {
			return nil, err
		}
	}
	if a.Passed {
		// This request graded it: progress cannot show the pass yet
		// unless a pass of this version came before, and $max keeps
		// that. No read first: one round trip less per submit. Both
		// follow from the stored result: a sole writer writes them behind.
		err := s.store.RecordEventProgress(ctx, u.ID, a.Lesson, model.ProgressUpdate{PassVersion: a.Version})
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

// recordPass moves progress to a passed attempt's version, unless it is
// there already. $max makes it safe to repeat.
func (s *Service) recordPass(ctx context.Context, u *model.User, a *model.Attempt) error {
	if !a.Passed {
		return nil
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return err
	}
	if prog.Lessons[a.Lesson].PassVersion >= a.Version {
		return nil
	}
	return s.store.UpdateLessonProgress(ctx, u.ID, a.Lesson, model.ProgressUpdate{PassVersion: a.Version})
}

// Receipts returns the user's receipts, oldest first.
func (s *Service) Receipts(ctx context.Context, u *model.User) ([]model.Receipt, error) {
	return s.store.UserReceipts(ctx, u.ID)
}

// Receipt returns one of the user's own receipts.
func (s *Service) Receipt(ctx context.Context, u *model.User, id string) (*model.Receipt, error) {
	if !validObjectID(id) {
		return nil, ErrNotFound
	}
	r, err := s.store.Receipt(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	if r.UserID != u.ID {
		return nil, ErrNotFound
	}
	return r, nil
}

// validObjectID reports whether id has the shape of model.NewID's ids.
func validObjectID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// maxSignature bounds a typed signature (a name) in characters.
const maxSignature = 100

// SignatureMatches reports whether a typed signature is the user's name,
// ignoring case and white space.
func SignatureMatches(u *model.User, sig string) bool {
	if len([]rune(sig)) > maxSignature {
		return false
	}
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	return norm(sig) != "" && norm(sig) == norm(u.Name)
}

// langOrDefault picks a supported language.
func langOrDefault(lang string) string {
	if slices.Contains(model.Languages, lang) {
		return lang
	}
	return model.LangZH
}

// LessonAt returns a lesson and one of its published versions.
func (s *Service) LessonAt(ctx context.Context, slug string, n int) (*model.Lesson, *model.LessonVersion, error) {
	if !lesson.ValidID(slug) {
		return nil, nil, ErrNotFound
	}
	l, err := s.store.Lesson(ctx, slug)
	if err != nil {
		return nil, nil, notFound(err)
	}
	v, err := s.Version(ctx, slug, n)
	if err != nil {
		return nil, nil, err
	}
	return l, v, nil
}

// LessonTitles maps every lesson's slug to its title in lang.
func (s *Service) LessonTitles(ctx context.Context, lang string) (map[string]string, error) {
	ls, err := s.store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ls))
	for _, l := range ls {
		out[l.Slug] = l.Title(lang)
	}
	return out, nil
}

// ReceiptFor returns the user's receipt for a lesson version.
func (s *Service) ReceiptFor(ctx context.Context, u *model.User, slug string, version int) (*model.Receipt, error) {
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	r, err := s.signed(ctx, u, prog, slug, version)
	return r, notFound(err)
}

// ReceiptIDOf returns the id of the receipt behind a standing's
// acknowledged version, from a sole writer's index of receipts without a
// read (storage.ReceiptID); otherwise from the progress the standing was
// computed from and the receipt it names.
func (s *Service) ReceiptIDOf(ctx context.Context, u *model.User, st *Standing) (string, error) {
	if id, found, known := s.store.ReceiptID(u.ID, st.Lesson.Slug, st.Progress.AckVersion); known {
		if !found {
			return "", ErrNotFound
		}
		return id, nil
	}
	prog := &model.Progress{UserID: u.ID, Lessons: map[string]model.LessonProgress{st.Lesson.Slug: st.Progress}}
	r, err := s.signed(ctx, u, prog, st.Lesson.Slug, st.Progress.AckVersion)
	if err != nil {
		return "", notFound(err)
	}
	return r.ID, nil
}

// Changes returns what changed in a lesson's text, in lang, between the
// version the user signed and the current one: nil when nothing needs
// showing (never signed, or signed the current text).
func (s *Service) Changes(ctx context.Context, st *Standing, lang string) (from int, ops []lesson.Op, err error) {
	from = st.Progress.AckVersion
	if from == 0 || from >= st.Lesson.Current {
		return 0, nil, nil
	}
	old, err := s.Version(ctx, st.Lesson.Slug, from)
	if err != nil {
		return 0, nil, err
	}
	cur, err := s.Version(ctx, st.Lesson.Slug, st.Lesson.Current)
	if err != nil {
		return 0, nil, err
	}
	a, _ := old.Text(lang)
	b, _ := cur.Text(lang)
	text := func(t model.LessonText) string {
		return t.Title + "\n\n" + t.Summary + "\n\n" + lesson.Readable(t.Markdown)
	}
	ops = lesson.Diff(text(a), text(b), lang)
	if !lesson.Changed(ops) {
		return from, nil, nil
	}
	return from, lesson.Collapse(ops, 2), nil
}

// Errors of exceptions.
var (
	ErrExceptionReason error = &fault.Error{Kind: fault.Invalid, Text: "training: an exception needs a reason",
		Key: "hr.exceptions.need_reason", Message: "an exception needs a reason", Field: "reason"}
	ErrExceptionUntil error = &fault.Error{Kind: fault.Invalid, Text: "training: an extension needs a date in the future",
		Key: "hr.exceptions.bad_date", Message: "an extension needs a date in the future", Field: "until"}
)

// SetException records HR's decision for one person and lesson: exempt,
// extended until a date, or (kind "") back to normal. Audited.
func (s *Service) SetException(ctx context.Context, by, u *model.User, slug, kind string, until time.Time, reason string) error {
	if !lesson.ValidID(slug) {
		return ErrNotFound
	}
	if _, err := s.store.Lesson(ctx, slug); err != nil {
		return notFound(err)
	}
	reason = strings.TrimSpace(reason)
	var ex *model.Exception
	switch kind {
	case "":
	case "exempt", "extend":
		if reason == "" || len([]rune(reason)) > 300 {
			return ErrExceptionReason
		}
		ex = &model.Exception{Exempt: kind == "exempt", Reason: reason, By: by.Login, At: s.Now()}
		if kind == "extend" {
			if !until.After(s.Now()) {
				return ErrExceptionUntil
			}
			ex.Until = until.UTC()
			ex.Assigned = u.Exceptions[slug].Assigned // more time does not take back a lesson HR assigned
		}
	default:
		return fmt.Errorf("training: exception kind %q: want exempt, extend or none", kind)
	}
	if err := s.store.SetException(ctx, u.ID, slug, ex); err != nil {
		return err
	}
	detail := "none"
	if ex != nil {
		detail = kind + ": " + reason
		if kind == "extend" {
			detail = "extend until " + ex.Until.Format(time.DateOnly) + ": " + reason
		}
	}
	return s.store.Audit(ctx, &model.AuditEntry{At: s.Now(), Actor: by.Login, Action: "person.exception", Target: u.Login + "/" + slug, Detail: detail})
}

// Lessons returns every lesson, in order.
func (s *Service) Lessons(ctx context.Context) ([]model.Lesson, error) {
	return s.store.Lessons(ctx)
}

// ExportReceipts calls fn with every receipt matching f, oldest first, in
// constant memory: HR's export.
func (s *Service) ExportReceipts(ctx context.Context, f model.ReceiptFilter, fn func(*model.Receipt) error) error {
	return s.store.ExportReceipts(ctx, f, fn)
}
