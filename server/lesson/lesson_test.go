package lesson

import (
	"strings"
	"testing"
)

const good = `---
slug: dress
title: 着装规范
order: 5
audience: all
due_days: 7
summary: 上班穿统一着装。
---

## 原则 {#principles}

端庄、大方。

### 细则

| 项目 | 要求 |
| --- | --- |
| 鞋 | 清洁 |

## 上班着装 {#work-attire}

- 穿职业装。
`

func TestParseGood(t *testing.T) {
	d, probs := Parse("content/zh-CN/dress.md", "zh-CN", []byte(good))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if d.Slug != "dress" || d.Title != "着装规范" || d.Order != 5 || d.DueDays != 7 || d.Summary != "上班穿统一着装。" {
		t.Fatalf("front matter: %+v", d)
	}
	if len(d.Clauses) != 2 || d.Clauses[0].ID != "principles" || d.Clauses[0].Title != "原则" || d.Clauses[1].ID != "work-attire" {
		t.Fatalf("clauses: %+v", d.Clauses)
	}
	if d.Clauses[0].Line != 10 || d.Clauses[1].Line != 20 {
		t.Fatalf("clause lines: %d %d", d.Clauses[0].Line, d.Clauses[1].Line)
	}
	if !strings.Contains(d.Clauses[0].Source, "| 鞋 | 清洁 |") || strings.Contains(d.Clauses[0].Source, "职业装") {
		t.Fatalf("clause source: %q", d.Clauses[0].Source)
	}
}

func TestParseProblemsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"no front matter", "## a {#a}\n", ":1: the file must start"},
		{"unclosed", "---\nslug: a\n", ":1: the front matter is not closed"},
		{"yaml error", "---\nslug: a\ntitle: [\n---\n## a {#a}\n", "front matter:"},
		{"unknown field", "---\nslug: a\ntitel: x\n---\n## a {#a}\n", ":3: front matter: field titel not found"},
		{"missing summary", strings.Replace(good, "summary: 上班穿统一着装。\n", "", 1), "summary is missing"},
		{"bad slug", strings.Replace(good, "slug: dress", "slug: Dress Code", 1), "slug \"Dress Code\""},
		{"heading without id", strings.Replace(good, "## 上班着装 {#work-attire}", "## 上班着装", 1), ":20: clause heading \"上班着装\" needs an id"},
		{"duplicate id", strings.Replace(good, "{#work-attire}", "{#principles}", 1), ":20: clause id \"principles\" is used twice (first on line 10)"},
		{"title heading", strings.Replace(good, "## 原则 {#principles}", "# 原则", 1), ":10: '# ' headings are not allowed"},
		{"text before clauses", strings.Replace(good, "## 原则 {#principles}", "序言\n\n## 原则 {#principles}", 1), ":10: text before the first"},
		{"due days", strings.Replace(good, "due_days: 7", "due_days: 0", 1), "due_days must be"},
	} {
		_, probs := Parse("f.md", "zh-CN", []byte(tc.src))
		all := ""
		for _, p := range probs {
			all += p.Error() + "\n"
		}
		if !strings.Contains(all, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, all, tc.want)
		}
	}
}

func TestRenderIsSafe(t *testing.T) {
	r := NewRenderer()
	for _, tc := range []struct{ src, mustNot, must string }{
		{"## 规则 {#rule-1}\n\ntext", "{#", `<h2 id="rule-1">规则</h2>`},
		{"<script>alert(1)</script>", "<script", ""},
		{"<img src=x onerror=alert(1)>", "onerror", ""},
		{"[x](javascript:alert(1))", "javascript:", ""},
		{"[x](JaVaScRiPt:alert(1))", "avascript", ""},
		{"[x](&#106;avascript:alert(1))", "avascript", ""},
		{"[x](data:text/html;base64,PHNjcmlwdD4=)", "data:", ""},
		{"[x](vbscript:msgbox)", "vbscript", ""},
		{"<svg onload=alert(1)>", "<svg", ""},
		{`<a href="https://x" style="background:url(javascript:alert(1))">y</a>`, "style", ""},
		{"[ok](https://example.com/a)", "", `href="https://example.com/a"`},
		{"| a | b |\n| - | - |\n| 1 | 2 |\n", "", "<table>"},
		{"### 小节\n", "", "<h3>小节</h3>"},
	} {
		out, err := r.Render(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if tc.mustNot != "" && strings.Contains(strings.ToLower(out), strings.ToLower(tc.mustNot)) {
			t.Errorf("%q rendered %q, which contains %q", tc.src, out, tc.mustNot)
		}
		if tc.must != "" && !strings.Contains(out, tc.must) {
			t.Errorf("%q rendered %q, want %q", tc.src, out, tc.must)
		}
	}
}

func TestTextHash(t *testing.T) {
	a := TextHash("t", "s", "b")
	if len(a) != 64 || a == TextHash("t", "s", "b ") || a == TextHash("ts", "", "b") || a != TextHash("t", "s", "b") {
		t.Fatal("text hash must change with any character and not shift between fields")
	}
}

// TestEditorialNotes: the front matter's editorial list is read trimmed,
// left out of the text hash, and an empty note is a problem on the front
// matter.
func TestEditorialNotes(t *testing.T) {
	src := strings.Replace(good, "summary: 上班穿统一着装。\n", "summary: 上班穿统一着装。\neditorial:\n  - \" 原文“按公规定”读作“按公司规定”。 \"\n", 1)
	d, probs := Parse("content/zh-CN/dress.md", "zh-CN", []byte(src))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if len(d.Editorial) != 1 || d.Editorial[0] != "原文“按公规定”读作“按公司规定”。" {
		t.Fatalf("editorial: %q", d.Editorial)
	}
	plain, _ := Parse("content/zh-CN/dress.md", "zh-CN", []byte(good))
	if TextHash(d.Title, d.Summary, d.Body) != TextHash(plain.Title, plain.Summary, plain.Body) {
		t.Error("an editorial note changed the text hash")
	}
	bad := strings.Replace(good, "summary: 上班穿统一着装。\n", "summary: 上班穿统一着装。\neditorial: [\"\"]\n", 1)
	if _, probs := Parse("f.md", "zh-CN", []byte(bad)); len(probs) != 1 || !strings.Contains(probs[0].Msg, "editorial note 1") || probs[0].Line != 2 {
		t.Errorf("an empty note: %v", probs)
	}
}
