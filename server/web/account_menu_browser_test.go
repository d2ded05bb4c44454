package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserAuditPersonAndMenuLanguage walks HR's audit log filtered by
// the person acted on, then changes the language from the account menu
// with the keyboard alone: Enter opens the menu, Escape closes it and
// gives the focus back, Tab reaches the other language, Enter chooses it
// and the same page, filter kept, comes back in it, stored for the
// person. In both languages at 375 and 1280 px, axe-core clean on the
// filtered log and on the open menu, nothing wider than the screen.
func TestBrowserAuditPersonAndMenuLanguage(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "p.kim", Name: "金鹏", Password: firstPass}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var es []model.AuditEntry
	for i, target := range []string{"p.kim", "p.kim/dress", "other", "p.kim", "other/dress"} {
		es = append(es, model.AuditEntry{At: now.Add(-time.Duration(i+1) * time.Minute), Actor: "seed", Action: "person.exception", Target: target})
	}
	if err := s.Store.AuditMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	other := map[string]string{model.LangZH: model.LangEN, model.LangEN: model.LangZH}
	n := 0
	for _, lang := range []string{model.LangZH, model.LangEN} {
		for _, width := range []int64{375, 1280} {
			n++
			login := fmt.Sprintf("hr%d", n)
			if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: fmt.Sprintf("人事%d", n), Roles: []string{model.RoleHR}, Password: firstPass}); err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				b := newBrowser(t, base)
				b.keep = true // the screenshots are the look to review
				b.acceptLanguage(lang)
				b.do("screen", chromedp.EmulateViewport(width, 900))
				b.login(login)
				b.open("/hr/audit?target=p.kim")
				b.wait("#target")
				b.fitsWidth(width)
				if got := b.value("#target"); got != "p.kim" {
					b.fail("the person filter holds %q", got)
				}
				if n := b.count(`#audit-people option[value="p.kim"]`); n != 1 {
					b.fail("the person list offers p.kim %d times", n)
				}
				targets := b.texts("table.audit tbody td:nth-child(4)")
				if len(targets) != 3 || strings.Join(targets, ",") != "p.kim,p.kim/dress,p.kim" {
					b.fail("the filtered log lists %q", targets)
				}
				b.axeCheck(fmt.Sprintf("audit by person (%s, %d px)", lang, width))
				b.snap(fmt.Sprintf("audit-person-%s-%d", lang, width))

				// The menu with the keyboard: Enter opens, Escape closes.
				b.do("focus the menu", chromedp.Focus(chromedp.CSS("#account-menu summary")))
				b.do("open it", chromedp.KeyEvent("\r"))
				if b.count("#account-menu[open]") != 1 {
					b.fail("Enter did not open the account menu")
				}
				b.wait("#menu-lang-" + other[lang])
				b.fitsWidth(width)
				b.axeCheck(fmt.Sprintf("account menu (%s, %d px)", lang, width))
				b.snap(fmt.Sprintf("menu-%s-%d", lang, width))
				b.do("close it", chromedp.KeyEvent(kb.Escape))
				focused := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.closest('#account-menu') && document.activeElement.tagName`))
				if b.count("#account-menu[open]") != 0 || focused != "SUMMARY" {
					b.fail("Escape left the menu open or the focus on %q", focused)
				}
				b.do("open it again", chromedp.KeyEvent("\r"))
				want := "menu-lang-" + other[lang]
				for i := 0; ; i++ {
					if i == 12 {
						b.fail("Tab never reached #%s", want)
					}
					b.do("tab", chromedp.KeyEvent(kb.Tab))
					if id := run(b, "focus", chromedp.Evaluate[string](`document.activeElement.id`)); id == want {
						break
					}
				}
				tctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
				resp, err := chromedp.RunResponse(tctx, chromedp.KeyEvent("\r"))
				cancel()
				if err != nil || resp.Status != 200 {
					b.fail("Enter on %s: %v %v", want, resp, err)
				}
				b.wait("#target")
				if loc := b.location(); loc.Path != "/hr/audit" || loc.Query().Get("target") != "p.kim" {
					b.fail("the switch came back to %s", loc)
				}
				if got := run(b, "lang", chromedp.Evaluate[string](`document.documentElement.lang`)); got != other[lang] {
					b.fail("the page after the switch is in %q", got)
				}
				if got := b.attrs("#"+want, "aria-pressed"); len(got) != 1 || got[0] != "true" {
					b.fail("the menu does not mark %s as chosen: %q", other[lang], got)
				}
				u, err := s.Store.UserByLogin(ctx, login)
				if err != nil || u.Lang != other[lang] {
					b.fail("the account stores %q (%v), want %s", u.Lang, err, other[lang])
				}
				b.fitsWidth(width)
				b.checkResponses()
			})
		}
	}
	checkLog(t, s)
}
