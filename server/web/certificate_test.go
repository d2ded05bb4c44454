package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserCertificate: the certificate prints on one A4 page, its
// verification address is a link, and it stays (with its status) while a
// new version waits for the person's signature.
func TestBrowserCertificate(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	u, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "chen.jing", Name: "陈静", Password: firstPass})
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
	b := newBrowser(t, base)
	b.acceptLanguage("zh-CN")
	b.login("chen.jing")
	b.open("/certificate")
	b.wait("section.certificate")
	code := b.text("strong.code")
	if href := b.attrs("a.verify-link", "href"); len(href) != 1 || href[0] != base+"/verify/"+code {
		b.fail("the verification address links to %q, want /verify/%s", href, code)
	}
	b.wait("#print") // shown by the script
	b.wantNone("#certificate-status")
	if n := b.pdfPages(); n != 1 {
		b.fail("the certificate prints on %d A4 pages, want 1", n)
	}
	b.snap("certificate")

	// A new version to sign: the certificate earned stays, saying so.
	testkit.PublishChange(t, s.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "工牌应端正佩戴在左胸前。", model.LangEN: "Wear the badge straight on the left of your chest.",
	})
	b.open("/certificate")
	b.wait("#certificate-status")
	if got := b.text("#certificate-status"); !strings.Contains(got, "着装规范") || !strings.Contains(got, "第 2 版待签署") {
		b.fail("the status reads %q", got)
	}
	if got := b.text("strong.code"); got != code {
		b.fail("the earned certificate's code is %q, want %q", got, code)
	}
	b.snap("certificate-pending")
	b.open("/verify/" + code)
	b.wantText("p.success", "证书有效。")
	b.checkResponses()
}

// pdfPages prints the page as headless Chromium's print to PDF does, on
// A4 with the page's own CSS, and counts the pages.
func (b *browser) pdfPages() int {
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
	return len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(res.Data, -1))
}
