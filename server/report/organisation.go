package report

import (
	"cmp"
	"context"
	"fmt"
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

// Organisation computes the organisation view over two reads: the cached
// directory and everyone's progress. Departments are named in order as a
// reader of lang expects (Collator).
func (s *Service) Organisation(ctx context.Context, lang string) (*Organisation, error) {
	lessons, err := s.publishedLessons(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := s.Directory(ctx)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.AllProgress(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: organisation: %w", err)
	}
	now := s.Now()
	o := &Organisation{Lessons: lessons, At: now, ByLesson: make([]OrgRow, len(lessons))}
	for i, l := range lessons {
		o.ByLesson[i].Key, o.ByLesson[i].Slug = l.Slug, l.Slug
	}
	depts := map[string]*OrgRow{}
	var rows []Row
	var members []*model.User
	for i := range dir.Users {
		u := &dir.Users[i]
		if !u.Active {
			continue
		}
		r := rowOf(u, lessons, prog[u.ID].Lessons, now)
		if training.StaffOnly(u) {
			r = byName(r, u, lessons)
		}
		if r.Assigned == 0 {
			continue // nobody asks anything of this account (an administrator, say)
		}
		rows, members = append(rows, r), append(members, u)
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
			}
		}
	}
	for _, d := range depts {
		o.Departments = append(o.Departments, *d)
	}
	o.Weeks = weeks(rows, lessons, members, prog, now)
	if o.Publishes, err = s.publishes(ctx, lessons, rows, members, prog); err != nil {
		return nil, err
	}
	col := Collator(lang)
	slices.SortFunc(o.Departments, func(a, b OrgRow) int {
		// Empty department last, then the least complete first: where HR should look.
		return cmp.Or(cmp.Compare(boolInt(a.Key == ""), boolInt(b.Key == "")),
			cmp.Compare(a.Percent, b.Percent), col.CompareString(a.Key, b.Key), strings.Compare(a.Key, b.Key))
	})
	return o, nil
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

// publishes are the latest versions that asked people to sign again, each
// with the people assigned who signed it after it was published and those
// who had signed an earlier version and have not signed it yet.
func (s *Service) publishes(ctx context.Context, lessons []model.Lesson, rows []Row, members []*model.User, prog map[string]model.Progress) ([]Publish, error) {
	out := []Publish{} // [] rather than null in JSON
	for i, l := range lessons {
		for v := l.Current; v > max(1, l.Current-versionsBack); v-- {
			lv, err := s.store.LessonVersion(ctx, l.Slug, v)
			if err != nil {
				return nil, fmt.Errorf("report: publishes: %w", err)
			}
			if lv.Kind != model.ChangeReack && lv.Kind != model.ChangeRequiz {
				continue
			}
			p := Publish{Lesson: l.Slug, Version: v, Kind: lv.Kind, Published: lv.Published}
			for r, u := range members {
				if !rows[r].Cells[i].Assigned {
					continue
				}
				lp := prog[u.ID].Lessons[l.Slug]
				switch {
				case lp.AckVersion >= v && !lp.Acknowledged.Before(lv.Published):
					p.SignedSince++
				case lp.AckVersion > 0 && lp.AckVersion < v:
					p.StillToSign++
				}
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Publish) int { return b.Published.Compare(a.Published) })
	return out[:min(len(out), recentPublishes)], nil
}
