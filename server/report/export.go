package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"conductportal/server/locale"

	"github.com/xuri/excelize/v2"
)

// Table is a view as an export writes it: the header, the rows and the
// total row. Cells are typed so that a spreadsheet gets numbers and dates,
// not text: string, int, Percent, time.Time (a day; zero is empty) or nil.
type Table struct {
	Name   string // the sheet's name
	Header []string
	Rows   [][]any
	Total  []any // written after the rows, outside the spreadsheet's filter; nil for none
}

// Percent is a whole percentage: "67%" in CSV, 0.67 formatted as a
// percentage in XLSX.
type Percent int

// exportDate is how exports write days: unambiguous in any language.
const exportDate = "2006-01-02"

// TeamTable is the team view as a table for analysts: per lesson its
// status, due date, completion date and whether it is overdue, each in a
// column of its own, so that a spreadsheet can filter and sort on them.
func TeamTable(t *Team, lang string) Table {
	tb := Table{Name: locale.T(lang, "team.sheet")}
	tb.Header = []string{locale.T(lang, "team.col.name"), locale.T(lang, "team.col.login"),
		locale.T(lang, "team.col.department"), locale.T(lang, "team.col.manager")}
	for _, l := range t.Lessons {
		title := l.Title(lang)
		for _, k := range []string{"team.col.status", "team.col.due", "team.col.completed", "team.col.lesson_overdue"} {
			tb.Header = append(tb.Header, locale.T(lang, k, title))
		}
	}
	tb.Header = append(tb.Header, locale.T(lang, "team.col.done"), locale.T(lang, "team.col.assigned"),
		locale.T(lang, "team.col.percent"), locale.T(lang, "team.col.overdue"), locale.T(lang, "team.col.expiring"))
	yes := locale.T(lang, "export.yes")
	for _, r := range t.Rows {
		row := []any{r.Name, r.Login, r.Department, r.Manager}
		for _, c := range r.Cells {
			if !c.Assigned {
				row = append(row, locale.T(lang, "team.not_assigned"), nil, nil, nil)
				continue
			}
			var due, overdue any
			if c.Open() {
				due = c.Due
			}
			if c.Overdue {
				overdue = yes
			}
			row = append(row, locale.T(lang, "status."+c.Code), due, c.Completed, overdue)
		}
		row = append(row, r.Done, r.Assigned, Percent(r.Percent), r.Overdue, r.Expiring)
		tb.Rows = append(tb.Rows, row)
	}
	tb.Total = []any{locale.T(lang, "team.total"), nil, nil, nil}
	for _, c := range t.Totals {
		tb.Total = append(tb.Total, locale.T(lang, "team.total.cell", c.Done, c.Assigned, c.Percent), nil, nil, c.Overdue)
	}
	tb.Total = append(tb.Total, t.Total.Done, t.Total.Assigned, Percent(t.Total.Percent), t.Total.Overdue, t.Total.Expiring)
	return tb
}

// OrgTable is one table of the organisation view: by department, or by
// lesson when byLesson.
func OrgTable(o *Organisation, lang string, byLesson bool) Table {
	first := locale.T(lang, "org.col.department")
	rows, name := o.Departments, locale.T(lang, "org.sheet.departments")
	if byLesson {
		first, rows, name = locale.T(lang, "org.col.lesson"), o.ByLesson, locale.T(lang, "org.sheet.lessons")
	}
	tb := Table{Name: name, Header: []string{first, locale.T(lang, "org.col.people"), locale.T(lang, "team.col.done"),
		locale.T(lang, "team.col.assigned"), locale.T(lang, "team.col.percent"), locale.T(lang, "org.col.overdue_people"),
		locale.T(lang, "team.col.overdue"), locale.T(lang, "org.col.reack")}}
	titles := map[string]string{}
	for _, l := range o.Lessons {
		titles[l.Slug] = l.Title(lang)
	}
	line := func(key string, r OrgRow) []any {
		return []any{key, r.People, r.Done, r.Assigned, Percent(r.Percent), r.OverduePeople, r.Overdue, r.Reack}
	}
	for _, r := range rows {
		key := r.Key
		switch {
		case byLesson:
			key = titles[r.Key]
		case key == "":
			key = locale.T(lang, "org.no_department")
		}
		tb.Rows = append(tb.Rows, line(key, r))
	}
	tb.Total = line(locale.T(lang, "team.total"), o.All)
	return tb
}

// text is a cell as CSV writes it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case Percent:
		return strconv.Itoa(int(v)) + "%"
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.In(time.Local).Format(exportDate)
	}
	return fmt.Sprint(v)
}

func texts(r []any) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = text(v)
	}
	return out
}

// WriteCSV writes t as CSV in UTF-8 with a byte order mark, so Excel
// opens Chinese text correctly.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel writes
	if err := cw.Write(safeCells(t.Header)); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	for _, r := range t.Rows {
		if err := cw.Write(safeCells(texts(r))); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	if t.Total != nil {
		if err := cw.Write(safeCells(texts(t.Total))); err != nil {
			return fmt.Errorf("report: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: csv: %w", err)
	}
	return nil
}

// safeCells keeps a spreadsheet from reading a cell as a formula (a name
// starting with =, +, -, @, a tab or a carriage return is data, not code).
func safeCells(r []string) []string {
	out := make([]string, len(r))
	for i, s := range r {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			s = "'" + s
		}
		out[i] = s
	}
	return out
}

// WriteXLSX writes the tables as the sheets of one workbook: numbers as
// numbers, dates as dates, percentages as percentages; the header bold and
// frozen with the first column, an auto-filter over the rows, and columns
// as wide as their text.
func WriteXLSX(w io.Writer, tables ...Table) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	for i, t := range tables {
		name := sheetName(t.Name, i)
		if i == 0 {
			err = f.SetSheetName("Sheet1", name)
		} else {
			_, err = f.NewSheet(name)
		}
		if err == nil {
			err = writeSheet(f, name, t, st)
		}
		if err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	return nil
}

type styles struct{ bold, date, percent, boldPercent int }

func newStyles(f *excelize.File) (styles, error) {
	var st styles
	dateFmt, pctFmt := "yyyy-mm-dd", "0%"
	for _, s := range []struct {
		id    *int
		style excelize.Style
	}{
		{&st.bold, excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&st.date, excelize.Style{CustomNumFmt: &dateFmt}},
		{&st.percent, excelize.Style{CustomNumFmt: &pctFmt}},
		{&st.boldPercent, excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: &pctFmt}},
	} {
		id, err := f.NewStyle(&s.style)
		if err != nil {
			return st, err
		}
		*s.id = id
	}
	return st, nil
}

// writeSheet streams one table into the sheet name.
func writeSheet(f *excelize.File, name string, t Table, st styles) error {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	// Panes and widths first: the stream writer takes them before any row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	for col, wd := range widths(t) {
		if err := sw.SetColWidth(col+1, col+1, wd); err != nil {
			return err
		}
	}
	if err := sw.SetRow("A1", header(t.Header, st.bold)); err != nil {
		return err
	}
	row := 2
	for _, r := range t.Rows {
		if err := setRow(sw, row, r, st, false); err != nil {
			return err
		}
		row++
	}
	last := row - 1
	if t.Total != nil {
		if err := setRow(sw, row, t.Total, st, true); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	end, err := excelize.CoordinatesToCellName(max(1, len(t.Header)), max(2, last))
	if err != nil {
		return err
	}
	return f.AutoFilter(name, "A1:"+end, nil)
}

func header(h []string, bold int) []any {
	out := make([]any, len(h))
	for i, s := range h {
		out[i] = excelize.Cell{StyleID: bold, Value: s}
	}
	return out
}

func setRow(sw *excelize.StreamWriter, n int, r []any, st styles, total bool) error {
	out := make([]any, len(r))
	for i, v := range r {
		c := excelize.Cell{Value: v}
		switch v := v.(type) {
		case nil:
			c.Value = nil
		case Percent:
			c.Value, c.StyleID = float64(v)/100, st.percent
			if total {
				c.StyleID = st.boldPercent
			}
		case time.Time:
			if v.IsZero() {
				c.Value = nil
			} else {
				// A spreadsheet date has no zone: write the company's day.
				y, m, d := v.In(time.Local).Date()
				c.Value, c.StyleID = time.Date(y, m, d, 0, 0, 0, 0, time.UTC), st.date
			}
		default:
			if total {
				c.StyleID = st.bold
			}
		}
		out[i] = c
	}
	cell, err := excelize.CoordinatesToCellName(1, n)
	if err != nil {
		return err
	}
	return sw.SetRow(cell, out)
}

// widths sizes each column to its longest text (a CJK character counts
// twice), between 8 and 40 characters.
func widths(t Table) []float64 {
	out := make([]float64, len(t.Header))
	measure := func(r []string) {
		for i, s := range r {
			if i >= len(out) {
				break
			}
			n := 0
			for _, c := range s {
				n++
				if c >= 0x2E80 {
					n++
				}
			}
			out[i] = max(out[i], float64(n)+2)
		}
	}
	measure(t.Header)
	for _, r := range t.Rows {
		measure(texts(r))
	}
	if t.Total != nil {
		measure(texts(t.Total))
	}
	for i := range out {
		out[i] = min(max(out[i], 8), 40)
	}
	return out
}

// sheetName makes a valid, unique sheet name: at most 31 characters,
// none of []:*?/\.
func sheetName(name string, i int) string {
	clean := []rune{}
	for _, r := range name {
		switch r {
		case '[', ']', ':', '*', '?', '/', '\\':
			r = ' '
		}
		clean = append(clean, r)
	}
	if len(clean) > 28 {
		clean = clean[:28]
	}
	if len(clean) == 0 {
		return "Sheet" + strconv.Itoa(i+1)
	}
	return string(clean)
}
