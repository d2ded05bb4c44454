package api

import (
	"conductportal/server/report"

	"github.com/gofiber/fiber/v2"
)

// teamJSON is the team view: the same rows as the page, with the lesson
// columns named.
type teamJSON struct {
	*report.Team
	Lessons []lessonColumnJSON `json:"lessons"`
}

type lessonColumnJSON struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
}

// teamReport answers GET /reports/team?manager=LOGIN (or department=D),
// with the page's filters: status, lesson, overdue=1, reack=1, sort, desc=1.
func (a *API) teamReport(c *fiber.Ctx) error {
	u := user(c)
	scope, err := a.Reports.ResolveScope(c.UserContext(), u, c.Query("manager"), c.Query("department"))
	if err != nil {
		return err
	}
	lang := langOf(c, u)
	f := report.ParseFilter(func(k string) string { return c.Query(k) }, func(k string) bool { return c.QueryBool(k) })
	f.Lang = lang
	t, err := a.Reports.Team(c.UserContext(), scope, f)
	if err != nil {
		return err
	}
	out := teamJSON{Team: t, Lessons: make([]lessonColumnJSON, 0, len(t.Lessons))}
	for _, l := range t.Lessons {
		out.Lessons = append(out.Lessons, lessonColumnJSON{Slug: l.Slug, Title: l.Title(lang)})
	}
	// Empty lists are [] in JSON, never null, as the document says.
	if out.Rows == nil {
		out.Rows = []report.Row{}
	}
	for i := range out.Rows {
		if out.Rows[i].Cells == nil {
			out.Rows[i].Cells = []report.Cell{}
		}
	}
	if out.Totals == nil {
		out.Totals = []report.Total{}
	}
	if out.Weeks == nil {
		out.Weeks = []report.WeekPoint{}
	}
	return c.JSON(out)
}

// organisationReport answers GET /reports/organisation, for HR.
func (a *API) organisationReport(c *fiber.Ctx) error {
	u := user(c)
	if !report.CanSeeOrganisation(u) {
		return report.ErrForbidden
	}
	o, err := a.Reports.Organisation(c.UserContext(), langOf(c, u))
	if err != nil {
		return err
	}
	if o.Departments == nil {
		o.Departments = []report.OrgRow{}
	}
	if o.ByLesson == nil {
		o.ByLesson = []report.OrgRow{}
	}
	return c.JSON(o)
}
