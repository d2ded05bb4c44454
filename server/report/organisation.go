package report

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"conductportal/server/model"
	"conductportal/server/training"
)

// OrgRow is the completion of one department, or one lesson, or everyone.
type OrgRow struct {
	Key           string `json:"key"` // the department's name, or the lesson's slug
	People        int    `json:"people"`
	OverduePeople int    `json:"overdue_people"`
	Total
}

// Organisation is the HR view: completion and overdue by department and
// by lesson.
type Organisation struct {
	Departments []OrgRow       `json:"departments"`
	ByLesson    []OrgRow       `json:"lessons"`
	All         OrgRow         `json:"all"`
	Lessons     []model.Lesson `json:"-"`
	// Weeks is the company's completion at the end of each of the last
	// weeks, as the team view's chart; Publishes the latest versions that
	// asked people to sign again, and how that is going.
	Weeks     []WeekPoint `json:"weeks"`
	Publishes []Publish   `json:"publishes"`
	At        time.Time   `json:"at"`
}

// Publish is a version that asked everyone who had signed the lesson to
// sign again: who has signed it since, and who has still to.
type Publish struct {
	Lesson      string    `json:"lesson"`
	Version     int       `json:"version"`
	Kind        string    `json:"kind"`
	Published   time.Time `json:"published"`
	SignedSince int       `json:"signed_since"`
	StillToSign int       `json:"still_to_sign"`
}

// recentPublishes is how many of the latest re-signing publishes the HR
// home lists, and versionsBack how far back each lesson is looked at.
const (
	recentPublishes = 5
	versionsBack    = 5
)

// Organisation returns the organisation view: computed over the cached
// directory and everyone's progress, or the last one computed while it
// still holds (see orgMemo). Departments are named in order as a reader of
// lang expects (Collator). The result is shared: read only.
//
// One is computed at a time: eight HR pages at once would otherwise
// compute eight copies of the same figures (about 60 MB of garbage each at
// 100,000 people) where the first one's serves them all. When the kept view
// no longer holds and its computation took orgSlow or more (about 0.5 s of
// CPU at 100,000 people, seconds on a loaded machine), the request gets it
// all the same while the new one is computed beside it, as long as it is
// younger than orgStale; otherwise the request waits for the new one.
func (s *Service) Organisation(ctx context.Context, lang string) (*Organisation, error) {
	asked := time.Now()
	for {
		in, err := s.orgInputs(ctx)
		if err != nil {
			return nil, err
		}
		s.orgMu.Lock()
		kept := s.org
		if in.cached && kept.holds(in.dir, in.gen, in.lessons, in.now) {
			o := kept.in(lang)
			s.orgMu.Unlock()
			return o, nil
		}
		run := s.orgRun
		if run == nil {
			run = s.startOrganisation(ctx, in)
		}
		if in.cached && kept.servable(in.now, s.orgSlow) {
			o := kept.in(lang)
			s.orgMu.Unlock()
			return o, nil
		}
		s.orgMu.Unlock()
		select {
		case <-run.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("report: organisation: %w", ctx.Err())
		}
		if run.err != nil {
			return nil, run.err
		}
		// A computation that read its inputs after this request began has
		// every write made before it; an older one may lack one: look again.
		if !run.in.read.Before(asked) {
			s.orgMu.Lock()
			o := run.memo.in(lang)
			s.orgMu.Unlock()
			return o, nil
		}
	}
}

// orgInputs are what an organisation view is computed from, and when
// they were read.
type orgInputs struct {
	read    time.Time // wall clock, before any of them
	lessons []model.Lesson
	dir     *Directory
	gen     uint64
	cached  bool // storage keeps the progress: a view may be kept
	now     time.Time
}

func (s *Service) orgInputs(ctx context.Context) (orgInputs, error) {
	in := orgInputs{read: time.Now()}
	var err error
	if in.lessons, err = s.publishedLessons(ctx); err != nil {
		return in, err
	}
	if in.dir, err = s.Directory(ctx); err != nil {
		return in, err
	}
	in.gen, in.cached = s.store.ProgressGeneration() // before the progress: see there
	in.now = s.Now()
	return in, nil
}

// orgRun is an organisation view being computed; done is closed when memo
// or err is set.
type orgRun struct {
	in   orgInputs
	done chan struct{}
	memo *orgMemo
	err  error
}

// orgRunLimit bounds a computation that no request waits for any more.
const orgRunLimit = 2 * time.Minute

// startOrganisation starts computing the view of in, beside the request
// (which may end first); s.orgMu is held.
func (s *Service) startOrganisation(ctx context.Context, in orgInputs) *orgRun {
	run := &orgRun{in: in, done: make(chan struct{})}
	s.orgRun = run
	go func() {
		cx, cancel := context.WithTimeout(context.WithoutCancel(ctx), orgRunLimit)
		defer cancel()
		if s.beforeOrg != nil {
			s.beforeOrg()
		}
		started := time.Now()
		m, err := s.computeOrganisation(cx, in)
		s.orgMu.Lock()
		if err == nil {
			m.took = time.Since(started)
			if in.cached {
				s.org = m
			}
		}
		run.memo, run.err, s.orgRun = m, err, nil
		s.orgMu.Unlock()
		close(run.done)
	}()
	return run
}

func (s *Service) computeOrganisation(ctx context.Context, in orgInputs) (*orgMemo, error) {
	pubs, err := s.publishVersions(ctx, in.lessons)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.ProgressLookup(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: organisation: %w", err)
	}
	o, until := organisation(in.lessons, in.dir, prog, pubs, in.now)
	return &orgMemo{dir: in.dir, gen: in.gen, lessons: in.lessons, until: until, base: o, byLang: map[string]*Organisation{}}, nil
}

// orgMemo is an organisation view kept for the next ones: it holds while
// the directory, the progress generation and the published lessons are
// those it was computed from, and until the first moment at which time
// alone changes a figure (a due date passing, a signature ageing out or
// coming within ExpiringDays of it, a new week on the chart; see
// organisation), and orgMaxAge at most.
type orgMemo struct {
	dir     *Directory
	gen     uint64
	lessons []model.Lesson
	until   time.Time
	took    time.Duration            // how long computing it took
	base    *Organisation            // departments in no particular order
	byLang  map[string]*Organisation // sorted for a reader of that language
}

// orgMaxAge bounds a memo's life whatever else holds: a safety net, should
// a figure depend on the time in a way organisation does not foresee.
const orgMaxAge = time.Minute

// A view whose computation took orgSlow or more is still answered, once
// something changed, while the next one is computed, up to orgStale after
// the moment it shows: HR's figures are then at most that old.
const (
	orgSlow  = 250 * time.Millisecond
	orgStale = time.Minute
)

// servable reports whether m may be answered while a newer view is
// computed: it was slow to compute and is younger than orgStale.
func (m *orgMemo) servable(now time.Time, slow time.Duration) bool {
	return m != nil && m.took >= slow && !now.Before(m.base.At) && now.Sub(m.base.At) < orgStale
}

func (m *orgMemo) holds(dir *Directory, gen uint64, lessons []model.Lesson, now time.Time) bool {
	return m != nil && m.dir == dir && m.gen == gen && !now.Before(m.base.At) && now.Before(m.until) &&
		reflect.DeepEqual(m.lessons, lessons)
}

// in returns the view with its departments in lang's order (under orgMu).
func (m *orgMemo) in(lang string) *Organisation {
	if o, ok := m.byLang[lang]; ok {
		return o
	}
	o := *m.base
	o.Departments = slices.Clone(m.base.Departments)
	col := Collator(lang)
	slices.SortFunc(o.Departments, func(a, b OrgRow) int {
		// Empty department last, then the least complete first: where HR should look.
		return cmp.Or(cmp.Compare(boolInt(a.Key == ""), boolInt(b.Key == "")),
			cmp.Compare(a.Percent, b.Percent), col.CompareString(a.Key, b.Key), strings.Compare(a.Key, b.Key))
	})
	m.byLang[lang] = &o
	return &o
}

// organisation computes the figures at now, and the first moment after
// now at which time alone may change one of them: in one pass over the
// people, each one's progress unpacked once and dropped after.
func organisation(lessons []model.Lesson, dir *Directory, prog func(string) model.Progress, pubs []Publish, now time.Time) (*Organisation, time.Time) {
	o := &Organisation{Lessons: lessons, At: now, ByLesson: make([]OrgRow, len(lessons))}
	for i, l := range lessons {
		o.ByLesson[i].Key, o.ByLesson[i].Slug = l.Slug, l.Slug
	}
	h := newHorizon(now)
	for i := range lessons {
		h.at(lessons[i].RequiredAt) // the chart counts a needs-reack cell as done before it
	}
	wt := newWeekTally(now)
	depts := map[string]*OrgRow{}
	for _, u := range dir.Users {
		if !u.Active {
			continue
		}
		lp := prog(u.ID).Lessons
		r := rowOf(u, lessons, lp, now)
		if training.StaffOnly(u) {
			r = byName(r, u, lessons)
		}
		if r.Assigned == 0 {
			continue // nobody asks anything of this account (an administrator, say)
		}
		wt.add(r, lessons, u, lp)
		tallyPublishes(pubs, lessons, r, lp)
		d := depts[u.Department]
		if d == nil {
			d = &OrgRow{Key: u.Department}
			depts[u.Department] = d
		}
		for _, row := range []*OrgRow{d, &o.All} {
			row.People++
			if r.Overdue > 0 {
				row.OverduePeople++
			}
		}
		for i, c := range r.Cells {
			d.add(c)
			o.All.add(c)
			o.ByLesson[i].add(c)
			if c.Overdue {
				// OverduePeople of a lesson: people overdue in it.
				o.ByLesson[i].OverduePeople++
			}
			if c.Assigned {
				o.ByLesson[i].People++
				h.cell(c, askedFrom(u, &lessons[i]))
			}
		}
	}
	for _, d := range depts {
		o.Departments = append(o.Departments, *d)
	}
	o.Weeks = wt.points()
	slices.SortFunc(pubs, func(a, b Publish) int { return b.Published.Compare(a.Published) })
	o.Publishes = pubs[:min(len(pubs), recentPublishes)]
	return o, h.t
}

// horizon finds the first moment, from now on, at which a comparison
// with the clock may turn: the earliest of the times given that are not
// before now, the end of the chart's current week, and now+orgMaxAge.
type horizon struct{ now, t time.Time }

func newHorizon(now time.Time) *horizon {
	local := now.In(time.Local)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.Local)
	h := &horizon{now: now, t: now.Add(orgMaxAge)}
	h.at(midnight.AddDate(0, 0, 7-(int(midnight.Weekday())+6)%7)) // next Monday, as weeks counts them
	return h
}

func (h *horizon) at(t time.Time) {
	if !t.Before(h.now) && t.Before(h.t) {
		h.t = t
	}
}

// cell adds the times at which an assigned cell's figures may change:
// its due date passing (overdue), its signature ageing out (due again)
// and coming within ExpiringDays of it (expiring), and for the chart when
// it was signed and first asked.
func (h *horizon) cell(c Cell, asked time.Time) {
	if c.Code != training.StatusDone {
		h.at(c.Due)
	}
	if !c.Expires.IsZero() {
		h.at(c.Expires)
		h.at(c.Expires.Add(-ExpiringDays * 24 * time.Hour)) // rowOf's now.AddDate, now in UTC
	}
	h.at(c.Completed)
	h.at(asked)
}

// byName keeps of a staff account's row only the lessons assigned to it
// by name: HR and administrators who run the portal are not the learners
// whose completion the company's figures measure.
func byName(r Row, u *model.User, lessons []model.Lesson) Row {
	for i, c := range r.Cells {
		if c.Assigned && !training.AssignedByName(&lessons[i], u) {
			r.Cells[i] = Cell{Slug: c.Slug}
		}
	}
	return recount(r, r.Cells)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// publishVersions are the latest versions that asked people to sign
// again, not yet counted (see tallyPublishes).
func (s *Service) publishVersions(ctx context.Context, lessons []model.Lesson) ([]Publish, error) {
	out := []Publish{} // [] rather than null in JSON
	for _, l := range lessons {
		for v := l.Current; v > max(1, l.Current-versionsBack); v-- {
			lv, err := s.store.LessonVersion(ctx, l.Slug, v)
			if err != nil {
				return nil, fmt.Errorf("report: publishes: %w", err)
			}
			if lv.Kind != model.ChangeReack && lv.Kind != model.ChangeRequiz {
				continue
			}
			out = append(out, Publish{Lesson: l.Slug, Version: v, Kind: lv.Kind, Published: lv.Published})
		}
	}
	return out, nil
}

// tallyPublishes counts a person (their row r and progress) in each
// publish of a lesson assigned to them: signed it after it was published,
// or signed an earlier version and not it yet.
func tallyPublishes(pubs []Publish, lessons []model.Lesson, r Row, prog map[string]model.LessonProgress) {
	for j := range pubs {
		p := &pubs[j]
		i := slices.IndexFunc(lessons, func(l model.Lesson) bool { return l.Slug == p.Lesson })
		if i < 0 || !r.Cells[i].Assigned {
			continue
		}
		lp := prog[p.Lesson]
		switch {
		case lp.AckVersion >= p.Version && !lp.Acknowledged.Before(p.Published):
			p.SignedSince++
		case lp.AckVersion > 0 && lp.AckVersion < p.Version:
			p.StillToSign++
		}
	}
}
