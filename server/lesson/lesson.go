// Package lesson parses lesson files (YAML front matter and Markdown),
// renders them with goldmark, sanitizes the HTML with bluemonday, and finds
// the clauses that quiz questions and receipts refer to.
package lesson

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"conductportal/server/model"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a content file, located for the author.
// Msg is in English (command line, logs, the API's message); Key and Args
// word the same problem in a reader's language: locale.T(lang, Key, Args...).
type Problem struct {
	File string
	Line int
	Msg  string
	Key  string
	Args []any
}

// LangName is an argument of a Problem that is a language code: readers
// see the language's name (the catalogs' "lang." keys).
type LangName string

// NewProblem is a problem at line, worded by the catalog key and in
// English by format, both taking args.
func NewProblem(file string, line int, key, format string, args ...any) Problem {
	return Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Key: key, Args: args}
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Doc is one parsed lesson file: one lesson in one language.
type Doc struct {
	File     string
	Lang     string
	Slug     string `yaml:"slug"`
	Title    string `yaml:"title"`
	Order    int    `yaml:"order"`
	Audience string `yaml:"audience"`
	DueDays  int    `yaml:"due_days"`
	// ValidMonths: how long a signature counts before the lesson is due
	// again (0, the default: for good).
	ValidMonths int    `yaml:"valid_months"`
	Summary     string `yaml:"summary"`
	// Editorial lists the repairs this text makes to the handbook it comes
	// from (a garbled or ambiguous sentence read one way), for HR to confirm.
	Editorial []string `yaml:"editorial"`
	Body      string   `yaml:"-"` // Markdown after the front matter
	BodyLine  int      `yaml:"-"` // line of the file where Body starts
	Clauses   []Clause `yaml:"-"`
}

// Clause is a level-2 heading with an explicit id and the text under it.
type Clause struct {
	ID     string
	Title  string
	Line   int    // line in the file
	Source string // the Markdown of the clause, heading included
}

// Hash is the SHA-256 of the clause's source, to tell which clauses changed.
func (c Clause) Hash() string { return sha256Hex(c.Source) }

var (
	// idRe is the shape of slugs and clause ids: they appear in URLs and anchors.
	idRe     = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	yamlLine = regexp.MustCompile(`line (\d+)`)
)

// ValidID reports whether s has the shape of a slug or clause id.
func ValidID(s string) bool { return len(s) <= 64 && idRe.MatchString(s) }

// Parse reads one lesson file. All problems found are returned, each with
// its line; a Doc is returned only when there are none.
func Parse(file, lang string, src []byte) (*Doc, []Problem) {
	var probs []Problem
	add := func(line int, key, format string, args ...any) {
		probs = append(probs, NewProblem(file, line, key, format, args...))
	}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	if e := CheckLimits(text); e != nil {
		probs = append(probs, e.Problem(file))
		return nil, probs
	}
	if !strings.HasPrefix(text, "---\n") {
		add(1, "prob.lesson.no_front", "the file must start with a front matter block between '---' lines")
		return nil, probs
	}
	// The front matter ends at the first line that is exactly "---".
	rest := text[4:]
	var front, body string
	switch {
	case rest == "---" || strings.HasPrefix(rest, "---\n"):
		body = strings.TrimPrefix(rest[3:], "\n")
	case strings.Contains(rest, "\n---\n"):
		end := strings.Index(rest, "\n---\n")
		front, body = rest[:end+1], rest[end+5:]
	case strings.HasSuffix(rest, "\n---"):
		front = rest[:len(rest)-3]
	default:
		add(1, "prob.lesson.front_open", "the front matter is not closed by a '---' line")
		return nil, probs
	}
	bodyLine := strings.Count(text[:len(text)-len(body)], "\n") + 1

	doc := &Doc{File: file, Lang: lang, Body: body, BodyLine: bodyLine}
	dec := yaml.NewDecoder(strings.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil {
		// The front matter starts on the file's second line.
		probs = append(probs, YAMLProblems(file, 1, err)...)
		return nil, probs
	}
	doc.Summary = strings.TrimSpace(doc.Summary)
	doc.Title = strings.TrimSpace(doc.Title)
	switch {
	case doc.Slug == "":
		add(2, "prob.lesson.slug_missing", "front matter: slug is missing")
	case !idRe.MatchString(doc.Slug):
		add(2, "prob.lesson.slug_shape", "front matter: slug %q must be lowercase letters, digits and '-'", doc.Slug)
	}
	if doc.Title == "" {
		add(2, "prob.lesson.title_missing", "front matter: title is missing")
	}
	if doc.Summary == "" {
		add(2, "prob.lesson.summary_missing", "front matter: summary is missing (what this lesson asks of the reader)")
	}
	if doc.Order < 1 {
		add(2, "prob.lesson.order", "front matter: order must be a whole number of at least 1")
	}
	if doc.DueDays < 1 || doc.DueDays > 365 {
		add(2, "prob.lesson.due_days", "front matter: due_days must be between 1 and 365")
	}
	if doc.ValidMonths < 0 || doc.ValidMonths > 120 {
		add(2, "prob.lesson.valid_months", "front matter: valid_months must be between 0 (no renewal) and 120")
	}
	if doc.Audience == "" {
		doc.Audience = "all"
	}
	if len(doc.Editorial) > 20 {
		add(2, "prob.lesson.editorial_many", "front matter: editorial lists at most 20 notes")
	}
	for i, e := range doc.Editorial {
		doc.Editorial[i] = strings.TrimSpace(e)
		if doc.Editorial[i] == "" || len([]rune(doc.Editorial[i])) > 500 {
			add(2, "prob.lesson.editorial_note", "front matter: editorial note %d must be between 1 and 500 characters", i+1)
		}
	}
	doc.Clauses, probs = clauses(doc, probs)
	if len(probs) > 0 {
		return nil, probs
	}
	return doc, nil
}

var headingRe = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*$`)
var idAttrRe = regexp.MustCompile(`\s*\{#([^}\s]*)\}\s*$`)
var fenceRe = regexp.MustCompile("^(```|~~~)")

// clauses splits the body at its level-2 headings.
func clauses(doc *Doc, probs []Problem) ([]Clause, []Problem) {
	add := func(line int, key, format string, args ...any) {
		probs = append(probs, NewProblem(doc.File, line, key, format, args...))
	}
	var out []Clause
	seen := map[string]int{}
	lines := strings.SplitAfter(doc.Body, "\n")
	inFence := false
	var cur *Clause
	for i, raw := range lines {
		ln := strings.TrimRight(raw, "\n")
		lineNo := doc.BodyLine + i
		if fenceRe.MatchString(strings.TrimSpace(ln)) {
			inFence = !inFence
		}
		m := headingRe.FindStringSubmatch(ln)
		if inFence || m == nil {
			if cur != nil {
				cur.Source += raw
			} else if strings.TrimSpace(ln) != "" {
				add(lineNo, "prob.lesson.text_before", "text before the first '## ' clause heading belongs in a clause (or in the summary)")
			}
			continue
		}
		level := len(m[1])
		if level == 1 {
			add(lineNo, "prob.lesson.h1", "'# ' headings are not allowed: the title comes from the front matter; use '## ' for clauses")
			continue
		}
		if level > 2 {
			if idAttrRe.MatchString(m[2]) {
				add(lineNo, "prob.lesson.id_level", "only '## ' clause headings take an id")
			}
			if cur != nil {
				cur.Source += raw
			}
			continue
		}
		id := ""
		title := m[2]
		if a := idAttrRe.FindStringSubmatch(title); a != nil {
			id = a[1]
			title = strings.TrimSpace(title[:len(title)-len(a[0])])
		}
		switch {
		case id == "":
			add(lineNo, "prob.lesson.clause_no_id", "clause heading %q needs an id, like '## %s {#some-id}'", title, title)
		case !idRe.MatchString(id):
			add(lineNo, "prob.lesson.clause_id_shape", "clause id %q must be lowercase letters, digits and '-'", id)
		case seen[id] > 0:
			add(lineNo, "prob.lesson.clause_id_twice", "clause id %q is used twice (first on line %d)", id, seen[id])
		}
		if title == "" {
			add(lineNo, "prob.lesson.clause_no_title", "clause heading has no title")
		}
		seen[id] = lineNo
		out = append(out, Clause{ID: id, Title: title, Line: lineNo, Source: raw})
		cur = &out[len(out)-1]
	}
	if len(out) == 0 {
		add(doc.BodyLine, "prob.lesson.no_clauses", "the lesson has no clauses: start each rule group with '## Title {#id}'")
	}
	return out, probs
}

// YAMLProblems turns a yaml.v3 error into problems at the file's lines,
// one per error yaml reports; offset is the file line before the YAML's
// first line. Each gets a key by the error's shape (yamlShapes), so that
// no reader sees the parser's English.
func YAMLProblems(file string, offset int, err error) []Problem {
	var out []Problem
	prefix := ""
	if offset > 0 {
		prefix = "front matter: "
	}
	for _, part := range strings.Split(err.Error(), "\n") {
		part = strings.TrimSpace(strings.TrimPrefix(part, "yaml: "))
		if part == "" || part == "unmarshal errors:" {
			continue
		}
		line := 1
		if m := yamlLine.FindStringSubmatch(part); m != nil {
			line, _ = strconv.Atoi(m[1])
			part = strings.TrimLeft(strings.Replace(part, m[0], "", 1), ": ")
		}
		key, args := yamlKey(part, offset)
		out = append(out, Problem{File: file, Line: line + offset, Msg: prefix + part, Key: key, Args: args})
	}
	if len(out) == 0 {
		out = append(out, Problem{File: file, Line: 1 + offset, Msg: prefix + err.Error(), Key: "prob.yaml.syntax"})
	}
	return out
}

var (
	yamlUnknown = regexp.MustCompile(`^field (\S+) not found in type`)
	yamlType    = regexp.MustCompile(`^cannot unmarshal !!\w+ (?:` + "`" + `.*` + "`" + ` )?into (\S+)$`)
	yamlDup     = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	// yamlShapes are the syntax errors yaml.v3 words, by a phrase of each.
	// yaml places some (indentation, tabs) on the line before the culprit:
	// their messages say "here or on the next line".
	yamlShapes = []struct{ phrase, key string }{
		{"mapping values are not allowed", "prob.yaml.colon"},
		{"did not find expected key", "prob.yaml.indent"},
		{"did not find expected '-' indicator", "prob.yaml.indent"},
		{"could not find expected ':'", "prob.yaml.no_colon"},
		{"did not find expected ',' or ']'", "prob.yaml.flow"},
		{"did not find expected ',' or '}'", "prob.yaml.flow"},
		{"found a tab character", "prob.yaml.tab"},
		{"found character that cannot start any token", "prob.yaml.char"},
		{"found unexpected end of stream", "prob.yaml.unclosed"},
		{"found unknown escape character", "prob.yaml.escape"},
		{"did not find expected node content", "prob.yaml.value"},
		{"control characters are not allowed", "prob.yaml.control"},
	}
)

// yamlKey is the catalog key and its arguments for one yaml.v3 message.
// A line number in the arguments is a line of the file, as the problem's.
func yamlKey(msg string, offset int) (string, []any) {
	if m := yamlUnknown.FindStringSubmatch(msg); m != nil {
		return "prob.yaml.unknown_field", []any{m[1]}
	}
	if m := yamlDup.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		return "prob.yaml.duplicate", []any{m[1], n + offset}
	}
	if m := yamlType.FindStringSubmatch(msg); m != nil {
		want := "map"
		switch t := m[1]; {
		case strings.HasPrefix(t, "[]"):
			want = "list"
		case t == "string":
			want = "text"
		case t == "bool":
			want = "bool"
		case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint") || strings.HasPrefix(t, "float"):
			want = "number"
		}
		return "prob.yaml.want." + want, nil
	}
	for _, s := range yamlShapes {
		if strings.Contains(msg, s.phrase) {
			return s.key, nil
		}
	}
	return "prob.yaml.syntax", nil
}

// TextHash is the SHA-256 of exactly what a reader of one language sees:
// title, summary and body. Receipts record it; verify recomputes it.
func TextHash(title, summary, body string) string {
	var b bytes.Buffer
	b.WriteString(title)
	b.WriteByte(0)
	b.WriteString(summary)
	b.WriteByte(0)
	b.WriteString(body)
	return sha256Hex(b.String())
}

// ModelClauses converts parsed clauses for storage.
func ModelClauses(cs []Clause) []model.Clause {
	out := make([]model.Clause, len(cs))
	for i, c := range cs {
		out[i] = model.Clause{ID: c.ID, Title: c.Title, Hash: c.Hash()}
	}
	return out
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
