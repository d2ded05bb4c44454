package locale

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"conductportal/server/model"
)

// verbPattern finds fmt verbs, with an explicit argument index or not.
var verbPattern = regexp.MustCompile(`%(?:\[(\d+)\])?[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])`)

// verbs lists the arguments a format string reads as "index:verb", sorted:
// two translations may order their words differently (with %[2]s), but
// must read the same arguments the same way.
func verbs(s string) []string {
	var out []string
	next := 1
	for _, m := range verbPattern.FindAllStringSubmatch(s, -1) {
		if m[2] == "%" {
			continue
		}
		if m[1] != "" {
			next, _ = strconv.Atoi(m[1])
		}
		out = append(out, strconv.Itoa(next)+":"+m[2])
		next++
	}
	slices.Sort(out)
	return out
}

// Every key exists in every language, with exactly the same format verbs.
func TestLanguagesComplete(t *testing.T) {
	for _, lang := range model.Languages {
		if len(messages[lang]) == 0 {
			t.Fatalf("catalog %s is empty", lang)
		}
		for _, other := range model.Languages {
			for _, k := range Keys(lang) {
				if !Has(other, k) {
					t.Errorf("%s has %q but %s does not", lang, k, other)
					continue
				}
				if a, b := verbs(messages[lang][k]), verbs(messages[other][k]); !slices.Equal(a, b) {
					t.Errorf("%q: %s reads arguments %v, %s reads %v", k, lang, a, other, b)
				}
			}
		}
	}
}

func TestVerbs(t *testing.T) {
	for in, want := range map[string][]string{
		"%d of %s":           {"1:d", "2:s"},
		"%[2]s 的 %[1]d 项":    {"1:d", "2:s"},
		"100%% done, %.1f%%": {"1:f"},
		"no verbs":           nil,
	} {
		if got := verbs(in); !slices.Equal(got, want) {
			t.Errorf("verbs(%q) = %v, want %v", in, got, want)
		}
	}
}

// source is what the portal's code and templates say: every string literal,
// and the literals given to T, which must be keys.
type source struct {
	literals map[string]bool
	called   map[string]string // key given to T -> where
}

// keyLike is a literal shaped like a key ("lesson.quiz.start"), or a
// prefix the code completes ("status." + code, "tokens.state.%s").
var keyLike = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z0-9_%-]+)*\.?$`)

// templateCall finds T with a literal key in a template: {{$.T "x.y"}}, {{.T "x.y" ...}}.
var templateCall = regexp.MustCompile(`\bT "([^"]+)"`)

// templateLiteral finds every quoted string inside a template action.
var templateLiteral = regexp.MustCompile(`"([^"{}<>\n]*)"`)

func readSource(t *testing.T) source {
	t.Helper()
	src := source{literals: map[string]bool{}, called: map[string]string{}}
	root := filepath.Join("..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if d.Name() == "testdata" || path == "." {
				return filepath.SkipDir
			}
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						if s, err := strconv.Unquote(n.Value); err == nil {
							src.literals[s] = true
						}
					}
				case *ast.KeyValueExpr:
					// A key handed to a template to translate (BackKey: "…").
					if k, ok := n.Key.(*ast.Ident); ok && k.Name != "Key" && strings.HasSuffix(k.Name, "Key") {
						if lit, ok := n.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							src.called[s] = fset.Position(lit.Pos()).String()
						}
					}
				case *ast.CallExpr:
					if name := callName(n.Fun); name == "T" {
						for _, a := range n.Args[:min(2, len(n.Args))] {
							if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
								s, _ := strconv.Unquote(lit.Value)
								if !strings.HasPrefix(s, "zh") && s != "en" {
									src.called[s] = fset.Position(lit.Pos()).String()
								}
							}
						}
					}
				}
				return true
			})
		case strings.HasSuffix(path, ".html"):
			raw, err := os.ReadFile(path) // #nosec G304 -- the portal's own templates
			if err != nil {
				return err
			}
			text := string(raw)
			for _, action := range regexp.MustCompile(`\{\{(.*?)\}\}`).FindAllStringSubmatch(text, -1) {
				for _, m := range templateLiteral.FindAllStringSubmatch(action[1], -1) {
					src.literals[m[1]] = true
				}
				for _, m := range templateCall.FindAllStringSubmatch(action[1], -1) {
					src.called[m[1]] = path
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func callName(e ast.Expr) string {
	switch f := e.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// Every key the code asks for exists, and every key of the catalogs is
// used by some code or template (directly or through a prefix the code
// completes), so the catalogs hold neither gaps nor dead text.
func TestCatalogMatchesCode(t *testing.T) {
	src := readSource(t)
	for key, where := range src.called {
		if !Has(model.LangZH, key) {
			t.Errorf("%s asks for %q, which no catalog has", where, key)
		}
	}
	var prefixes []*regexp.Regexp
	for lit := range src.literals {
		if !keyLike.MatchString(lit) || !strings.Contains(lit, ".") {
			continue
		}
		if strings.HasSuffix(lit, ".") || strings.Contains(lit, "%") {
			p := regexp.QuoteMeta(lit)
			p = strings.NewReplacer(`%s`, `[A-Za-z0-9_-]+`, `%d`, `[0-9]+`, `%v`, `[A-Za-z0-9_-]+`).Replace(p)
			if strings.HasSuffix(lit, ".") {
				p += `[A-Za-z0-9_.-]+`
			}
			prefixes = append(prefixes, regexp.MustCompile("^"+p+"$"))
		}
	}
	for _, key := range Keys(model.LangZH) {
		if src.literals[key] || slices.ContainsFunc(prefixes, func(p *regexp.Regexp) bool { return p.MatchString(key) }) {
			continue
		}
		t.Errorf("catalog key %q is used by no code or template", key)
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{
		"": "zh-CN", "en-US,en;q=0.9": "en", "zh-TW": "zh-CN", "fr, en;q=0.5": "en", "de": "zh-CN",
		"EN-GB": "en", " fr ;q=1, e, En ;q=0.1": "en", "*": "zh-CN", "fr,ZH-hk": "zh-CN", "english": "en",
	} {
		if got := Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Match("fr-FR,fr;q=0.9,en-US;q=0.8") }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}
