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
