package web_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserCertificate, in both languages: the certificate prints on one
// A4 page, its verification address is a link, its status says it is
// valid, and it stays (saying which version waits for a signature, here
// and on the home page) while a new version waits for the person's
// signature. axe finds nothing on it at 375 and 1280 px.
func TestBrowserCertificate(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	langs := []string{model.LangZH, model.LangEN}
	// A long English name: the page must still fit one sheet.
	people := map[string]auth.NewUser{
		model.LangZH: {Login: "chen.jing", Name: "陈静"},
		model.LangEN: {Login: "ann.lee", Name: "Annabel Catherine Lee-Richardson"},
	}
	for _, lang := range langs {
		nu := people[lang]
		nu.Password = firstPass
		u, err := s.Auth.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		sts, err := s.Training.Standings(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			testkit.Complete(t, s.Training, u, st.Lesson.Slug)
		}
	}
	valid := map[string]string{model.LangZH: "证书状态：有效。", model.LangEN: "Certificate status: valid."}
	pending := map[string]string{
		model.LangZH: "证书状态：有效；《着装规范》第 2 版待你签署。",
		model.LangEN: "Certificate status: valid; version 2 of “Dress code” awaits your signature.",
	}
	verified := map[string]string{model.LangZH: "证书有效。", model.LangEN: "This certificate is valid."}

	browsers, codes := map[string]*browser{}, map[string]string{}
	for _, lang := range langs {
		b := newBrowser(t, base)
		b.acceptLanguage(lang)
		b.login(people[lang].Login)
		b.open("/certificate")
		b.wait("section.certificate")
		code := b.text("strong.code")
		if href := b.attrs("a.verify-link", "href"); len(href) != 1 || href[0] != base+"/verify/"+code {
			b.fail("the verification address links to %q, want /verify/%s", href, code)
		}
		b.wait("#print") // shown by the script
		b.wantText("#certificate-state", valid[lang])
		b.printsOnOnePage("certificate-" + lang)
		b.axeAtWidths("certificate-" + lang)
		browsers[lang], codes[lang] = b, code
	}

	// A new version to sign: the certificate earned stays, saying so.
	testkit.PublishChange(t, s.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "工牌应端正佩戴在左胸前。", model.LangEN: "Wear the badge straight on the left of your chest.",
	})
	for _, lang := range langs {
		b := browsers[lang]
		b.open("/")
		b.wait("#home-certificate")
		if got := b.attrs("#home-certificate a", "href"); len(got) != 1 || got[0] != "/certificate" {
			b.fail("the home page's certificate link: %q", got)
		}
		if got, want := b.text("#home-certificate"), pending[lang]; !regexp.MustCompile(regexp.QuoteMeta(want) + "$").MatchString(got) {
			b.fail("the home page's certificate line reads %q, want it to end %q", got, want)
		}
		b.snap("home-certificate-pending-" + lang)
		b.open("/certificate")
		b.wait("#certificate-status")
		b.wantText("#certificate-state", pending[lang])
		if got := b.attrs("#certificate-status a", "href"); len(got) != 1 || got[0] != "/lessons/dress" {
			b.fail("the status links to %q, want the lesson to sign", got)
		}
		if got := b.text("strong.code"); got != codes[lang] {
			b.fail("the earned certificate's code is %q, want %q", got, codes[lang])
		}
		b.printsOnOnePage("certificate-pending-" + lang)
		b.axeAtWidths("certificate-pending-" + lang)
		b.open("/verify/" + codes[lang])
		b.wantText("p.success", verified[lang])
		b.checkResponses()
	}
	checkLog(t, s)
}

// printsOnOnePage prints the page as headless Chromium's print to PDF
// does, on A4 with the page's own CSS, fails unless it is one page, and
// keeps the PDF and a picture of the printed look (print media on an A4
// sheet's width) with the screenshots.
func (b *browser) printsOnOnePage(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	css := true
	res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69, PreferCSSPageSize: &css})
	if err != nil {
		b.fail("print to PDF: %v", err)
	}
	if len(res.Data) == 0 {
		b.fail("print to PDF: no document")
	}
	if n := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(res.Data, -1)); n != 1 {
		b.fail("%s prints on %d A4 pages, want 1", name, n)
	}
	b.shots = append(b.shots, shot{name: fmt.Sprintf("%02d-%s.pdf", len(b.shots)+1, name), png: res.Data})
	// 210 mm less the 2 × 15 mm margins at 96 px an inch.
	b.media("print")
	b.do("print look", chromedp.EmulateViewport(680, 900))
	b.snap(name + "-print")
	b.media("")
	b.do("screen look", chromedp.EmulateViewport(1280, 900))
	b.snap(name)
}

// media emulates a CSS media type ("print"; "" for the screen again).
func (b *browser) media(m string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		b.fail("emulate %q media: %v", m, err)
	}
}

// axeAtWidths runs axe on the page on a phone and a desktop screen, and
// checks it fits both.
func (b *browser) axeAtWidths(name string) {
	b.t.Helper()
	for _, w := range []int64{375, 1280} {
		b.do("screen", chromedp.EmulateViewport(w, 900))
		b.fitsWidth(w)
		b.axeCheck(fmt.Sprintf("%s-%d", name, w))
		if w == 375 {
			b.snap(fmt.Sprintf("%s-%d", name, w))
		}
	}
}
