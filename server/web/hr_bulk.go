package web

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// bulkPage is HR's page of bulk actions on a lesson: the form, the recent
// actions (each with undo), or one action's result.
type bulkPage struct {
	Lessons     []model.Lesson
	Departments []string
	Form        bulkForm
	ErrField    string   // the field the error is about, marked invalid
	Skipped     []string // a plan that changes nobody: who was skipped and why
	Recent      []model.BulkAction
	Action      *model.BulkAction // the result page
	Titles      map[string]string // lesson titles by slug
	More        int               // people of the action not listed
	Kinds       []string          // the kinds of action, in the form's order
}

// bulkForm is the form as typed, kept on error and carried to the confirm
// step (a file's logins travel as the logins field).
type bulkForm struct {
	Lesson, Kind, Department, Logins, Days, Until, Reason string
}

// bulkListed is how many people a preview or result lists by name.
const bulkListed = 20

// bulkRecent is how many recent actions the page lists.
const bulkRecent = 20

// bulkTimeout bounds applying or undoing an action. The embedded database
// writes about 300 people a second (BenchmarkBulk10k: 2,000 in 7 s on a
// loaded machine), so a department outlives the 4 s request deadline,
// which is for noticing an outage; and a write cut short by a closed tab
// would leave the action half done.
const bulkTimeout = 5 * time.Minute

// longRequest gives the rest of the request bulkTimeout, whatever the
// client does.
func longRequest(c *fiber.Ctx) context.CancelFunc {
	long, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), bulkTimeout)
	c.SetUserContext(long)
	return cancel
}

func (h *handler) hrBulk(c *fiber.Ctx) error {
	f := bulkForm{Lesson: c.Query("lesson"), Kind: training.BulkExempt}
	return h.renderBulk(c, fiber.StatusOK, &bulkPage{Form: f}, "", "")
}

// renderBulk shows the form with the recent actions and, when errKey is
// set, the error (422) about field.
func (h *handler) renderBulk(c *fiber.Ctx, status int, p *bulkPage, errKey, field string) error {
	lessons, err := h.Training.Lessons(ctx(c))
	if err != nil {
		return err
	}
	lang := langOf(c)
	p.Kinds = []string{training.BulkExempt, training.BulkAssign, training.BulkExtend}
	p.Titles = map[string]string{}
	for _, l := range lessons {
		p.Titles[l.Slug] = l.Title(lang)
		if l.Current > 0 {
			p.Lessons = append(p.Lessons, l)
		}
	}
	if p.Departments, err = h.departments(c); err != nil {
		return err
	}
	if p.Recent, err = h.Training.BulkActions(ctx(c), bulkRecent); err != nil {
		return err
	}
	pg := &page{Title: locale.T(lang, "hr.bulk.title"), Data: p}
	if errKey != "" {
		pg.Error, p.ErrField = locale.T(lang, errKey), field
	}
	c.Status(status)
	return h.renderPage(c, "hr_bulk", pg)
}

// departments lists the departments people are in, as a Chinese reader
// sorts them, from the reports' cached directory.
func (h *handler) departments(c *fiber.Ctx) ([]string, error) {
	d, err := h.Reports.Directory(ctx(c))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for i := range d.Users {
		if dep := d.Users[i].Department; dep != "" && !seen[dep] {
			seen[dep] = true
			out = append(out, dep)
		}
	}
	collate.New(language.Chinese).SortStrings(out)
	return out, nil
}

// bulkRequest reads the form (and an uploaded CSV of logins) into a
// request; a bad day count or date is a BulkError like the service's.
func bulkRequest(c *fiber.Ctx) (training.BulkRequest, bulkForm, error) {
	f := bulkForm{Lesson: c.FormValue("lesson"), Kind: c.FormValue("kind"), Department: strings.TrimSpace(c.FormValue("department")),
		Logins: c.FormValue("logins"), Days: strings.TrimSpace(c.FormValue("days")), Until: strings.TrimSpace(c.FormValue("until")),
		Reason: c.FormValue("reason")}
	r := training.BulkRequest{Lesson: f.Lesson, Kind: f.Kind, Department: f.Department, Reason: f.Reason, Logins: training.ParseLogins(f.Logins)}
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err != nil {
			return r, f, err
		}
		defer file.Close()
		logins, err := training.LoginsCSV(file)
		if err != nil {
			return r, f, err
		}
		r.Logins = append(r.Logins, logins...)
		f.Logins = strings.Join(r.Logins, "\n")
	}
	if f.Kind != training.BulkExtend {
		return r, f, nil
	}
	if f.Days != "" {
		n, err := strconv.Atoi(f.Days)
		if err != nil || n <= 0 {
			return r, f, &training.BulkError{Field: "days", Code: "days"}
		}
		r.Days = n
	}
	if f.Until != "" {
		// The end of the chosen day, in the portal's zone.
		t, err := time.ParseInLocation(time.DateOnly, f.Until, displayZone)
		if err != nil {
			return r, f, &training.BulkError{Field: "until", Code: "until"}
		}
		r.Until = t.Add(24*time.Hour - time.Second)
	}
	return r, f, nil
}

// hrBulkSubmit previews a bulk action (who is affected, who is skipped
// and why) and, once confirmed, applies it and shows the result.
func (h *handler) hrBulkSubmit(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	lang := langOf(c)
	r, f, err := bulkRequest(c)
	var be *training.BulkError
	if err == nil {
		if !confirmed(c) {
			var plan *training.BulkPlan
			if plan, err = h.Training.PlanBulk(ctx(c), by, r); err == nil {
				return h.bulkPreview(c, plan, f)
			}
		} else {
			defer longRequest(c)()
			client, _ := clientInfo(c)
			var a *model.BulkAction
			var plan *training.BulkPlan
			if a, plan, err = h.Training.ApplyBulk(ctx(c), by, r, client); err == nil {
				if a.Count == 0 {
					return h.renderBulk(c, fiber.StatusConflict, &bulkPage{Form: f, Skipped: h.skippedLines(lang, plan)}, "hr.bulk.nobody", "")
				}
				return c.Redirect(withCount("/hr/bulk/"+a.ID, "hr.bulk.done."+a.Kind, a.Count), fiber.StatusSeeOther)
			}
		}
	}
	if errors.As(err, &be) {
		return h.renderBulk(c, fiber.StatusUnprocessableEntity, &bulkPage{Form: f}, "hr.bulk.error."+be.Code, be.Field)
	}
	return err
}

// bulkPreview asks to confirm a plan, or says that it changes nobody.
func (h *handler) bulkPreview(c *fiber.Ctx, plan *training.BulkPlan, f bulkForm) error {
	lang := langOf(c)
	skipped := h.skippedLines(lang, plan)
	n := len(plan.Affected)
	if n == 0 {
		return h.renderBulk(c, fiber.StatusUnprocessableEntity, &bulkPage{Form: f, Skipped: skipped}, "hr.bulk.nobody", "")
	}
	title := plan.Lesson.Title(lang)
	items := make([]string, 0, min(n, bulkListed)+1)
	for _, t := range plan.Affected[:min(n, bulkListed)] {
		items = append(items, personLine(t.User.Name, t.User.Login))
	}
	if n > bulkListed {
		items = append(items, locale.T(lang, "hr.bulk.more", n-bulkListed))
	}
	group := f.Department
	if group == "" {
		group = locale.T(lang, "hr.bulk.group.list", len(plan.Request.Logins))
	}
	intro := locale.T(lang, "hr.bulk.confirm.intro", group, len(plan.Skipped), plan.Request.Reason)
	if r := plan.Request; r.Kind == training.BulkExtend {
		if r.Days > 0 {
			intro += " " + locale.T(lang, "hr.bulk.confirm.days", r.Days)
		} else {
			intro += " " + locale.T(lang, "hr.bulk.confirm.until", (&page{Lang: lang}).Date(r.Until))
		}
	}
	fields := map[string]string{"lesson": f.Lesson, "kind": f.Kind, "department": f.Department,
		"logins": strings.Join(plan.Request.Logins, ","), "days": f.Days, "until": f.Until, "reason": f.Reason}
	return h.askConfirm(c, confirmPage{
		Title: locale.T(lang, "hr.bulk.confirm."+f.Kind, n, title), Intro: intro, Items: items,
		Caption: locale.T(lang, "hr.bulk.confirm.affected", n), Skipped: skipped,
		SkippedCaption: locale.T(lang, "hr.bulk.confirm.skipped", len(plan.Skipped)),
		Action:         "/hr/bulk", Fields: fields, Button: locale.T(lang, "hr.bulk.confirm.yes."+f.Kind, n),
		Danger: f.Kind == training.BulkExempt, Back: "/hr/bulk?lesson=" + f.Lesson,
	})
}

func personLine(name, login string) string {
	if name == "" {
		return login
	}
	return name + " (" + login + ")"
}

// skippedLines says who a plan leaves alone and why, one line each.
func (h *handler) skippedLines(lang string, plan *training.BulkPlan) []string {
	if plan == nil {
		return nil
	}
	out := make([]string, 0, len(plan.Skipped))
	for _, s := range plan.Skipped {
		out = append(out, personLine(s.Name, s.Login)+": "+locale.T(lang, "hr.bulk.skip."+s.Reason))
	}
	return out
}

// hrBulkShow is one action's result: what it did, to whom, and undo.
func (h *handler) hrBulkShow(c *fiber.Ctx) error {
	a, err := h.Training.BulkAction(ctx(c), c.Params("id"))
	if errors.Is(err, training.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	p := &bulkPage{Action: a, More: max(0, len(a.Changes)-100)}
	a.Changes = a.Changes[:min(len(a.Changes), 100)]
	lang := langOf(c)
	lessons, err := h.Training.Lessons(ctx(c))
	if err != nil {
		return err
	}
	p.Titles = map[string]string{}
	for _, l := range lessons {
		p.Titles[l.Slug] = l.Title(lang)
	}
	return h.render(c, "hr_bulk", locale.T(lang, "hr.bulk.result.title"), p)
}

// hrBulkUndo undoes an action after asking: each person's exception goes
// back to what it was, except for those changed since.
func (h *handler) hrBulkUndo(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	lang := langOf(c)
	id := c.Params("id")
	a, err := h.Training.BulkAction(ctx(c), id)
	if errors.Is(err, training.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	back := "/hr/bulk/" + a.ID
	if !a.Undone.IsZero() {
		return c.Redirect(back+"?m=hr.bulk.already_undone", fiber.StatusSeeOther)
	}
	if !confirmed(c) {
		items := make([]string, 0, min(len(a.Changes), bulkListed)+1)
		for _, ch := range a.Changes[:min(len(a.Changes), bulkListed)] {
			items = append(items, ch.Login)
		}
		if len(a.Changes) > bulkListed {
			items = append(items, locale.T(lang, "hr.bulk.more", len(a.Changes)-bulkListed))
		}
		return h.askConfirm(c, confirmPage{
			Title: locale.T(lang, "hr.bulk.undo.confirm.title", a.Count), Intro: locale.T(lang, "hr.bulk.undo.confirm.intro"),
			Items: items, Caption: locale.T(lang, "hr.bulk.confirm.affected", a.Count),
			Action: back + "/undo", Button: locale.T(lang, "hr.bulk.undo"), Back: back,
		})
	}
	defer longRequest(c)()
	client, _ := clientInfo(c)
	res, err := h.Training.UndoBulk(ctx(c), by, id, client)
	switch {
	case errors.Is(err, training.ErrBulkUndone):
		return c.Redirect(back+"?m=hr.bulk.already_undone", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect(withCount(back, "hr.bulk.undone", len(res.Restored), len(res.Changed)), fiber.StatusSeeOther)
}
