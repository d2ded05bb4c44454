package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"conductportal/server/model"
	"conductportal/server/training"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// Filter narrows and orders a team view. A person is listed when at least
// one of their cells in the shown lessons matches every criterion set.
type Filter struct {
	Status  string // a training status code; empty for any
	Lesson  string // a lesson slug: show that lesson's column only
	Overdue bool   // overdue cells only
	Reack   bool   // cells that need re-acknowledgement only
	// Expiring: signatures that age out within ExpiringDays.
	Expiring bool
	Sort     string // one of Sorts; empty for name
	Desc     bool
	// Lang is the reader's language, which orders names (see Collator).
	Lang string
}

// Sorts are the orders a team view offers.
var Sorts = []string{"name", "login", "department", "percent", "overdue"}

// Statuses are the status codes a filter may ask for, in display order.
var Statuses = []string{training.StatusNotStarted, training.StatusReading, training.StatusQuizFailed,
	training.StatusQuizPassed, training.StatusDone, training.StatusNeedsReack}

// ParseFilter reads a filter from a request's query: get returns a value,
// flag reports a true-ish one (1, true, on).
func ParseFilter(get func(string) string, flag func(string) bool) Filter {
	return Filter{Status: get("status"), Lesson: get("lesson"), Overdue: flag("overdue"), Reack: flag("reack"),
		Expiring: flag("expiring"), Sort: get("sort"), Desc: flag("desc")}
}

// Normalize drops values that are not allowed, so a hand-edited URL shows
// the unfiltered view rather than an error.
func (f Filter) Normalize(lessons []model.Lesson) Filter {
	if !slices.Contains(Statuses, f.Status) {
		f.Status = ""
	}
	if !slices.ContainsFunc(lessons, func(l model.Lesson) bool { return l.Slug == f.Lesson }) {
		f.Lesson = ""
	}
	if !slices.Contains(Sorts, f.Sort) {
		f.Sort = "name"
	}
	return f
}

// Active reports whether the filter narrows the rows.
func (f Filter) Active() bool {
	return f.Status != "" || f.Lesson != "" || f.Overdue || f.Reack || f.Expiring
}

// ExpiringDays is how far ahead "expiring soon" looks.
const ExpiringDays = 30

func (f Filter) matches(c Cell) bool {
	return c.Assigned && (f.Status == "" || c.Code == f.Status) && (!f.Overdue || c.Overdue) &&
		(!f.Reack || c.Code == training.StatusNeedsReack) && (!f.Expiring || c.Expiring)
}

// Cell is one person's standing in one lesson.
type Cell struct {
	Slug     string    `json:"lesson"`
	Assigned bool      `json:"assigned"`
	Code     string    `json:"status,omitempty"`
	Due      time.Time `json:"due,omitzero"`
	Overdue  bool      `json:"overdue"`
	Renewal  bool      `json:"renewal,omitempty"`  // due again because the signature aged out
	Expires  time.Time `json:"expires,omitzero"`   // when a done lesson's signature ages out
	Expiring bool      `json:"expiring,omitempty"` // it does so within ExpiringDays
	// Completed is when the person last signed the lesson (any version).
	Completed time.Time `json:"completed,omitzero"`
}

// Open reports whether the cell still asks something of the person.
func (c Cell) Open() bool { return c.Assigned && c.Code != training.StatusDone }

// Row is one person of a team.
type Row struct {
	ID         string `json:"-"`
	Login      string `json:"login"`
	Name       string `json:"name"`
	Department string `json:"department"`
	Manager    string `json:"manager"`
	Cells      []Cell `json:"lessons"`
	Assigned   int    `json:"assigned"`
	Done       int    `json:"done"`
	Overdue    int    `json:"overdue"`
	Reack      int    `json:"needs_reack"`
	QuizFailed int    `json:"quiz_failed"`
	Expiring   int    `json:"expiring"`
	Percent    int    `json:"percent"`

	nameKey, deptKey []byte // collation keys of the name and department, for sorting
}

// Total sums one lesson's column, or a whole view.
type Total struct {
	Slug     string `json:"lesson,omitempty"`
	Assigned int    `json:"assigned"`
	Done     int    `json:"done"`
	Overdue  int    `json:"overdue"`
	Reack    int    `json:"needs_reack"`
	// QuizFailed counts cells whose quiz was failed and not passed since.
	QuizFailed int `json:"quiz_failed"`
	Expiring   int `json:"expiring"`
	Percent    int `json:"percent"`
}

func (t *Total) add(c Cell) {
	if !c.Assigned {
		return
	}
	t.Assigned++
	if c.Code == training.StatusDone {
		t.Done++
	}
	if c.Overdue {
		t.Overdue++
	}
	if c.Code == training.StatusNeedsReack {
		t.Reack++
	}
	if c.Code == training.StatusQuizFailed {
		t.QuizFailed++
	}
	if c.Expiring {
		t.Expiring++
	}
	t.Percent = percent(t.Done, t.Assigned)
}

// WeekPoint is the completion of a team at the end of a week.
type WeekPoint struct {
	End     time.Time `json:"week_end"`
	Percent int       `json:"percent"`
	Known   bool      `json:"-"` // false: nothing had been asked of anyone yet
}

// Team is a team view: people by lessons.
type Team struct {
	Scope   Scope          `json:"scope"`
	Filter  Filter         `json:"-"`
	Lessons []model.Lesson `json:"-"` // the columns shown
	// AllLessons are every published lesson, for choosing a column.
	AllLessons []model.Lesson `json:"-"`
	Rows       []Row          `json:"rows"`
	Totals     []Total        `json:"totals"`
	Total      Total          `json:"total"`
	Members    int            `json:"members"` // people in scope before filtering
	Weeks      []WeekPoint    `json:"weeks"`
	At         time.Time      `json:"at"`
}

// chartWeeks is how many weeks the progress chart covers.
const chartWeeks = 12

// Team returns the team view of scope, as viewer may see it (see
// ResolveScope). Two reads: the cached directory and the team's progress.
func (s *Service) Team(ctx context.Context, scope Scope, f Filter) (*Team, error) {
	lessons, err := s.publishedLessons(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := s.Directory(ctx)
	if err != nil {
		return nil, err
	}
	var members []*model.User
	for i := range dir.Users {
		if u := dir.Users[i]; scope.Includes(u) {
			members = append(members, u)
		}
	}
	ids := make([]string, len(members))
	for i, u := range members {
		ids[i] = u.ID
	}
	prog, err := s.store.ProgressOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("report: team: %w", err)
	}
	now := s.Now()
	f = f.Normalize(lessons)
	t := &Team{Scope: scope, Filter: f, Lessons: lessons, AllLessons: lessons, Members: len(members), At: now}
	all := make([]Row, 0, len(members))
	for _, u := range members {
		all = append(all, rowOf(u, lessons, prog[u.ID].Lessons, now))
	}
	t.Weeks = weeks(all, lessons, members, prog, now)
	if f.Lesson != "" {
		i := slices.IndexFunc(lessons, func(l model.Lesson) bool { return l.Slug == f.Lesson })
		t.Lessons = lessons[i : i+1]
		for r := range all {
			all[r] = recount(all[r], all[r].Cells[i:i+1])
		}
	}
	for _, r := range all {
		if !f.Active() || slices.ContainsFunc(r.Cells, f.matches) {
			t.Rows = append(t.Rows, r)
		}
	}
	sortRows(t.Rows, f)
	t.Totals = make([]Total, len(t.Lessons))
	for i, l := range t.Lessons {
		t.Totals[i].Slug = l.Slug
	}
	for _, r := range t.Rows {
		for i, c := range r.Cells {
			t.Totals[i].add(c)
			t.Total.add(c)
		}
	}
	return t, nil
}

func rowOf(u *model.User, lessons []model.Lesson, prog map[string]model.LessonProgress, now time.Time) Row {
	cells := make([]Cell, len(lessons))
	for i := range lessons {
		l := &lessons[i]
		cells[i] = Cell{Slug: l.Slug}
		if !training.Assigned(l, u) {
			continue
		}
		st := training.StandingFor(*l, prog[l.Slug], u, now)
		cells[i] = Cell{Slug: l.Slug, Assigned: true, Code: st.ReportCode(), Overdue: st.Overdue, Renewal: st.Renewal}
		if lp := prog[l.Slug]; lp.AckVersion > 0 {
			cells[i].Completed = lp.Acknowledged
		}
		if st.Code != training.StatusDone {
			cells[i].Due = st.Due
		} else if !st.Expires.IsZero() {
			cells[i].Expires = st.Expires
			cells[i].Expiring = st.Expires.Before(now.AddDate(0, 0, ExpiringDays))
		}
	}
	return recount(Row{ID: u.ID, Login: u.Login, Name: u.Name, Department: u.Department, Manager: u.Manager}, cells)
}

func recount(r Row, cells []Cell) Row {
	var t Total
	for _, c := range cells {
		t.add(c)
	}
	r.Cells, r.Assigned, r.Done, r.Overdue, r.Reack, r.Expiring, r.Percent = cells, t.Assigned, t.Done, t.Overdue, t.Reack, t.Expiring, t.Percent
	r.QuizFailed = t.QuizFailed
	return r
}

// Collator orders names as a reader of lang expects them: by pinyin for
// zh-CN (李 before 刘 before 张, where code points put 刘 first), by the
// language's own rules otherwise.
func Collator(lang string) *collate.Collator {
	tag := language.Chinese
	if lang != "" && lang != "zh-CN" {
		if t, err := language.Parse(lang); err == nil {
			tag = t
		}
	}
	return collate.New(tag)
}

// sortRows orders rows by the filter's key, then by name in the filter's
// language (Collator), then by login.
func sortRows(rows []Row, f Filter) {
	col := Collator(f.Lang)
	var buf collate.Buffer
	for i := range rows {
		// Keys, not comparisons: a collator's key once per row is far
		// cheaper than a collation on every comparison of a large team.
		rows[i].nameKey = bytes.Clone(col.KeyFromString(&buf, rows[i].Name))
		rows[i].deptKey = bytes.Clone(col.KeyFromString(&buf, rows[i].Department))
		buf.Reset()
	}
	by := func(a, b Row) int {
		switch f.Sort {
		case "login":
			return strings.Compare(a.Login, b.Login)
		case "department":
			return bytes.Compare(a.deptKey, b.deptKey)
		case "percent":
			return cmp.Compare(a.Percent, b.Percent)
		case "overdue":
			return cmp.Compare(a.Overdue, b.Overdue)
		}
		return 0
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		c := by(a, b)
		if f.Desc {
			c = -c
		}
		return cmp.Or(c, bytes.Compare(a.nameKey, b.nameKey), strings.Compare(a.Login, b.Login))
	})
}

// weeks rebuilds the team's completion at the end of each of the last
// chartWeeks weeks from the progress projection: a cell counts as done
// from its acknowledgement, until a later version asked for a new one
// (then until that version's publication). A cell counts from when it was
// first asked of the person: the latest of their hire, their account's
// creation and the lesson's first publication; a week before any cell was
// asked is unknown, so the chart starts at the first assignment.
func weeks(rows []Row, lessons []model.Lesson, members []*model.User, prog map[string]model.Progress, now time.Time) []WeekPoint {
	t := newWeekTally(now)
	for r, u := range members {
		t.add(rows[r], lessons, u, prog[u.ID].Lessons)
	}
	return t.points()
}

// weekTally sums weeks' figures one person at a time.
type weekTally struct {
	ends           []time.Time
	done, assigned []int
}

func newWeekTally(now time.Time) *weekTally {
	local := now.In(time.Local)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.Local)
	monday := midnight.AddDate(0, 0, -((int(midnight.Weekday()) + 6) % 7))
	t := &weekTally{done: make([]int, chartWeeks), assigned: make([]int, chartWeeks)}
	for w := chartWeeks - 1; w >= 0; w-- {
		end := monday.AddDate(0, 0, 7-7*w)
		if end.After(now) {
			end = now
		}
		t.ends = append(t.ends, end)
	}
	return t
}

// add counts person u, of row r, with their progress prog.
func (t *weekTally) add(r Row, lessons []model.Lesson, u *model.User, prog map[string]model.LessonProgress) {
	for i, c := range r.Cells {
		if !c.Assigned {
			continue
		}
		asked := askedFrom(u, &lessons[i])
		p := prog[lessons[i].Slug]
		for w, end := range t.ends {
			if asked.After(end) {
				continue
			}
			t.assigned[w]++
			if p.AckVersion == 0 || p.Acknowledged.IsZero() || p.Acknowledged.After(end) {
				continue
			}
			if c.Code == training.StatusDone || (c.Code == training.StatusNeedsReack && end.Before(lessons[i].RequiredAt)) {
				t.done[w]++
			}
		}
	}
}

func (t *weekTally) points() []WeekPoint {
	out := make([]WeekPoint, len(t.ends))
	for w, end := range t.ends {
		out[w] = WeekPoint{End: end, Percent: percent(t.done[w], t.assigned[w]), Known: t.assigned[w] > 0}
	}
	return out
}

// askedFrom is when lesson l was first asked of u.
func askedFrom(u *model.User, l *model.Lesson) time.Time {
	t := u.Hired
	if u.Created.After(t) {
		t = u.Created
	}
	if l.Since.After(t) {
		t = l.Since
	}
	return t
}
