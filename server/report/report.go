// Package report builds what managers and HR see of other people's
// training: the team matrix, a person's record, the organisation summary,
// and their CSV and XLSX exports. Statuses come from training.StandingOf,
// computed in Go over one read of the people and one of their progress.
package report

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"conductportal/server/fault"
	"conductportal/server/model"
)

// Errors the callers turn into 403 and 404.
var (
	ErrForbidden error = &fault.Error{Kind: fault.Forbidden, Text: "report: not allowed", Message: "you may not see this report"}
	ErrNotFound  error = &fault.Error{Kind: fault.NotFound, Text: "report: not found"}
)

// When other portal instances share the database, the cached list of
// people is checked against the database's users generation (one read by
// _id) at most every directoryCheck, so another instance's change shows
// within that; directoryTTL reloads it regardless (in the background, up
// to twice that), should a generation write have failed. Changes made by
// this process are seen at once.
const (
	directoryCheck = time.Second
	directoryTTL   = time.Minute
)

// Store is what reports read of the database (storage.Storage is one; cli
// hands it in).
type Store interface {
	AttemptHistory(ctx context.Context, userID string) ([]model.Attempt, error)
	LessonVersion(ctx context.Context, slug string, n int) (*model.LessonVersion, error)
	Lessons(ctx context.Context) ([]model.Lesson, error)
	NotificationsAbout(ctx context.Context, userID string, limit int64) ([]model.Notification, error)
	Progress(ctx context.Context, userID string) (*model.Progress, error)
	ProgressGeneration() (gen uint64, ok bool)
	ProgressLookup(ctx context.Context) (func(userID string) model.Progress, error)
	ProgressOf(ctx context.Context, ids []string) (map[string]model.Progress, error)
	SharedUserDirectory(ctx context.Context) ([]*model.User, error)
	SharedUsersGeneration(ctx context.Context) (string, error)
	SoleWriter() bool
	UserReceipts(ctx context.Context, userID string) ([]model.Receipt, error)
	UsersGeneration() uint64
	WarmProgress(ctx context.Context) error
}

// Service answers report questions.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	mu  sync.Mutex
	dir *Directory
	// loading is held by the one request loading the directory: the others
	// wait for its list instead of each scanning the users (on a shared
	// database 8 concurrent scans of 10,000 users all ran past the request
	// deadline, so none was ever kept).
	loading sync.Mutex

	// orgMu guards org, the last organisation view (see orgMemo), and
	// orgRun, the one being computed (one at a time: see Organisation).
	orgMu  sync.Mutex
	org    *orgMemo
	orgRun *orgRun
	// orgSlow is the computing time from which a kept view is answered
	// while the next one computes (orgSlow; tests change it), beforeOrg a
	// test's hook run before each computation.
	orgSlow   time.Duration
	beforeOrg func()
}

// New returns a Service logging what it does in the background to log;
// log and now may be nil (nothing logged; the wall clock).
func New(store Store, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, log: log, now: now, orgSlow: orgSlow}
}

// Warm loads what the reports cache, so the first report is quick.
func (s *Service) Warm(ctx context.Context) error {
	if _, err := s.Directory(ctx); err != nil {
		return err
	}
	if err := s.store.WarmProgress(ctx); err != nil {
		return fmt.Errorf("report: warm: %w", err)
	}
	return nil
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Directory is every user, indexed, without secrets. It is shared: read
// only (for a sole writer its users are storage's own). It looks people up
// by binary search, not by maps: two maps of 100,000 people held 11 MB,
// the sorted ids 0.4 MB (TestDirectoryLookups).
type Directory struct {
	Users   []*model.User // by login
	byID    []int32       // indexes into Users, by the users' _id
	gen     uint64
	shared  string       // the database's users generation when loaded
	loaded  time.Time    // by the service's clock, which its age is read by
	checked atomic.Int64 // unix nanoseconds of the last generation check
}

// ByLogin returns the user with login, or nil.
func (d *Directory) ByLogin(login string) *model.User {
	i, ok := slices.BinarySearchFunc(d.Users, login, func(u *model.User, l string) int { return strings.Compare(u.Login, l) })
	if !ok {
		return nil
	}
	return d.Users[i]
}

// ByID returns the user with id, or nil.
func (d *Directory) ByID(id string) *model.User {
	i, ok := slices.BinarySearchFunc(d.byID, id, func(x int32, id string) int { return strings.Compare(d.Users[x].ID, id) })
	if !ok {
		return nil
	}
	return d.Users[d.byID[i]]
}

// newDirectory indexes users (which it may reorder by login).
func newDirectory(users []*model.User) *Directory {
	byLogin := func(a, b *model.User) int { return strings.Compare(a.Login, b.Login) }
	if !slices.IsSortedFunc(users, byLogin) { // the database's order, should it differ from Go's
		slices.SortFunc(users, byLogin)
	}
	d := &Directory{Users: users, byID: make([]int32, len(users))}
	for i := range d.byID {
		d.byID[i] = int32(i) // #nosec G115 -- fewer people than that
	}
	slices.SortFunc(d.byID, func(a, b int32) int { return strings.Compare(users[a].ID, users[b].ID) })
	return d
}

// Directory returns the cached directory, loading it when this process
// changed a user since, or when another instance did (shared). Past
// directoryTTL a shared instance answers the kept one while one load runs
// behind it (a scan of the users, seconds on PostgreSQL: requests waiting
// for it ran past their deadline), up to twice that.
func (s *Service) Directory(ctx context.Context) (*Directory, error) {
	if d, ok, err := s.keptDirectory(ctx); ok || err != nil {
		return d, err
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	if d, ok, err := s.keptDirectory(ctx); ok || err != nil { // loaded while this one waited
		return d, err
	}
	return s.loadDirectory(ctx)
}

// keptDirectory is the kept directory while it may be answered (ok).
func (s *Service) keptDirectory(ctx context.Context) (*Directory, bool, error) {
	gen := s.store.UsersGeneration()
	s.mu.Lock()
	d := s.dir
	s.mu.Unlock()
	if d == nil || d.gen != gen {
		return nil, false, nil
	}
	if s.store.SoleWriter() {
		return d, true, nil
	}
	fresh, err := s.sharedFresh(ctx, d)
	if err != nil || !fresh {
		return d, false, err
	}
	if age := s.now().Sub(d.loaded); age >= directoryTTL {
		s.reloadBehind()
		return d, age < 2*directoryTTL, nil
	}
	return d, true, nil
}

// reloadBehind loads the directory again in the background, unless a load
// runs.
func (s *Service) reloadBehind() {
	if !s.loading.TryLock() {
		return
	}
	go func() {
		defer s.loading.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.loadDirectory(ctx); err != nil {
			s.log.Warn("directory not loaded again; the kept one answers meanwhile", "err", err)
		}
	}()
}

// sharedFresh reports whether d still holds what the shared database
// holds: true within directoryCheck of the last check, else when the
// database's users generation has not moved. Its age is the caller's.
func (s *Service) sharedFresh(ctx context.Context, d *Directory) (bool, error) {
	now := time.Now()
	if now.UnixNano()-d.checked.Load() < int64(directoryCheck) {
		return true, nil
	}
	shared, err := s.store.SharedUsersGeneration(ctx)
	if err != nil {
		return false, fmt.Errorf("report: directory: %w", err)
	}
	if shared != d.shared {
		return false, nil
	}
	d.checked.Store(now.UnixNano())
	return true, nil
}

// loadDirectory reads every user into a new kept directory.
func (s *Service) loadDirectory(ctx context.Context) (*Directory, error) {
	gen := s.store.UsersGeneration()
	// The generation is read before the users: a change written after
	// this read moves it on, and the next check reloads.
	var shared string
	if !s.store.SoleWriter() {
		var err error
		if shared, err = s.store.SharedUsersGeneration(ctx); err != nil {
			return nil, fmt.Errorf("report: directory: %w", err)
		}
	}
	users, err := s.store.SharedUserDirectory(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: directory: %w", err)
	}
	d := newDirectory(users)
	d.gen, d.shared, d.loaded = gen, shared, s.now()
	d.checked.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.dir = d
	s.mu.Unlock()
	return d, nil
}

// Lessons returns the published lessons, in order.
func (s *Service) Lessons(ctx context.Context) ([]model.Lesson, error) {
	return s.publishedLessons(ctx)
}

// publishedLessons returns the lessons people can be asked to take.
func (s *Service) publishedLessons(ctx context.Context) ([]model.Lesson, error) {
	all, err := s.store.Lessons(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: lessons: %w", err)
	}
	out := all[:0]
	for _, l := range all {
		if l.Current > 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// Authorization. A manager (role manager) sees their direct reports, the
// users whose manager field is their login; a department manager is a
// manager whose manages field names a department, and also sees everyone
// in it. HR sees everyone. Nobody else, admin included, sees reports:
// admin looks after accounts, not people's training.

// CanSeeReports reports whether u may open any report page.
func CanSeeReports(u *model.User) bool {
	return u != nil && (u.HasRole(model.RoleHR) || u.HasRole(model.RoleManager))
}

// CanSeeOrganisation reports whether u may see the whole organisation.
func CanSeeOrganisation(u *model.User) bool { return u != nil && u.HasRole(model.RoleHR) }

// CanSeePerson reports whether viewer may see person's training record.
func CanSeePerson(viewer, person *model.User) bool {
	switch {
	case viewer == nil || person == nil:
		return false
	case viewer.HasRole(model.RoleHR):
		return true
	case !viewer.HasRole(model.RoleManager) || person.ID == viewer.ID:
		return false
	}
	return person.Manager == viewer.Login || (viewer.Manages != "" && person.Department == viewer.Manages)
}

// Scope is whose training a team view shows: the direct reports of a
// manager and, when set, everyone in a department.
type Scope struct {
	Manager    string `json:"manager,omitempty"`    // a manager's login
	Department string `json:"department,omitempty"` // a department's name
}

// Includes reports whether u belongs to the scope. A manager is not part
// of their own team.
func (sc Scope) Includes(u *model.User) bool {
	if !u.Active || (sc.Manager != "" && u.Login == sc.Manager) {
		return false
	}
	return (sc.Manager != "" && u.Manager == sc.Manager) || (sc.Department != "" && u.Department == sc.Department)
}

// ResolveScope turns what was asked (a manager's login, a department, or
// neither for one's own team) into a scope viewer may see.
func (s *Service) ResolveScope(ctx context.Context, viewer *model.User, manager, department string) (Scope, error) {
	if !CanSeeReports(viewer) {
		return Scope{}, ErrForbidden
	}
	hr := viewer.HasRole(model.RoleHR)
	isManager := viewer.HasRole(model.RoleManager)
	switch {
	case manager == "" && department == "":
		if !isManager {
			return Scope{}, fmt.Errorf("%w: HR chooses a team from the organisation view", ErrNotFound)
		}
		return Scope{Manager: viewer.Login, Department: viewer.Manages}, nil
	case department != "" && manager == "":
		if hr || (isManager && department == viewer.Manages) {
			return Scope{Department: department}, nil
		}
		return Scope{}, ErrForbidden
	case manager != "" && department == "":
		if isManager && manager == viewer.Login {
			return Scope{Manager: viewer.Login, Department: viewer.Manages}, nil
		}
		if !hr {
			return Scope{}, ErrForbidden
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			return Scope{}, err
		}
		m := dir.ByLogin(manager)
		if m == nil {
			return Scope{}, fmt.Errorf("%w: no user %q", ErrNotFound, manager)
		}
		return Scope{Manager: m.Login, Department: m.Manages}, nil
	}
	// Both: only HR, or the manager for their own department.
	if hr || (isManager && manager == viewer.Login && department == viewer.Manages) {
		return Scope{Manager: manager, Department: department}, nil
	}
	return Scope{}, ErrForbidden
}

func percent(a, b int) int {
	if b == 0 {
		return 0
	}
	return a * 100 / b
}
