package lesson

import (
	"testing"
)

// TestYAMLProblemsHaveKeys: each shape of yaml.v3 error an author can make
// in the front matter becomes a catalog key at the file's line, so that no
// page shows the parser's English.
func TestYAMLProblemsHaveKeys(t *testing.T) {
	const head = "---\nslug: dress\n"
	const tail = "---\n## Rule {#rule}\ntext\n"
	for _, c := range []struct {
		name, front, key string
		line             int
		args             []any
	}{
		{"colon in a value", "title: 着装: 规范\n", "prob.yaml.colon", 3, nil},
		{"unknown field", "title: t\ncolour: red\n", "prob.yaml.unknown_field", 4, []any{"colour"}},
		{"text for a number", "title: t\norder: first\n", "prob.yaml.want.number", 4, nil},
		{"list for a text", "title:\n  - a\n", "prob.yaml.want.text", 4, nil},
		{"text for a list", "title: t\neditorial: one\n", "prob.yaml.want.list", 4, nil},
		{"field twice", "title: t\ntitle: u\n", "prob.yaml.duplicate", 4, []any{"title", 3}},
		{"tab", "title: t\n\tsummary: s\n", "prob.yaml.tab", 3, nil}, // yaml: the line before
		{"unclosed quote", "title: \"t\nsummary: s\n", "prob.yaml.unclosed", 3, nil},
		{"bad start", "title: @t\n", "prob.yaml.char", 3, nil},
		{"indentation", "title: t\neditorial:\n  - a\n - b\n", "prob.yaml.indent", 5, nil}, // yaml: the line before
		{"open bracket", "title: [a\n", "prob.yaml.flow", 2, nil},
		{"bad escape", "title: \"a\\qb\"\n", "prob.yaml.escape", 3, nil},
	} {
		_, probs := Parse("zh-CN", "zh-CN", []byte(head+c.front+tail))
		if len(probs) == 0 {
			t.Errorf("%s: no problem", c.name)
			continue
		}
		p := probs[0]
		if p.Key != c.key || p.Line != c.line || len(p.Args) != len(c.args) {
			t.Errorf("%s: %+v, want key %s at line %d with %v", c.name, p, c.key, c.line, c.args)
			continue
		}
		for i := range c.args {
			if p.Args[i] != c.args[i] {
				t.Errorf("%s: args %v, want %v", c.name, p.Args, c.args)
			}
		}
	}
}
