package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"conductportal/server/model"
)

var menuNext = regexp.MustCompile(`<form method="post" action="/lang" id="menu-lang"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="next" value="([^"]*)">`)

// TestAccountMenuLanguage: the account menu offers both languages, the
// current one pressed; choosing one stores it for the person and comes
// back to the page they were on, its filter kept and the one-time notice
// dropped. A post without the CSRF token, with a language the portal does
// not have, or to another site changes nothing stored and goes nowhere
// else.
func TestAccountMenuLanguage(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	lang := func() string {
		t.Helper()
		u, err := p.Store.UserByLogin(ctx, "hr")
		if err != nil {
			t.Fatal(err)
		}
		return u.Lang
	}
	before := lang()
	page := "/hr/audit?actor=hr&action=login"
	st, body := hr.get(t, p.Base+page+"&m=remind.count&n=3")
	if st != http.StatusOK {
		t.Fatalf("the audit page: %d", st)
	}
	m := menuNext.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no language form in the account menu")
	}
	next := html.UnescapeString(m[1])
	if want := "/hr/audit?action=login&actor=hr"; next != want {
		t.Fatalf("the menu comes back to %q, want %q (the filter without the notice)", next, want)
	}
	for _, want := range []string{`id="menu-lang-label" class="menu-label">语言</span>`,
		`value="zh-CN" lang="zh-CN" id="menu-lang-zh-CN" aria-pressed="true">`, `value="en" lang="en" id="menu-lang-en" aria-pressed="false">English</button>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the menu lacks %s", want)
		}
	}

	// Refused: no CSRF token, an unknown language, another site.
	if st := hr.postCSRF(t, p.Base+"/lang", "wrong", url.Values{"lang": {model.LangEN}, "next": {next}}); st != http.StatusForbidden {
		t.Errorf("a post with a wrong CSRF token: %d, want 403", st)
	}
	if st, _ := hr.post(t, p.Base+"/lang", url.Values{"lang": {"fr"}, "next": {next}}); st != http.StatusBadRequest {
		t.Errorf("an unknown language: %d, want 400", st)
	}
	if got := lang(); got != before {
		t.Fatalf("a refused switch stored %q", got)
	}
	res := hr.postRaw(t, p.Base+"/lang", url.Values{"lang": {model.LangEN}, "next": {"//evil.example/x"}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Errorf("a switch to another site: %d to %q, want 303 to /", res.StatusCode, loc)
	}

	// Both ways: to English and back, each time to the same page.
	for _, c := range []struct{ lang, label, pressed string }{
		{model.LangEN, `class="menu-label">Language</span>`, `id="menu-lang-en" aria-pressed="true">`},
		{model.LangZH, `class="menu-label">语言</span>`, `id="menu-lang-zh-CN" aria-pressed="true">`},
	} {
		res := hr.postRaw(t, p.Base+"/lang", url.Values{"lang": {c.lang}, "next": {next}})
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != next {
			t.Fatalf("to %s: %d to %q, want 303 to %s", c.lang, res.StatusCode, loc, next)
		}
		if got := lang(); got != c.lang {
			t.Fatalf("to %s: the account stores %q", c.lang, got)
		}
		st, body := hr.get(t, p.Base+next)
		if st != http.StatusOK || !strings.Contains(body, `<html lang="`+c.lang+`">`) || !strings.Contains(body, c.label) || !strings.Contains(body, c.pressed) {
			t.Fatalf("to %s: the page after (%d) is not in it or does not mark it", c.lang, st)
		}
		if !strings.Contains(body, `<input id="actor" name="actor" value="hr"`) {
			t.Fatalf("to %s: the page after lost its filter", c.lang)
		}
	}
}
