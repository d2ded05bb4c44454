package api

import (
	"bytes"
	"fmt"
	"time"

	"conductportal/server/locale"
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
	lang := langOf(c, user(c))
	t, err := a.team(c, lang)
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

// team is the team view the query asks for, as the caller may see it.
func (a *API) team(c *fiber.Ctx, lang string) (*report.Team, error) {
	scope, err := a.teamScope(c)
	if err != nil {
		return nil, err
	}
	return a.teamIn(c, scope, lang)
}

// teamScope is the team the query names, refused when the caller may not
// see it.
func (a *API) teamScope(c *fiber.Ctx) (report.Scope, error) {
	return a.Reports.ResolveScope(c.UserContext(), user(c), c.Query("manager"), c.Query("department"))
}

func (a *API) teamIn(c *fiber.Ctx, scope report.Scope, lang string) (*report.Team, error) {
	f := report.ParseFilter(func(k string) string { return c.Query(k) }, func(k string) bool { return c.QueryBool(k) })
	f.Lang = lang
	return a.Reports.Team(c.UserContext(), scope, f)
}

// exportParams reads what every spreadsheet export takes: format (csv or
// xlsx, required) and lang (default the caller's); anything else is a 422
// naming the field.
func exportParams(c *fiber.Ctx) (format, lang string, err error) {
	format = c.Query("format")
	if format != "csv" && format != "xlsx" {
		return "", "", fail(fiber.StatusUnprocessableEntity, "invalid", "format must be csv or xlsx", "format")
	}
	if l := c.Query("lang"); l != "" && !locale.Supported(l) {
		return "", "", fail(fiber.StatusUnprocessableEntity, "invalid", "lang must be zh-CN or en", "lang")
	}
	return format, langOf(c, user(c)), nil
}

// teamExport answers GET /reports/team/export?format=csv|xlsx&lang= with
// the team view's filters: the spreadsheet the team page exports.
func (a *API) teamExport(c *fiber.Ctx) error {
	// Who may see the team first: a refused caller learns nothing of the input.
	scope, err := a.teamScope(c)
	if err != nil {
		return err
	}
	format, lang, err := exportParams(c)
	if err != nil {
		return err
	}
	t, err := a.teamIn(c, scope, lang)
	if err != nil {
		return err
	}
	return sendSheet(c, report.TeamFileParts(t), format, report.TeamTable(t, lang))
}

// organisationExport answers GET /reports/organisation/export?format=&by=&lang=
// (HR): by department, or by lesson with by=lesson; a workbook holds both
// tables, the one asked for first.
func (a *API) organisationExport(c *fiber.Ctx) error {
	u := user(c)
	if !report.CanSeeOrganisation(u) {
		return report.ErrForbidden
	}
	format, lang, err := exportParams(c)
	if err != nil {
		return err
	}
	by := c.Query("by", "department")
	if by != "department" && by != "lesson" {
		return fail(fiber.StatusUnprocessableEntity, "invalid", "by must be department or lesson", "by")
	}
	o, err := a.Reports.Organisation(c.UserContext(), lang)
	if err != nil {
		return err
	}
	parts, tables := report.OrgExport(o, lang, by == "lesson", format == "xlsx")
	return sendSheet(c, parts, format, tables...)
}

// sendSheet writes tables as a download in format, named after parts and
// today.
func sendSheet(c *fiber.Ctx, parts []string, format string, tables ...report.Table) error {
	var buf bytes.Buffer
	var err error
	if format == "csv" {
		err = report.WriteCSV(&buf, tables[0])
	} else {
		err = report.WriteXLSX(&buf, tables...)
	}
	if err != nil {
		return fmt.Errorf("api: export: %w", err)
	}
	c.Set(fiber.HeaderContentType, report.ContentType(format))
	c.Set(fiber.HeaderContentDisposition, report.Attachment(report.FileName(parts, time.Now(), format)))
	// buf is this request's own: Send may keep it.
	return c.Send(buf.Bytes())
}
