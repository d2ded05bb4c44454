package web

import (
	"bytes"
	"net/url"
	"slices"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/report"

	"github.com/gofiber/fiber/v2"
)

// exportForm is a view's export block: a GET form whose buttons fetch the
// CSV or the workbook of the view as shown (its query as hidden fields), in
// the language chosen there.
type exportForm struct {
	ID        string // unique on the page
	CSV, XLSX string // the addresses, without query
	Fields    []exportField
}

type exportField struct{ Name, Value string }

func newExportForm(id, csv, xlsx string, q url.Values) exportForm {
	f := exportForm{ID: id, CSV: csv, XLSX: xlsx}
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "lang" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			f.Fields = append(f.Fields, exportField{k, v})
		}
	}
	return f
}

// exportBlock pairs a form with the page for the shared "export" block.
type exportBlock struct {
	Page  *page
	Form  exportForm
	Langs []string
}

// ExportBlock is what the "export" block of layout.html renders.
func (p *page) ExportBlock(f exportForm) exportBlock {
	return exportBlock{Page: p, Form: f, Langs: model.Languages}
}

// exportLang is the language an export was asked in (?lang=), else the
// reader's.
func exportLang(c *fiber.Ctx) string {
	if l := c.Query("lang"); locale.Supported(l) {
		return l
	}
	return langOf(c)
}

// export writes tables as an attachment in format (csv or xlsx), named
// after what it holds: parts such as the view, the team and the filter,
// then the day.
func (h *handler) export(c *fiber.Ctx, parts []string, format string, tables ...report.Table) error {
	var buf bytes.Buffer
	switch format {
	case "csv":
		if err := report.WriteCSV(&buf, tables[0]); err != nil {
			return err
		}
	case "xlsx":
		if err := report.WriteXLSX(&buf, tables...); err != nil {
			return err
		}
	default:
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, report.ContentType(format))
	c.Set(fiber.HeaderContentDisposition, report.Attachment(report.FileName(parts, time.Now().In(displayZone), format)))
	return c.Send(buf.Bytes())
}
