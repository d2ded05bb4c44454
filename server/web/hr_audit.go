package web

import (
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"
	"time"

	"conductportal/server/audit"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// auditPageSize is how many rows a page shows; the CSV export has all of
// them.
const (
	auditPageSize    = 50
	auditExportLimit = 100_000
)

type auditPage struct {
	Entries []auditRow
	Actions []actionOption // the action filter's choices
	Actors  []string       // everyone in the log, for the actor filter
	People  []model.User   // everyone acted on in the log, for the person filter
	Actor   string
	Target  string // the person acted on
	Action  string
	From    string
	To      string
	Export  string // the CSV export's address, with the filter
	Next    string // the next page's address; empty on the last
	First   string // the first page's address, when this is not it
}

// auditFilter reads the filter from the query: actor, the person acted on
// (target), action (exact, or a prefix ending in "."), and from/to days
// (to is inclusive).
func auditFilter(c *fiber.Ctx) (model.AuditFilter, auditPage) {
	p := auditPage{Actor: strings.TrimSpace(c.Query("actor")), Target: strings.TrimSpace(c.Query("target")), Action: strings.TrimSpace(c.Query("action")),
		From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to"))}
	f := model.AuditFilter{Actor: p.Actor, Target: p.Target, Action: p.Action}
	if t, err := time.ParseInLocation(time.DateOnly, p.From, displayZone); err == nil {
		f.From = t.UTC()
	} else {
		p.From = ""
	}
	if t, err := time.ParseInLocation(time.DateOnly, p.To, displayZone); err == nil {
		f.To = t.AddDate(0, 0, 1).UTC()
	} else {
		p.To = ""
	}
	// Whole addresses, not a query put after "?" in the template: that
	// would be escaped as one value ("actor%3dx"), losing the filter.
	p.Export = withFilter("/hr/audit.csv", p.filterQuery())
	return f, p
}

// filterQuery is the page's filter as query parameters, without the cursor.
func (p auditPage) filterQuery() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": p.Actor, "target": p.Target, "action": p.Action, "from": p.From, "to": p.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// withFilter is path with the filter's query, if any.
func withFilter(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// hrAudit shows one page of the filtered log, newest first, 50 rows; the
// next page's link carries the filter and a cursor (after) on the last
// row's time and _id. A page costs the same at any size of log (see
// storage.AuditPage).
func (h *handler) hrAudit(c *fiber.Ctx) error {
	f, p := auditFilter(c)
	title := locale.T(langOf(c), "hr.audit.title")
	after, err := model.ParseCursor(c.Query("after"))
	p.Actions = actionOptions(langOf(c), p.Action)
	if err != nil {
		c.Status(fiber.StatusBadRequest)
		return h.renderPage(c, "hr_audit", &page{Title: title, Data: p, Error: locale.T(langOf(c), "hr.paging.bad_cursor")})
	}
	entries, more, err := h.Audit.Page(ctx(c), f, after, auditPageSize)
	if err != nil {
		return err
	}
	if p.Actors, err = h.Audit.Actors(ctx(c)); err != nil {
		return err
	}
	if p.People, err = h.Audit.People(ctx(c)); err != nil {
		return err
	}
	lang := langOf(c)
	for _, e := range entries {
		p.Entries = append(p.Entries, auditRow{AuditEntry: e, ActionName: actionName(lang, e.Action), Text: entryText(lang, &e)})
	}
	if after.ID != "" {
		p.First = withFilter("/hr/audit", p.filterQuery())
	}
	if more && len(entries) > 0 {
		last := entries[len(entries)-1]
		v := p.filterQuery()
		v.Set("after", model.Cursor{At: last.At, ID: last.ID}.String())
		p.Next = "/hr/audit?" + v.Encode()
	}
	return h.render(c, "hr_audit", title, p)
}

// hrAuditCSV exports the filtered log. Cells that a spreadsheet would take
// for a formula are prefixed with an apostrophe.
func (h *handler) hrAuditCSV(c *fiber.Ctx) error {
	f, _ := auditFilter(c)
	entries, err := h.Audit.Search(ctx(c), f, auditExportLimit)
	if err != nil {
		return err
	}
	u, _ := currentSession(c)
	d := audit.Counts("rows", strconv.Itoa(len(entries)), "filter", string(c.Request().URI().QueryString()))
	if err := h.Audit.Exported(ctx(c), actorOf(c, u), "audit.export", "", d); err != nil {
		return err
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"at", "actor", "action", "target", "detail", "client", "count"})
	for _, e := range entries {
		_ = w.Write([]string{e.At.UTC().Format(time.RFC3339), cell(e.Actor), cell(e.Action), cell(e.Target), cell(e.Detail), cell(e.Client), strconv.Itoa(e.Count)})
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	return c.SendString(b.String())
}

// cell defuses spreadsheet formulas (CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
