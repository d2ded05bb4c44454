package lesson

import (
	"regexp"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("---\nslug: a\n---\n")
	f.Add("---\n---\n## {#}\n")
	f.Add("---\nslug: [\n---\n")
	f.Add("\ufeff---\r\ntitle: x\r\n---\r\n## a {#a}\r\n```\n## b\n```\n")
	f.Fuzz(func(t *testing.T, src string) {
		d, probs := Parse("f.md", "zh-CN", []byte(src))
		if (d == nil) == (len(probs) == 0) {
			t.Fatalf("Parse must return a Doc or problems, not both or neither: %v %v", d, probs)
		}
		for _, p := range probs {
			if p.File != "f.md" || p.Msg == "" {
				t.Fatalf("problem without file or message: %+v", p)
			}
		}
	})
}

// FuzzRender: whatever the Markdown, the output is sanitized, and
// sanitizing it again changes nothing.
var (
	tagRe        = regexp.MustCompile(`<[^>]*>`)
	dangerousTag = regexp.MustCompile(`^</?(script|style|iframe|svg|object|embed|form|input|math)\b|\son[a-z]+\s*=|(href|src|action|formaction)\s*=\s*"?\s*(javascript|vbscript|data):`)
)

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"## a {#a}\n\n<script>alert(1)</script>", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>",
		"<svg><script>alert(1)</script></svg>", "[x](&#x6A;avascript:alert(1))", "| a |\n| - |\n| <b onclick=x>b</b> |",
		"<a href=\"data:text/html,<script>alert(1)</script>\">x</a>", "<style>body{background:url(javascript:x)}</style>",
	} {
		f.Add(s)
	}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, md string) {
		out, err := r.Render(md)
		if err != nil {
			t.Fatal(err)
		}
		if again := r.Sanitize(out); again != out {
			t.Fatalf("sanitizing twice changed the output:\n%q\n%q", out, again)
		}
		// Inside tags: no dangerous element, no handler, no script URL.
		// (Text may say "javascript:"; it is only text.)
		for _, tag := range tagRe.FindAllString(strings.ToLower(out), -1) {
			if dangerousTag.MatchString(tag) {
				t.Fatalf("dangerous markup %q survived in %q", tag, out)
			}
		}
	})
}
