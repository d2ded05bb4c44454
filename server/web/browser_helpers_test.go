package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// login logs who in through the login form, with the tests' first password.
func (b *browser) login(who string) {
	b.t.Helper()
	b.open("/login")
	b.wait("#login")
	b.typeInto("#login", who)
	b.typeInto("#password", firstPass)
	b.submit(`form[action="/login"] button[type="submit"]`, 200)
}

// watchDialogs counts the JavaScript dialogs (alert, confirm) the pages open.
func (b *browser) watchDialogs() *atomic.Int32 {
	b.t.Helper()
	var n atomic.Int32
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			n.Add(1)
		}
	}); err != nil {
		b.t.Fatal(err)
	}
	return &n
}

// noPayloadRan fails when an XSS payload of xssCorpus ran on the page.
func (b *browser) noPayloadRan(where string) {
	b.t.Helper()
	if v := run(b, "payload marker", chromedp.Evaluate[any](`window.__xss === undefined ? null : window.__xss`)); v != nil {
		b.fail("payload %v ran on %s", v, where)
	}
}

// noDangerousDOM fails when an element or attribute that could run code is
// inside the elements scope selects (so the page is safe even without the
// Content-Security-Policy).
func (b *browser) noDangerousDOM(where, scope string) {
	b.t.Helper()
	sel, _ := json.Marshal(scope) // a JavaScript string literal
	bad := run(b, "dangerous nodes", chromedp.Evaluate[int64](`
		[...document.querySelectorAll(`+string(sel)+`)].filter(el =>
			['SCRIPT','IFRAME','OBJECT','EMBED','SVG','MATH','STYLE','BASE','META','FORM'].includes(el.tagName.toUpperCase()) ||
			[...el.attributes].some(a => /^on/i.test(a.name) || a.name === 'style' ||
				/^\s*(javascript|vbscript|data):/i.test(a.value))
		).length`))
	if bad > 0 {
		b.fail("%d dangerous element(s) or attribute(s) on %s", bad, where)
	}
}

// needChromium stops a browser test when Chromium is missing: a failure in
// CI (which installs it, and sets CI), a skip that says why on a
// developer's machine without it.
func needChromium(t *testing.T) {
	t.Helper()
	switch missing, fatal, msg := chromiumVerdict(chromiumPath, os.Getenv("CI")); {
	case fatal:
		t.Fatal(msg)
	case missing:
		t.Skip(msg)
	}
}

// chromiumVerdict says whether Chromium at path is missing, and if so
// whether that fails the test (ci, the CI variable, is set) and why.
func chromiumVerdict(path, ci string) (missing, fatal bool, msg string) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return false, false, ""
	case ci != "":
		return true, true, fmt.Sprintf("the browser tests need Chromium at %s (apt-get install chromium): %v", path, err)
	}
	return true, false, fmt.Sprintf("skipped: the browser tests need Chromium at %s (apt-get install chromium; CI is unset, so this is not a failure): %v", path, err)
}
