package web

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// auditPageLimit bounds the rows shown; the CSV export has all of them.
const (
	auditPageLimit   = 500
	auditExportLimit = 100_000
)

type auditPage struct {
	Entries []model.AuditEntry
	Actor   string
	Action  string
	From    string
	To      string
	Query   string // the filter as a query string, for the export link
	Limited bool
}

// auditFilter reads the filter from the query: actor, action (exact, or a
// prefix ending in "."), and from/to days (to is inclusive).
func auditFilter(c *fiber.Ctx) (model.AuditFilter, auditPage) {
	p := auditPage{Actor: strings.TrimSpace(c.Query("actor")), Action: strings.TrimSpace(c.Query("action")),
		From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to"))}
	f := model.AuditFilter{Actor: p.Actor, Action: p.Action}
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
	p.Query = string(c.Request().URI().QueryString())
	return f, p
}

func (h *handler) hrAudit(c *fiber.Ctx) error {
	f, p := auditFilter(c)
	entries, err := h.Training.AuditSearch(ctx(c), f, auditPageLimit+1)
	if err != nil {
		return err
	}
	if len(entries) > auditPageLimit {
		entries, p.Limited = entries[:auditPageLimit], true
	}
	p.Entries = entries
	return h.render(c, "hr_audit", locale.T(langOf(c), "hr.audit.title"), p)
}

// hrAuditCSV exports the filtered log. Cells that a spreadsheet would take
// for a formula are prefixed with an apostrophe.
func (h *handler) hrAuditCSV(c *fiber.Ctx) error {
	f, _ := auditFilter(c)
	entries, err := h.Training.AuditSearch(ctx(c), f, auditExportLimit)
	if err != nil {
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
	h.audit(c, actor(c), "audit.export", "", "rows="+strconv.Itoa(len(entries))+" filter="+string(c.Request().URI().QueryString()))
	return c.SendString(b.String())
}

// cell defuses spreadsheet formulas (CSV injection).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
