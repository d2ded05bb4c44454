package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/chromedp/chromedp"
)

// TestBrowserThreeLessonsWithoutNavigation walks a new learner from the
// home page through three lessons using only the buttons each page offers
// as its next step (never the navigation bar, never a typed address): the
// home page's "next" button, the end of the text, the quiz, the result's
// "sign" button, the signature and the done screen's next lesson. In both
// languages, on a phone and a desktop screen, with axe-core clean and no
// sideways scrolling on any page on the way.
func TestBrowserThreeLessonsWithoutNavigation(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	n := 0
	for _, lang := range []string{model.LangZH, model.LangEN} {
		for _, width := range []int64{375, 1280} {
			n++
			login, name := fmt.Sprintf("walker%d", n), fmt.Sprintf("Walker %d", n)
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				u, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: name, Roles: []string{model.RoleEmployee}, Password: firstPass})
				if err != nil {
					t.Fatal(err)
				}
				b := newBrowser(t, base)
				b.acceptLanguage(lang)
				b.do("screen", chromedp.EmulateViewport(width, 900))
				// Every page must fit; axe runs once per page type (the
				// second and third lesson repeat the first's pages).
				checked := map[string]bool{}
				check := func(page string) {
					t.Helper()
					b.wait("main")
					b.fitsWidth(width)
					if !checked[page] {
						checked[page] = true
						b.axeCheck(fmt.Sprintf("%s (%s, %d px)", page, lang, width))
					}
				}
				b.login(login)
				b.wantPath("/")
				check("home")
				b.submit("#home-next", 200)
				var done []string
				for i := 1; i <= 3; i++ {
					slug, ok := strings.CutPrefix(b.location().Path, "/lessons/")
					if !ok || strings.Contains(slug, "/") {
						b.fail("step %d: the next button led to %s, want a lesson", i, b.location())
					}
					for _, d := range done {
						if d == slug {
							b.fail("step %d: the next button led back to %s, already done", i, slug)
						}
					}
					title := b.text("article.lesson h1")
					check("lesson")
					q, err := s.Training.Quiz(ctx, slug, 1)
					if err != nil {
						t.Fatal(err)
					}
					// Reading to the end records the reading and opens the quiz.
					b.do("read to the end", chromedp.ScrollIntoView(chromedp.CSS("#end-of-text")))
					b.wait("#read-status")
					b.submit(fmt.Sprintf(`form[action="/lessons/%s/attempts"] button`, slug), 200)
					check("quiz")
					ids := b.questions(q)
					for _, id := range ids {
						qq, _ := q.Question(id)
						for _, opt := range qq.Answer {
							b.click(optionSel(id, opt))
						}
					}
					b.submit("#quiz-submit", 200)
					if score, want := b.text("p.score"), locale.T(lang, "result.passed", len(ids), len(ids), 100); !strings.HasPrefix(score, want) {
						b.fail("step %d: result %q, want %q", i, score, want)
					}
					check("result")
					b.submit(fmt.Sprintf(`a.button.primary[href="/lessons/%s/acknowledge"]`, slug), 200)
					check("acknowledge")
					b.typeInto("#signature", name)
					b.submit(fmt.Sprintf(`form[action="/lessons/%s/acknowledge"] button[type="submit"]`, slug), 200)
					b.wantPath("/lessons/" + slug + "/done")
					b.wantText("#done-title", locale.T(lang, "done.title", title))
					b.wantText(`label[for="programme"]`, locale.T(lang, "training.progress", i, 6))
					check("done")
					done = append(done, slug)
					b.submit("#next-lesson", 200)
				}
				prog, err := s.Store.Progress(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, slug := range done {
					if prog.Lessons[slug].AckVersion != 1 {
						t.Errorf("%s: %s not signed in the database: %+v", login, slug, prog.Lessons[slug])
					}
				}
				b.checkResponses()
			})
		}
	}
}
