package lesson

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer turns lesson Markdown into safe HTML. One instance is built at
// start and shared; it caches results by the SHA-256 of the source, since a
// published text never changes.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	cache  sync.Map // hash -> string
}

// NewRenderer builds the goldmark pipeline and the sanitizer policy.
func NewRenderer() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		// {#id} on headings gives clauses their stable anchors. Raw HTML
		// stays off (goldmark's default): it is omitted, not rendered.
		goldmark.WithParserOptions(parser.WithAttribute()),
	)
	// The sanitizer is the security boundary: whatever goldmark lets
	// through, only user-generated-content elements, and links with safe
	// schemes, survive.
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("id").Matching(idRe).OnElements("h2")
	return &Renderer{md: md, policy: p}
}

// Render returns the sanitized HTML of markdown.
func (r *Renderer) Render(markdown string) (string, error) {
	key := sha256Hex(markdown)
	if v, ok := r.cache.Load(key); ok {
		return v.(string), nil
	}
	s, err := r.Preview(markdown)
	if err != nil {
		return "", err
	}
	r.cache.Store(key, s)
	return s, nil
}

// Preview renders like Render but keeps nothing: for drafts, whose text
// changes at every keystroke.
func (r *Renderer) Preview(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(markdown), &buf); err != nil {
		return "", fmt.Errorf("lesson: render: %w", err)
	}
	return string(r.policy.SanitizeBytes(buf.Bytes())), nil
}

// Sanitize cleans HTML that did not come from the renderer.
func (r *Renderer) Sanitize(html string) string { return r.policy.Sanitize(html) }
