package lesson

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pathological are texts on which Markdown parsers have been super-linear:
// the outside probe's (issue 26) and ones from parsers' trackers.
func pathological() map[string]string {
	nestedList := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.Repeat(" ", 2*i) + "- a\n")
		}
		return b.String()
	}
	blocks := func(unit string, perBlock, total int) string {
		var b strings.Builder
		for b.Len() < total {
			b.WriteString(strings.Repeat(unit, perBlock) + "\n\n")
		}
		return b.String()
	}
	return map[string]string{
		// issue 26: 43 s, > 1 min and the publish that ran out of time
		"probe [a]( x75000":    strings.Repeat("[a](", 75000),
		"probe > x300000":      strings.Repeat(">", 300000),
		"probe [a]( x20000":    strings.Repeat("[a](", 20000),
		"> space x10000":       strings.Repeat("> ", 10000) + "x",
		"goldmark#555 emph":    strings.Repeat("*a_b*c_d**e_f*g**h*i_j**", 4000),
		"cmark#218 [a](<b":     strings.Repeat("[a](<b", 50000),
		"cmark#214 [a](b":      strings.Repeat("[a](b", 50000),
		"md4c#236 ]([":         strings.Repeat("]([\n", 50000),
		"md4c#238 ref defs":    "[x]: " + strings.Repeat("x", 1000) + strings.Repeat("\n[x]", 1000),
		"md4c#73 CDATA":        strings.Repeat("a <![CDATA[", 10000),
		"pulldown#934 !-- <":   strings.Repeat("!-- <", 10000),
		"markdown-it#737 <":    strings.Repeat("<", 200000),
		"markdown-it#583 *_":   strings.Repeat("*_", 20000),
		"mistune#191 []( \"":   strings.Repeat("[]( \"", 800),
		"python-md#798 [":      strings.Repeat("[", 13000),
		"hoedown#142 [a[a":     strings.Repeat("[a", 5000) + strings.Repeat("]a", 5000),
		"commonmark.js#157 \\": "[" + strings.Repeat("\\", 5000),
		"commonmark.js#160":    nestedList(800),
		"marked#1463 ~":        strings.Repeat("~", 100000),
		"wide table":           "|" + strings.Repeat("a|", 5000) + "\n|" + strings.Repeat("-|", 5000) + "\n" + strings.Repeat("|a\n", 5000),
		// the worst shapes the limits still allow, filling the size limit
		"allowed [a]( blocks": blocks("[a](", maxBrackets, MaxFileBytes-1024),
		"allowed emph blocks": blocks("*a_b*c_d**e_f*g**h*i_j**", maxDelimiters/14, MaxFileBytes-1024),
		"allowed table":       "|" + strings.Repeat("a|", maxTableCells-1) + "\n|" + strings.Repeat("-|", maxTableCells-1) + "\n" + strings.Repeat("|a\n", maxTableRows-2),
		"allowed quotes":      blocks(strings.Repeat(">", maxNesting)+" x", 1, maxContainers/maxNesting*12),
		"too many quotes":     blocks("> x", 1, MaxFileBytes-1024),
	}
}

// TestPathologicalMarkdownIsRefusedOrRendered: each input is refused by the
// limits (so an author's save says why) or rendered; how long a render
// takes is measured by BenchmarkPathological, not asserted here.
func TestPathologicalMarkdownIsRefusedOrRendered(t *testing.T) {
	r := NewRenderer()
	// What is asked is refused-or-rendered, not how fast: on a loaded
	// machine the largest allowed texts can outlive the 2 s guard.
	r.SetTimeout(time.Minute)
	for name, in := range pathological() {
		t.Run(name, func(t *testing.T) {
			limit := CheckLimits(in)
			html, err := r.Preview(in)
			switch {
			case limit != nil:
				if !errors.Is(err, ErrTooComplex) || !errors.As(err, new(*LimitError)) {
					t.Fatalf("over the limits (%v) but Preview said %v", limit, err)
				}
				// The authoring check says so too, on the line.
				file := "---\nslug: x\n---\n" + in
				if _, probs := Parse("zh-CN", "zh-CN", []byte(file)); len(probs) != 1 || !strings.Contains(probs[0].Msg, "at most") {
					t.Fatalf("Parse: %v", probs)
				}
			case strings.HasPrefix(name, "probe"):
				t.Fatalf("the probe's input %q is within the limits", name)
			case err != nil || html == "":
				t.Fatalf("within the limits but not rendered: %v", err)
			}
		})
	}
}

// The shipped lessons are far inside the limits.
func TestShippedLessonsWithinLimits(t *testing.T) {
	files, _ := filepath.Glob("../../content/*/*.md")
	if len(files) < 12 {
		t.Fatalf("found %d lesson files", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f) // #nosec G304 -- the repository's own files
		if err != nil {
			t.Fatal(err)
		}
		if e := CheckLimits(string(raw)); e != nil {
			t.Errorf("%s: %v", f, e)
		}
	}
}

func TestLimitKinds(t *testing.T) {
	for in, kind := range map[string]string{
		strings.Repeat("x", MaxFileBytes+1):                                                  LimitSize,
		"para\n\n" + strings.Repeat("> ", maxNesting+1) + "deep":                             LimitNesting,
		"> - > 1. > - > 1. > - text":                                                         LimitNesting,
		strings.Repeat(" ", maxIndent+1) + "- x":                                             LimitIndent,
		"a\n\nb " + strings.Repeat("[x] ", maxBrackets+1):                                    LimitBrackets,
		"a " + strings.Repeat("*x* ", maxDelimiters/2+1):                                     LimitEmphasis,
		strings.Repeat("|a", maxTableCells+1):                                                LimitTable,
		"a " + strings.Repeat("(", maxRun+1):                                                 LimitRun,
		strings.Repeat("[a](\n", maxBrackets) + "\n" + strings.Repeat("[a](\n", maxBrackets): "",
	} {
		e := CheckLimits(in)
		if kind == "" {
			if e != nil {
				t.Errorf("within the limits (the count starts again each paragraph): %v", e)
			}
			continue
		}
		if e == nil || e.Kind != kind {
			t.Errorf("%.40q: %v, want %s", in, e, kind)
		}
	}
	e := CheckLimits("---\nslug: x\n---\n\nfine\n\n" + strings.Repeat(">", maxRun+1))
	if e == nil || e.Line != 7 {
		t.Fatalf("the line of the problem: %+v", e)
	}
}

// A render that cannot start (every worker busy) or finish in time is
// answered ErrTooComplex, not left to run out the request's deadline.
func TestRenderTimeLimit(t *testing.T) {
	r := NewRenderer()
	r.SetTimeout(50 * time.Millisecond)
	for range cap(r.workers) {
		r.workers <- struct{}{}
	}
	if _, err := r.Preview("# hello"); !errors.Is(err, ErrTooComplex) {
		t.Fatalf("every worker busy: %v", err)
	}
	for range cap(r.workers) {
		<-r.workers
	}
	if html, err := r.Preview("# hello"); err != nil || !strings.Contains(html, "hello") {
		t.Fatalf("workers free again: %q %v", html, err)
	}
}

// BenchmarkPathological times each input: refused by the limits (a
// linear scan) or rendered.
func BenchmarkPathological(b *testing.B) {
	r := NewRenderer()
	for name, in := range pathological() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				_, err := r.Preview(in)
				if err != nil && !errors.Is(err, ErrTooComplex) {
					b.Fatal(err)
				}
			}
		})
	}
}
