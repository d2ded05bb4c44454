package lesson

import (
	"html"
	"strings"
	"unicode"
)

// Op kinds of a diff.
const (
	Equal  = 0
	Insert = 1
	Delete = 2
	Skip   = 3 // unchanged lines left out by Collapse
)

// Op is one run of a diff.
type Op struct {
	Kind int
	Text string
}

// maxTokenDiff bounds the work of one fine-grained hunk: past it, the hunk
// is shown as removed and added whole.
const maxTokenDiff = 4_000_000

// Diff compares two texts for a reader: first by line, then, inside each
// changed block, by character for Chinese and by word for English.
func Diff(oldText, newText, lang string) []Op {
	a, b := splitLines(oldText), splitLines(newText)
	var out []Op
	lineOps := diffTokens(a, b)
	for i := 0; i < len(lineOps); i++ {
		op := lineOps[i]
		if op.Kind == Equal {
			out = appendOp(out, op)
			continue
		}
		// Gather a changed block: the deletions and insertions that sit together.
		var del, ins strings.Builder
		for ; i < len(lineOps) && lineOps[i].Kind != Equal; i++ {
			if lineOps[i].Kind == Delete {
				del.WriteString(lineOps[i].Text)
			} else {
				ins.WriteString(lineOps[i].Text)
			}
		}
		i--
		ta, tb := tokens(del.String(), lang), tokens(ins.String(), lang)
		if len(ta)*len(tb) > maxTokenDiff {
			out = appendOp(out, Op{Delete, del.String()})
			out = appendOp(out, Op{Insert, ins.String()})
			continue
		}
		for _, o := range diffTokens(ta, tb) {
			out = appendOp(out, o)
		}
	}
	return out
}

// HTML renders ops as escaped text with <del> and <ins>, for a <pre>-like block.
func HTML(ops []Op) string {
	var b strings.Builder
	for _, o := range ops {
		t := html.EscapeString(o.Text)
		switch o.Kind {
		case Skip:
			b.WriteString("<span class=\"skip\">⋯</span>\n")
		case Insert:
			b.WriteString("<ins>" + t + "</ins>")
		case Delete:
			b.WriteString("<del>" + t + "</del>")
		default:
			b.WriteString(t)
		}
	}
	return b.String()
}

// Collapse leaves out unchanged lines farther than context lines from a
// change, so a reader sees what changed and just enough around it.
func Collapse(ops []Op, context int) []Op {
	var out []Op
	for i, o := range ops {
		if o.Kind != Equal {
			out = append(out, o)
			continue
		}
		lines := strings.SplitAfter(o.Text, "\n")
		keepHead, keepTail := context, context
		if i == 0 {
			keepHead = 0
		}
		if i == len(ops)-1 {
			keepTail = 0
		}
		// The partial lines that touch a change stay whole.
		if i > 0 {
			keepHead++
		}
		if i < len(ops)-1 {
			keepTail++
		}
		if len(lines) <= keepHead+keepTail+1 {
			out = append(out, o)
			continue
		}
		head := strings.Join(lines[:keepHead], "")
		tail := strings.Join(lines[len(lines)-keepTail:], "")
		if head != "" {
			out = append(out, Op{Equal, head})
		}
		out = append(out, Op{Kind: Skip})
		if tail != "" {
			out = append(out, Op{Equal, tail})
		}
	}
	return out
}

// Readable turns lesson Markdown into the text a reader compares: headings
// without their marks and ids, no emphasis marks.
func Readable(md string) string {
	lines := strings.SplitAfter(md, "\n")
	for i, ln := range lines {
		if m := headingRe.FindStringSubmatch(strings.TrimRight(ln, "\n")); m != nil {
			title := idAttrRe.ReplaceAllString(m[2], "")
			lines[i] = title + ln[len(strings.TrimRight(ln, "\n")):]
			continue
		}
		lines[i] = strings.NewReplacer("**", "", "__", "").Replace(ln)
	}
	return strings.Join(lines, "")
}

// Changed reports whether ops hold any insertion or deletion.
func Changed(ops []Op) bool {
	for _, o := range ops {
		if o.Kind != Equal {
			return true
		}
	}
	return false
}

func appendOp(ops []Op, o Op) []Op {
	if o.Text == "" {
		return ops
	}
	if n := len(ops); n > 0 && ops[n-1].Kind == o.Kind {
		ops[n-1].Text += o.Text
		return ops
	}
	return append(ops, o)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(s, "\n")
}

// tokens splits text into the units a reader compares: each character for
// Chinese; for English, words and the spaces and punctuation between them.
func tokens(s, lang string) []string {
	var out []string
	if !strings.HasPrefix(lang, "en") {
		for _, r := range s {
			out = append(out, string(r))
		}
		return out
	}
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-'
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
		out = append(out, string(r))
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// diffTokens is Myers' O((N+M)D) shortest edit script.
func diffTokens(a, b []string) []Op {
	n, m := len(a), len(b)
	max := n + m
	if max == 0 {
		return nil
	}
	offset := max
	v := make([]int, 2*max+2)
	var trace [][]int
	for d := 0; d <= max; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				return backtrack(trace, a, b, offset, d)
			}
		}
	}
	return nil
}

func backtrack(trace [][]int, a, b []string, offset, d int) []Op {
	var rev []Op
	x, y := len(a), len(b)
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, Op{Equal, a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, Op{Insert, b[y]})
		} else {
			x--
			rev = append(rev, Op{Delete, a[x]})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, Op{Equal, a[x]})
	}
	var out []Op
	for i := len(rev) - 1; i >= 0; i-- {
		out = appendOp(out, rev[i])
	}
	return out
}
