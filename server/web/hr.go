package web

import (
	"github.com/gofiber/fiber/v2"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/report"
)

// requireHR lets only hr and admin into the HR area; anyone else gets the
// 403 page.
func (h *handler) requireHR(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u == nil || !isHR(u) {
		return fiber.ErrForbidden
	}
	return c.Next()
}

// isHR reports whether u may use the HR area.
func isHR(u *model.User) bool { return u.HasRole(model.RoleHR) || u.HasRole(model.RoleAdmin) }

// actor is the login the audit log names for this request.
func actor(c *fiber.Ctx) string {
	if u, _ := currentSession(c); u != nil {
		return u.Login
	}
	return "anonymous"
}

// hrHome is HR's first page: the company's figures and what to act on,
// each count a link to the list behind it. An administrator without the
// HR role sees no one's training: they go to the lessons.
func (h *handler) hrHome(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	if !report.CanSeeOrganisation(u) {
		return c.Redirect("/hr/lessons", fiber.StatusSeeOther)
	}
	lang := langOf(c)
	o, err := h.Reports.Organisation(ctx(c), lang)
	if err != nil {
		return err
	}
	p := hrHomePage{Org: o, Chart: newChart(o.Weeks, lang), Titles: map[string]string{}}
	for _, l := range o.Lessons {
		p.Titles[l.Slug] = l.Title(lang)
	}
	p.Departments = o.Departments[:min(len(o.Departments), hrHomeDepartments)]
	for _, d := range o.Departments {
		if d.Expiring > 0 {
			p.Expiring = append(p.Expiring, d)
		}
	}
	return h.render(c, "hr_home", locale.T(lang, "hr.home.title"), p)
}

// hrHomeDepartments is how many departments the HR home lists (the least
// complete first); the organisation page has them all.
const hrHomeDepartments = 8

type hrHomePage struct {
	Org         *report.Organisation
	Chart       *chart
	Titles      map[string]string
	Departments []report.OrgRow
	Expiring    []report.OrgRow // departments with signatures that age out within 30 days
}
