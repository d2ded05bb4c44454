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

// Table is a view as text: the header and the rows an export writes,
// the same columns the screen shows.
type Table struct {
	Name   string // the sheet's name
	Header []string
	Rows   [][]string
}

// exportDate is how exports write days: unambiguous in any language.
const exportDate = "2006-01-02"

// CellText is a cell in words: the status, the due date when open, and
// whether it is overdue.
func CellText(lang string, c Cell) string {
	if !c.Assigned {
		return locale.T(lang, "team.not_assigned")
	}
	s := locale.T(lang, "status."+c.Code)
	if c.Open() {
		s += locale.T(lang, "team.cell.due", c.Due.In(time.Local).Format(exportDate))
	}
	if c.Overdue {
		s += locale.T(lang, "team.cell.overdue")
	}
	if c.Expiring {
		s += locale.T(lang, "team.cell.expires", c.Expires.In(time.Local).Format(exportDate))
	}
	return s
}

// TeamTable is the team view as a table.
func TeamTable(t *Team, lang string) Table {
	tb := Table{Name: locale.T(lang, "team.sheet")}
	tb.Header = []string{locale.T(lang, "team.col.name"), locale.T(lang, "team.col.login"), locale.T(lang, "team.col.department")}
	for _, l := range t.Lessons {
		tb.Header = append(tb.Header, l.Title(lang))
	}
	tb.Header = append(tb.Header, locale.T(lang, "team.col.done"), locale.T(lang, "team.col.assigned"),
		locale.T(lang, "team.col.percent"), locale.T(lang, "team.col.overdue"), locale.T(lang, "team.col.expiring"))
	for _, r := range t.Rows {
		row := []string{r.Name, r.Login, r.Department}
		for _, c := range r.Cells {
			row = append(row, CellText(lang, c))
		}
		row = append(row, strconv.Itoa(r.Done), strconv.Itoa(r.Assigned), strconv.Itoa(r.Percent)+"%", strconv.Itoa(r.Overdue), strconv.Itoa(r.Expiring))
		tb.Rows = append(tb.Rows, row)
	}
	total := []string{locale.T(lang, "team.total"), "", ""}
	for _, c := range t.Totals {
		total = append(total, locale.T(lang, "team.total.cell", c.Done, c.Assigned, c.Percent))
	}
	total = append(total, strconv.Itoa(t.Total.Done), strconv.Itoa(t.Total.Assigned), strconv.Itoa(t.Total.Percent)+"%", strconv.Itoa(t.Total.Overdue), strconv.Itoa(t.Total.Expiring))
	tb.Rows = append(tb.Rows, total)
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
	add := func(key string, r OrgRow) {
		tb.Rows = append(tb.Rows, []string{key, strconv.Itoa(r.People), strconv.Itoa(r.Done), strconv.Itoa(r.Assigned),
			strconv.Itoa(r.Percent) + "%", strconv.Itoa(r.OverduePeople), strconv.Itoa(r.Overdue), strconv.Itoa(r.Reack)})
	}
	for _, r := range rows {
		key := r.Key
		switch {
		case byLesson:
			key = titles[r.Key]
		case key == "":
			key = locale.T(lang, "org.no_department")
		}
		add(key, r)
	}
	add(locale.T(lang, "team.total"), o.All)
	return tb
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
		if err := cw.Write(safeCells(r)); err != nil {
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

// WriteXLSX writes the tables as the sheets of one workbook.
func WriteXLSX(w io.Writer, tables ...Table) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	for i, t := range tables {
		name := sheetName(t.Name, i)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("report: xlsx: %w", err)
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
		if err := sw.SetRow("A1", cells(t.Header, func(s string) any { return excelize.Cell{StyleID: bold, Value: s} })); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
		for r, row := range t.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(cell, cells(row, func(s string) any { return s })); err != nil {
				return fmt.Errorf("report: xlsx: %w", err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"}); err != nil {
			return fmt.Errorf("report: xlsx: %w", err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	return nil
}

func cells(r []string, f func(string) any) []any {
	out := make([]any, len(r))
	for i, s := range r {
		out[i] = f(s)
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
