package report

import (
	"strings"
	"time"
	"unicode"
)

// FileName names an export: parts such as the view, the team and the
// filter joined with "-", each reduced to letters, digits, dots and
// underscores (a department may be 客服部, never "../x"), then the day and
// the extension: team-客服部-overdue-2026-12-03.xlsx.
func FileName(parts []string, day time.Time, ext string) string {
	var out []string
	for _, p := range parts {
		clean := strings.Trim(strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' {
				return r
			}
			return '-'
		}, p), "-.")
		if clean != "" {
			out = append(out, clean)
		}
	}
	return strings.Join(append(out, day.Format(exportDate)), "-") + "." + ext
}

// Attachment is the Content-Disposition of a download named name (as
// FileName makes it): an ASCII filename for old clients and, when the name
// is not ASCII, its UTF-8 form as RFC 6266 and RFC 8187 define it.
func Attachment(name string) string {
	var ascii, enc strings.Builder
	plain := true
	for _, r := range name {
		if r < 0x80 && r != '"' && r != '\\' && r >= 0x20 {
			ascii.WriteRune(r)
		} else {
			plain = false
		}
	}
	if plain {
		return `attachment; filename="` + name + `"`
	}
	const hex = "0123456789ABCDEF"
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-._", b) >= 0) {
			enc.WriteByte(b)
			continue
		}
		enc.WriteByte('%')
		enc.WriteByte(hex[b>>4])
		enc.WriteByte(hex[b&15])
	}
	// The dropped letters leave "--" behind: one dash reads better.
	fallback := ascii.String()
	for strings.Contains(fallback, "--") {
		fallback = strings.ReplaceAll(fallback, "--", "-")
	}
	fallback = strings.TrimLeft(fallback, "-")
	return `attachment; filename="` + fallback + `"; filename*=UTF-8''` + enc.String()
}

// ContentType is the media type of an export format (csv or xlsx).
func ContentType(format string) string {
	if format == "csv" {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// TeamFileParts names a team export: team, the manager or department,
// then the filter (lesson_dress, done, overdue, ...).
func TeamFileParts(t *Team) []string {
	parts := []string{"team"}
	switch {
	case t.Scope.Manager != "":
		parts = append(parts, t.Scope.Manager)
	case t.Scope.Department != "":
		parts = append(parts, t.Scope.Department)
	}
	f := t.Filter
	if f.Lesson != "" {
		parts = append(parts, "lesson_"+f.Lesson)
	}
	if f.Status != "" {
		parts = append(parts, f.Status)
	}
	for _, on := range []struct {
		set  bool
		name string
	}{{f.Overdue, "overdue"}, {f.Reack, "reack"}, {f.Expiring, "expiring"}} {
		if on.set {
			parts = append(parts, on.name)
		}
	}
	return parts
}

// OrgExport is the organisation view as an export: its file name parts
// and tables. A workbook holds both tables, the one asked for first; a
// CSV only that one.
func OrgExport(o *Organisation, lang string, byLesson, workbook bool) ([]string, []Table) {
	parts := []string{"organisation", "by_department"}
	if byLesson {
		parts[1] = "by_lesson"
	}
	asked, other := OrgTable(o, lang, byLesson), OrgTable(o, lang, !byLesson)
	if !workbook {
		return parts, []Table{asked}
	}
	return parts, []Table{asked, other}
}
