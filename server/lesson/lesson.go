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
type Problem struct {
	File string
	Line int
	Msg  string
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
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	if e := CheckLimits(text); e != nil {
		add(e.Line, "%s", strings.TrimPrefix(e.Message(), fmt.Sprintf("line %d: ", e.Line)))
		return nil, probs
	}
	if !strings.HasPrefix(text, "---\n") {
		add(1, "the file must start with a front matter block between '---' lines")
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
		add(1, "the front matter is not closed by a '---' line")
		return nil, probs
	}
	bodyLine := strings.Count(text[:len(text)-len(body)], "\n") + 1

	doc := &Doc{File: file, Lang: lang, Body: body, BodyLine: bodyLine}
	dec := yaml.NewDecoder(strings.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil {
		// The front matter starts on the file's second line.
		probs = append(probs, YAMLProblem(file, 1, err))
		return nil, probs
	}
	doc.Summary = strings.TrimSpace(doc.Summary)
	doc.Title = strings.TrimSpace(doc.Title)
	switch {
	case doc.Slug == "":
		add(2, "front matter: slug is missing")
	case !idRe.MatchString(doc.Slug):
		add(2, "front matter: slug %q must be lowercase letters, digits and '-'", doc.Slug)
	}
	if doc.Title == "" {
		add(2, "front matter: title is missing")
	}
	if doc.Summary == "" {
		add(2, "front matter: summary is missing (what this lesson asks of the reader)")
	}
	if doc.Order < 1 {
		add(2, "front matter: order must be a whole number of at least 1")
	}
	if doc.DueDays < 1 || doc.DueDays > 365 {
		add(2, "front matter: due_days must be between 1 and 365")
	}
	if doc.ValidMonths < 0 || doc.ValidMonths > 120 {
		add(2, "front matter: valid_months must be between 0 (no renewal) and 120")
	}
	if doc.Audience == "" {
		doc.Audience = "all"
	}
	if len(doc.Editorial) > 20 {
		add(2, "front matter: editorial lists at most 20 notes")
	}
	for i, e := range doc.Editorial {
		doc.Editorial[i] = strings.TrimSpace(e)
		if doc.Editorial[i] == "" || len([]rune(doc.Editorial[i])) > 500 {
			add(2, "front matter: editorial note %d must be between 1 and 500 characters", i+1)
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
	add := func(line int, format string, args ...any) {
		probs = append(probs, Problem{File: doc.File, Line: line, Msg: fmt.Sprintf(format, args...)})
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
				add(lineNo, "text before the first '## ' clause heading belongs in a clause (or in the summary)")
			}
			continue
		}
		level := len(m[1])
		if level == 1 {
			add(lineNo, "'# ' headings are not allowed: the title comes from the front matter; use '## ' for clauses")
			continue
		}
		if level > 2 {
			if idAttrRe.MatchString(m[2]) {
				add(lineNo, "only '## ' clause headings take an id")
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
			add(lineNo, "clause heading %q needs an id, like '## %s {#some-id}'", title, title)
		case !idRe.MatchString(id):
			add(lineNo, "clause id %q must be lowercase letters, digits and '-'", id)
		case seen[id] > 0:
			add(lineNo, "clause id %q is used twice (first on line %d)", id, seen[id])
		}
		if title == "" {
			add(lineNo, "clause heading has no title")
		}
		seen[id] = lineNo
		out = append(out, Clause{ID: id, Title: title, Line: lineNo, Source: raw})
		cur = &out[len(out)-1]
	}
	if len(out) == 0 {
		add(doc.BodyLine, "the lesson has no clauses: start each rule group with '## Title {#id}'")
	}
	return out, probs
}

// YAMLProblem turns a yaml.v3 error into a Problem at the file's line;
// offset is the file line before the YAML's first line.
func YAMLProblem(file string, offset int, err error) Problem {
	line := 0
	var msgs []string
	for _, part := range strings.Split(err.Error(), "\n") {
		part = strings.TrimSpace(strings.TrimPrefix(part, "yaml: "))
		if part == "" || part == "unmarshal errors:" {
			continue
		}
		if m := yamlLine.FindStringSubmatch(part); m != nil {
			if line == 0 {
				line, _ = strconv.Atoi(m[1])
			}
			part = strings.TrimLeft(strings.Replace(part, m[0], "", 1), ": ")
		}
		msgs = append(msgs, part)
	}
	if line == 0 {
		line = 1
	}
	prefix := ""
	if offset > 0 {
		prefix = "front matter: "
	}
	return Problem{File: file, Line: line + offset, Msg: prefix + strings.Join(msgs, "; ")}
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
