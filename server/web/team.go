package web

import (
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/report"

	"github.com/gofiber/fiber/v2"
)

// requireReports lets managers and HR through; others get 403.
func (h *handler) requireReports(c *fiber.Ctx) error {
	if u, _ := currentSession(c); !report.CanSeeReports(u) {
		return fiber.ErrForbidden
	}
	return c.Next()
}

// requireOrganisation lets those who see the whole organisation (HR)
// through; others get 403.
func (h *handler) requireOrganisation(c *fiber.Ctx) error {
	if u, _ := currentSession(c); !report.CanSeeOrganisation(u) {
		return fiber.ErrForbidden
	}
	return c.Next()
}

type teamPage struct {
	Team *report.Team
	// Rows is the page of Team.Rows shown (teamPageSize at most); From is
	// the place of its first row (1-based), Next the next page's URL, First
	// the first page's when this is not it.
	Rows        []report.Row
	From, To    int
	Next, First string
	Heading     string
	Query       string // the view's query, for the export links and the forms
	Back        string // this view's URL, to come back to after a reminder
	Scope       report.Scope
	Statuses    []string
	Sorts       []string
	Chart       *chart
	HR          bool
	// ScopeFields are the hidden fields that keep the scope in forms.
	ScopeFields map[string]string
	ClearURL    string
	Export      exportForm // the view as shown, as CSV or XLSX
}

// teamQuery reads what a team view was asked for.
func teamQuery(c *fiber.Ctx) (manager, department string, f report.Filter) {
	return c.Query("manager"), c.Query("department"),
		report.ParseFilter(func(k string) string { return c.Query(k) }, func(k string) bool { return c.QueryBool(k) })
}

// encode writes the scope and the normalized filter back as a query.
func encode(sc report.Scope, asked url.Values, f report.Filter) string {
	q := url.Values{}
	// Keep the scope as asked: "my team" stays without parameters.
	for _, k := range []string{"manager", "department"} {
		if v := asked.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("lesson", f.Lesson)
	if f.Overdue {
		q.Set("overdue", "1")
	}
	if f.Reack {
		q.Set("reack", "1")
	}
	if f.Expiring {
		q.Set("expiring", "1")
	}
	if f.Sort != "" && f.Sort != "name" {
		q.Set("sort", f.Sort)
	}
	if f.Desc {
		q.Set("desc", "1")
	}
	return q.Encode()
}

// team loads the team view the request asks for, its names in the order
// a reader of lang expects.
func (h *handler) team(c *fiber.Ctx, lang string) (*report.Team, string, error) {
	u, _ := currentSession(c)
	manager, department, f := teamQuery(c)
	f.Lang = lang
	scope, err := h.Reports.ResolveScope(ctx(c), u, manager, department)
	if err != nil {
		return nil, "", err
	}
	t, err := h.Reports.Team(ctx(c), scope, f)
	if err != nil {
		return nil, "", err
	}
	asked, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	return t, encode(scope, asked, t.Filter), nil
}

func (h *handler) teamShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	if c.Query("manager") == "" && c.Query("department") == "" && !u.HasRole(model.RoleManager) {
		return c.Redirect("/organisation", fiber.StatusSeeOther) // HR picks a team there
	}
	t, q, err := h.team(c, lang)
	if err != nil {
		return err
	}
	p := teamPage{Team: t, Query: q, Back: "/team", Scope: t.Scope, Statuses: report.Statuses, Sorts: report.Sorts,
		HR: report.CanSeeOrganisation(u), Chart: newChart(t.Weeks, lang)}
	if q != "" {
		p.Back += "?" + q
	}
	after := c.Query("after")
	from, ok := pageStart(t.Rows, after)
	if !ok {
		c.Status(fiber.StatusBadRequest)
		return h.render(c, "error", locale.T(lang, "error.title"), errorPage{Message: locale.T(lang, "team.paging.bad"), Back: p.Back, BackKey: "paging.first"})
	}
	end := min(from+teamPageSize, len(t.Rows))
	p.Rows, p.From, p.To = t.Rows[from:end], from+1, end
	if end < len(t.Rows) {
		p.Next = withQuery("/team", q, "after", t.Rows[end-1].Login)
	}
	if after != "" {
		p.First = p.Back
	}
	p.ScopeFields = map[string]string{}
	clear := url.Values{}
	for _, k := range []string{"manager", "department"} {
		if v := c.Query(k); v != "" {
			p.ScopeFields[k] = v
			clear.Set(k, v)
		}
	}
	shown, _ := url.ParseQuery(q)
	p.Export = newExportForm("export", "/team/export.csv", "/team/export.xlsx", shown)
	p.ClearURL = "/team"
	if len(clear) > 0 {
		p.ClearURL += "?" + clear.Encode()
	}
	p.Heading = h.teamHeading(c, t.Scope, u, lang)
	return h.render(c, "team", p.Heading, p)
}

func (h *handler) teamHeading(c *fiber.Ctx, sc report.Scope, viewer *model.User, lang string) string {
	switch {
	case sc.Manager == viewer.Login:
		return locale.T(lang, "team.title.mine")
	case sc.Manager != "":
		name := sc.Manager
		if dir, err := h.Reports.Directory(ctx(c)); err == nil && dir.ByLogin(sc.Manager) != nil {
			name = dir.ByLogin(sc.Manager).Name
		}
		return locale.T(lang, "team.title.of", name)
	default:
		return locale.T(lang, "team.title.department", sc.Department)
	}
}

// teamExport sends the team view, as filtered, as CSV or XLSX.
func (h *handler) teamExport(c *fiber.Ctx) error {
	lang := exportLang(c)
	t, _, err := h.team(c, lang)
	if err != nil {
		return err
	}
	return h.export(c, report.TeamFileParts(t), c.Params("format"), report.TeamTable(t, lang))
}

// remindPage asks before "remind everyone overdue" sends anything: who
// gets a reminder, of what, and the message as the first of them reads it.
type remindPage struct {
	Rows        []remindRow
	Title, Body string // the first reminder, in the reader's language
	ScopeFields map[string]string
	Back        string
}

type remindRow struct {
	Name, Login, Lessons string
	Due                  time.Time
}

// teamRemindConfirm shows what "remind everyone overdue" would send.
func (h *handler) teamRemindConfirm(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	manager, department := c.Query("manager"), c.Query("department")
	scope, err := h.Reports.ResolveScope(ctx(c), u, manager, department)
	if err != nil {
		return err
	}
	plan, err := h.Notify.OverdueReminders(ctx(c), u, scope)
	if err != nil {
		return err
	}
	p := remindPage{Back: safeNext(c.Query("back")), ScopeFields: map[string]string{}}
	if p.Back == "/" {
		p.Back = "/team"
	}
	for k, v := range map[string]string{"manager": manager, "department": department} {
		if v != "" {
			p.ScopeFields[k] = v
		}
	}
	// In the matrix's order, for the reader's language.
	col := report.Collator(lang)
	slices.SortStableFunc(plan.Reminders, func(a, b notify.Reminder) int { return col.CompareString(a.To.Name, b.To.Name) })
	titles := map[string]string{}
	for _, l := range plan.Lessons {
		titles[l.Slug] = l.Title(lang)
	}
	for i, r := range plan.Reminders {
		if i == 0 {
			p.Title, p.Body, _ = notify.Text(lang, r.N, plan.Lessons)
		}
		names := make([]string, len(r.N.Lessons))
		for j, slug := range r.N.Lessons {
			names[j] = titles[slug]
		}
		p.Rows = append(p.Rows, remindRow{Name: r.To.Name, Login: r.To.Login, Lessons: strings.Join(names, locale.T(lang, "notify.list.sep")), Due: r.N.Due})
	}
	return h.render(c, "team_remind", locale.T(lang, "team.remind.confirm.title"), p)
}

// teamRemind reminds everyone overdue in the team view's scope (after
// teamRemindConfirm) and says how many were reminded.
func (h *handler) teamRemind(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	scope, err := h.Reports.ResolveScope(ctx(c), u, c.FormValue("manager"), c.FormValue("department"))
	if err != nil {
		return err
	}
	sent, err := h.Notify.RemindOverdue(ctx(c), u, scope, clientAddr(c))
	if err != nil {
		return err
	}
	back := c.FormValue("back")
	switch {
	case sent.Stored > 0 && sent.Already > 0:
		return c.Redirect(withCount(back, "remind.count.already", sent.Stored, sent.Already), fiber.StatusSeeOther)
	case sent.Stored > 0:
		return c.Redirect(withCount(back, "remind.count", sent.Stored), fiber.StatusSeeOther)
	}
	return c.Redirect(withNotice(back, sentNotice(sent)), fiber.StatusSeeOther)
}

// sentNotice is the notice that says what a reminder did.
func sentNotice(s notify.Sent) string {
	switch {
	case s.Stored > 0:
		return "remind.sent"
	case s.Already > 0:
		return "remind.already"
	}
	return "remind.none"
}

// withNotice adds a one-time notice to a local URL.
// withCount adds a one-time notice that says numbers (countNotices).
func withCount(back, key string, n ...int) string {
	u, err := url.Parse(withNotice(back, key))
	if err != nil {
		return "/"
	}
	q := u.Query()
	for i, v := range n[:min(len(n), len(countArgs))] {
		q.Set(countArgs[i], strconv.Itoa(v))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func withNotice(back, key string) string {
	u, err := url.Parse(safeNext(back))
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Set("m", key)
	u.RawQuery = q.Encode()
	return u.String()
}

// TeamRow is one person's row of the team matrix. It is written here
// rather than in the template: a team view has a cell per person and
// lesson, and html/template's reflection and escaping per action made up
// half of the view's CPU time (measured with make bench's profiles). Every
// value is escaped: logins and slugs as URL path segments, then all as
// HTML. back is where a reminder's form returns to.
func (p *page) TeamRow(r report.Row, back string) template.HTML {
	esc := template.HTMLEscapeString
	login := esc(url.PathEscape(r.Login))
	var b strings.Builder
	b.Grow(512 + 256*len(r.Cells))
	b.WriteString("\n    <tr>\n      <th scope=\"row\" class=\"person\"><a href=\"/people/")
	b.WriteString(login)
	b.WriteString(`">`)
	b.WriteString(esc(r.Name))
	b.WriteString(`</a><span class="who">`)
	b.WriteString(esc(r.Login))
	if r.Department != "" {
		b.WriteString(" · ")
		b.WriteString(esc(r.Department))
	}
	b.WriteString("</span></th>\n      ")
	for _, c := range r.Cells {
		p.teamCell(&b, r, c)
	}
	fmt.Fprintf(&b, "\n      <td class=\"num\">%d/%d <span class=\"muted\">(%d%%)</span></td>\n      <td class=\"num\">", r.Done, r.Assigned, r.Percent)
	if r.Overdue != 0 {
		fmt.Fprintf(&b, `<span class="badge overdue">%d</span>`, r.Overdue)
	} else {
		b.WriteString("0")
	}
	fmt.Fprintf(&b, "</td>\n      <td class=\"num\">%d</td>\n      <td class=\"act\">\n        ", r.Expiring)
	if r.Done < r.Assigned {
		b.WriteString("\n        <form method=\"post\" action=\"/people/")
		b.WriteString(login)
		b.WriteString("/remind\" class=\"inline\">\n          <input type=\"hidden\" name=\"_csrf\" value=\"")
		b.WriteString(esc(p.CSRF))
		b.WriteString("\">\n          <input type=\"hidden\" name=\"back\" value=\"")
		b.WriteString(esc(back))
		b.WriteString("\">\n          <button type=\"submit\" class=\"small\">")
		b.WriteString(esc(p.T("team.remind")))
		b.WriteString(`<span class="sr"> `)
		b.WriteString(esc(r.Name))
		b.WriteString("</span></button>\n        </form>\n        ")
	}
	b.WriteString("\n      </td>\n    </tr>")
	return template.HTML(b.String()) // #nosec G203 -- every value above is escaped
}

// TeamCell is one cell of the team matrix (see TeamRow).
func (p *page) TeamCell(row report.Row, c report.Cell) template.HTML {
	var b strings.Builder
	p.teamCell(&b, row, c)
	return template.HTML(b.String()) // #nosec G203 -- teamCell escapes every value
}

func (p *page) teamCell(b *strings.Builder, row report.Row, c report.Cell) {
	esc := template.HTMLEscapeString
	if !c.Assigned {
		b.WriteString(`<td class="cell na" data-lesson="`)
		b.WriteString(esc(c.Slug))
		b.WriteString(`">`)
		b.WriteString(esc(p.T("team.not_assigned")))
		b.WriteString("</td>")
		return
	}
	b.WriteString(`<td class="cell status-`)
	b.WriteString(esc(c.Code))
	if c.Overdue {
		b.WriteString(" late")
	}
	b.WriteString(`" data-lesson="`)
	b.WriteString(esc(c.Slug))
	b.WriteString(`"><a href="/people/`)
	b.WriteString(esc(url.PathEscape(row.Login)))
	b.WriteString("#lesson-")
	b.WriteString(esc(url.PathEscape(c.Slug)))
	b.WriteString(`"><span class="word">`)
	if c.Renewal {
		b.WriteString(esc(p.T("status.renewal")))
	} else {
		b.WriteString(esc(p.T("status." + c.Code)))
	}
	b.WriteString("</span>")
	if c.Expiring {
		b.WriteString(`<span class="due">`)
		b.WriteString(esc(p.T("team.expires", p.ShortDate(c.Expires))))
		b.WriteString("</span>")
	}
	if c.Open() {
		b.WriteString(`<span class="due">`)
		b.WriteString(esc(p.T("team.due", p.ShortDate(c.Due))))
		b.WriteString("</span>")
	}
	if c.Overdue {
		b.WriteString(`<span class="late-tag">`)
		b.WriteString(esc(p.T("training.overdue")))
		b.WriteString("</span>")
	}
	b.WriteString("</a></td>")
}

// teamPageSize is how many people a team view shows at once.
const teamPageSize = 50

// pageStart is where the page after the person with login after begins in
// rows (0 with no cursor). The rows are in the view's order, which is total
// (ties end on the login), so the login of a page's last row is a keyset
// cursor; ok is false when that person is no longer in the list (the
// filter or the team changed), rather than guessing a place.
func pageStart(rows []report.Row, after string) (int, bool) {
	if after == "" {
		return 0, true
	}
	for i := range rows {
		if rows[i].Login == after {
			return i + 1, true
		}
	}
	return 0, false
}

// withQuery is path with the query q and one more parameter k=v.
func withQuery(path, q, k, v string) string {
	vals, _ := url.ParseQuery(q)
	vals.Set(k, v)
	return path + "?" + vals.Encode()
}
