package web

import (
	"bytes"
	"strconv"
	"strings"
)

// htmlWriter writes the hot pages' HTML straight into a buffer, escaping
// every value as html/template escapes it in the same place, byte for
// byte: TestLayoutMatchesTemplate and TestLessonPageMatchesTemplate
// compare the two. html/template spends most of a page's time in
// reflection (finding fields and methods, calling escapers); this costs
// what copying the bytes does.
//
// The contexts a value may be written in, and nothing else: element text
// (and <title>), a quoted attribute value, and a quoted URL attribute
// (href, src, action, data-*-url). A value is never written into a
// script, a style or an unquoted attribute.
type htmlWriter struct{ b *bytes.Buffer }

// raw writes markup of the page's own, or sanitized HTML.
func (w htmlWriter) raw(s string) { w.b.WriteString(s) }

// text writes s as element text or a quoted attribute value (html/template's
// htmlEscaper, attrEscaper and rcdataEscaper: one table). Byte by byte is
// the same as html/template's rune by rune: every escaped character is
// ASCII, and UTF-8 uses no ASCII byte inside a longer character.
func (w htmlWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		w.b.WriteString(s[last:i])
		w.b.WriteString(repl)
		last = i + 1
	}
	w.b.WriteString(s[last:])
}

// int writes n as text.
func (w htmlWriter) int(n int) {
	var a [20]byte
	w.b.Write(strconv.AppendInt(a[:0], int64(n), 10))
}

// url writes s inside a quoted URL attribute after its start ("/lessons/"
// then the slug): percent-encoding what a URL may not hold, keeping
// valid escapes and the characters with a meaning in URLs.
func (w htmlWriter) url(s string) { w.text(processURL(s, true)) }

// urlPart writes s in a URL's query or fragment: everything but
// unreserved characters percent-encoded.
func (w htmlWriter) urlPart(s string) { w.text(processURL(s, false)) }

// urlStart writes s as a whole quoted URL attribute value: a scheme other
// than http, https or mailto becomes "#ZgotmplZ" (html/template's filter).
func (w htmlWriter) urlStart(s string) {
	if protocol, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(protocol, "/") {
		if !strings.EqualFold(protocol, "http") && !strings.EqualFold(protocol, "https") && !strings.EqualFold(protocol, "mailto") {
			w.raw("#ZgotmplZ")
			return
		}
	}
	w.url(s)
}

// processURL is html/template's URL escaper (norm false) and normalizer
// (norm true). It allocates only when something needs encoding.
func processURL(s string, norm bool) string {
	var b []byte
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '!', '#', '$', '&', '*', '+', ',', '/', ':', ';', '=', '?', '@', '[', ']':
			if norm {
				continue
			}
		case '-', '.', '_', '~':
			continue
		case '%':
			if norm && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				continue
			}
		default:
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				continue
			}
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[written:i]...)
		b = append(b, '%', hexDigit[c>>4], hexDigit[c&15])
		written = i + 1
	}
	if b == nil {
		return s
	}
	return string(append(b, s[written:]...))
}

const hexDigit = "0123456789abcdef"

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
