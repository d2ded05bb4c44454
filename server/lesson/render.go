package lesson

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"time"

	"conductportal/server/fault"

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
	// workers bounds renders running at once (one per core); a render
	// that outlives renderTimeout is answered ErrTooComplex and keeps its
	// worker until goldmark returns, so runaway texts cannot take more.
	workers chan struct{}
	timeout time.Duration
}

// renderTimeout bounds the wait for one render (including the wait for a
// worker): well inside a request's 4 s, and far above a real lesson's ~1 ms.
const renderTimeout = 2 * time.Second

// ErrTooComplex: the text did not render in time; simplify it.
var ErrTooComplex error = &fault.Error{Kind: fault.Invalid, Text: "lesson: the text is too complex to render in time",
	Code: "too_complex", Key: "md.limit.slow", Message: "the text is too complex to render in time: simplify it", Field: "files"}

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
	return &Renderer{md: md, policy: p, workers: make(chan struct{}, runtime.GOMAXPROCS(0)), timeout: renderTimeout}
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
	if e := CheckLimits(markdown); e != nil {
		return "", fmt.Errorf("%w: %w", ErrTooComplex, e)
	}
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	select {
	case r.workers <- struct{}{}:
	case <-timer.C:
		return "", ErrTooComplex
	}
	type result struct {
		html string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-r.workers }()
		var buf bytes.Buffer
		if err := r.md.Convert([]byte(markdown), &buf); err != nil {
			done <- result{err: fmt.Errorf("lesson: render: %w", err)}
			return
		}
		done <- result{html: string(r.policy.SanitizeBytes(buf.Bytes()))}
	}()
	select {
	case res := <-done:
		return res.html, res.err
	case <-timer.C:
		return "", ErrTooComplex
	}
}

// SetTimeout changes the render time limit (tests of the limit itself).
func (r *Renderer) SetTimeout(d time.Duration) { r.timeout = d }

// Sanitize cleans HTML that did not come from the renderer.
func (r *Renderer) Sanitize(html string) string { return r.policy.Sanitize(html) }
