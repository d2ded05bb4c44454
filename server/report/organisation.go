package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"conductportal/server/model"
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
	At          time.Time      `json:"at"`
}

// Organisation computes the organisation view over two reads: the cached
// directory and everyone's progress.
func (s *Service) Organisation(ctx context.Context) (*Organisation, error) {
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
	for i := range dir.Users {
		u := &dir.Users[i]
		if !u.Active {
			continue
		}
		r := rowOf(u, lessons, prog[u.ID].Lessons, now)
		if r.Assigned == 0 {
			continue // nobody asks anything of this account (an administrator, say)
		}
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
	slices.SortFunc(o.Departments, func(a, b OrgRow) int {
		// Empty department last, then the least complete first: where HR should look.
		return cmp.Or(cmp.Compare(boolInt(a.Key == ""), boolInt(b.Key == "")),
			cmp.Compare(a.Percent, b.Percent), strings.Compare(a.Key, b.Key))
	})
	return o, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
