package web

import (
	"net/url"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/report"

	"github.com/gofiber/fiber/v2"
)

type personPage struct {
	*report.Person
	Titles   map[string]string
	Notices  []noticeView
	Back     string
	Assigned int
}

// noticeView is a notification in words.
type noticeView struct {
	model.Notification
	Title, Body, Link string
	Sender            string // in the reader's language
}

func (h *handler) noticeViews(c *fiber.Ctx, ns []model.Notification) ([]noticeView, error) {
	lessons, err := h.Reports.Lessons(ctx(c))
	if err != nil {
		return nil, err
	}
	out := make([]noticeView, 0, len(ns))
	for _, n := range ns {
		title, body, link := notify.Text(langOf(c), &n, lessons)
		out = append(out, noticeView{Notification: n, Title: title, Body: body, Link: link, Sender: notify.Sender(langOf(c), &n)})
	}
	return out, nil
}

func (h *handler) personShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	p, err := h.Reports.Person(ctx(c), u, c.Params("login"))
	if err != nil {
		return err
	}
	titles, err := h.Training.LessonTitles(ctx(c), lang)
	if err != nil {
		return err
	}
	views, err := h.noticeViews(c, p.Notices)
	if err != nil {
		return err
	}
	return h.render(c, "person", p.User.Name, personPage{Person: p, Titles: titles, Notices: views,
		Back: "/people/" + p.User.Login, Assigned: len(p.Standings)})
}

func (h *handler) personRemind(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	login := c.Params("login")
	sent, err := h.Notify.RemindPerson(ctx(c), u, login, clientAddr(c))
	if err != nil {
		return err
	}
	back := c.FormValue("back")
	if back == "" {
		back = "/people/" + login
	}
	return c.Redirect(withNotice(back, sentNotice(sent)), fiber.StatusSeeOther)
}

type orgPage struct {
	Org    *report.Organisation
	Titles map[string]string
	// The two tables' exports.
	ByDepartment, ByLesson exportForm
}

func (h *handler) organisationShow(c *fiber.Ctx) error {
	lang := langOf(c)
	o, err := h.Reports.Organisation(ctx(c), lang)
	if err != nil {
		return err
	}
	titles := map[string]string{}
	for _, l := range o.Lessons {
		titles[l.Slug] = l.Title(lang)
	}
	return h.render(c, "organisation", locale.T(lang, "org.title"), orgPage{Org: o, Titles: titles,
		ByDepartment: newExportForm("export-departments", "/organisation/export.csv", "/organisation/export.xlsx", nil),
		ByLesson:     newExportForm("export-lessons", "/organisation/export.csv", "/organisation/export.xlsx", url.Values{"by": {"lesson"}})})
}

func (h *handler) organisationExport(c *fiber.Ctx) error {
	lang := exportLang(c)
	o, err := h.Reports.Organisation(ctx(c), lang)
	if err != nil {
		return err
	}
	format := c.Params("format")
	parts, tables := report.OrgExport(o, lang, c.Query("by") == "lesson", format == "xlsx")
	return h.export(c, parts, format, tables...)
}

func (h *handler) notificationsShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	ns, err := h.Notify.Inbox(ctx(c), u, false)
	if err != nil {
		return err
	}
	views, err := h.noticeViews(c, ns)
	if err != nil {
		return err
	}
	return h.render(c, "notifications", locale.T(langOf(c), "notifications.title"), views)
}

func (h *handler) notificationsRead(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	if _, err := h.Notify.Inbox(ctx(c), u, true); err != nil {
		return err
	}
	return c.Redirect("/notifications?m=notifications.read", fiber.StatusSeeOther)
}
