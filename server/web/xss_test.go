package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/training"

	"github.com/chromedp/chromedp"
)

// xssCorpus is hostile Markdown an HR author (or a stolen HR account) might
// publish. Each payload, if it ran, would set window.__xss.
var xssCorpus = []string{
	`<script>window.__xss=1</script>`,
	`<img src=x onerror="window.__xss=2">`,
	`<svg onload="window.__xss=3"><script>window.__xss=3</script></svg>`,
	`[click](javascript:window.__xss=4)`,
	`[click](JaVaScRiPt:window.__xss=5)`,
	`[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:window.__xss=6)`,
	`[click](java&#x09;script:window.__xss=7)`,
	`<a href="javascript:window.__xss=8">x</a>`,
	`[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9OTwvc2NyaXB0Pg==)`,
	`<iframe src="data:text/html,<script>parent.__xss=10</script>"></iframe>`,
	`<div style="background:url(javascript:window.__xss=11)">css</div>`,
	`<p style="width: expression(window.__xss=12)">expr</p>`,
	`<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=13">`,
	`<details open ontoggle="window.__xss=14">t</details>`,
	`![img](x" onerror="window.__xss=15)`,
	`<object data="javascript:window.__xss=16"></object>`,
	`<form action="javascript:window.__xss=17"><button>go</button></form>`,
	`<base href="javascript:window.__xss=18//">`,
	`<meta http-equiv="refresh" content="0;url=javascript:window.__xss=19">`,
	"`<script>window.__xss=20</script>` in code is only text",
}

// TestBrowserXSSCorpus publishes the corpus as a lesson and opens it in
// Chromium: no payload may run, and none may survive into the DOM.
func TestBrowserXSSCorpus(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	docs := map[string]*lesson.Doc{}
	for _, lang := range model.Languages {
		var body strings.Builder
		for i, x := range xssCorpus {
			fmt.Fprintf(&body, "## Case %d {#case-%d}\n\n%s\n\n", i+1, i+1, x)
		}
		src := fmt.Sprintf("---\nslug: hostile\ntitle: \"<script>window.__xss=99</script>\"\norder: 9\naudience: all\ndue_days: 7\nsummary: \"<img src=x onerror=window.__xss=98>\"\n---\n%s", body.String())
		d, probs := lesson.Parse("hostile.md", lang, []byte(src))
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		docs[lang] = d
	}
	quizSrc := `lesson: hostile
pass_mark: 80
draw: 1
questions:
  - id: q1
    clause: case-1
    type: truefalse
    prompt: {zh-CN: "<script>window.__xss=97</script>", en: "<img src=x onerror=window.__xss=96>"}
    options:
      - {id: "true", zh-CN: 正确, en: "True"}
      - {id: "false", zh-CN: 错误, en: "False"}
    answer: ["false"]
    explanation: {zh-CN: "<b onclick=window.__xss=95>x</b>", en: x}
`
	if _, err := s.Training.Publish(ctx, training.PublishRequest{Slug: "hostile", Docs: docs, QuizSource: quizSrc, Author: "hr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "reader", Name: "读者", Password: firstPass}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, base)
	dialogs := b.watchDialogs()
	b.login("reader")
	for _, path := range []string{"/lessons/hostile", "/"} {
		b.open(path)
		b.wait("main")
		// Click every link and button the lesson shows, as a curious reader would.
		if path == "/lessons/hostile" {
			run(b, "click everything", chromedp.Evaluate[int64](`
				[...document.querySelectorAll('.prose a, .prose button, .prose summary')].map(el => { el.click(); return 1 }).length`))
		}
		b.noPayloadRan(path)
		b.noDangerousDOM(path, ".prose *, .summary *, article header *, main h1")
	}
	// The quiz texts are escaped too.
	b.open("/lessons/hostile")
	b.submit(`form[action="/lessons/hostile/attempts"] button`, 200)
	b.noPayloadRan("the quiz")
	if n := dialogs.Load(); n > 0 {
		b.fail("%d dialog(s) opened", n)
	}
	b.snap("xss-lesson")
	checkLog(t, s)
}
