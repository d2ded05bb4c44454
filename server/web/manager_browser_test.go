package web_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// TestBrowserManagerSummary walks a manager's journey in both languages
// at 1280 and 375 px: they land on their team's summary line, follow the
// overdue count to the filtered matrix (names in the reader's order, a
// failed quiz said as such), remind everyone overdue after confirming and
// see how many were reminded, that number checked against the database.
// The page never scrolls sideways, the English and Chinese matrices fit
// 1280 px, a phone scrolls the matrix inside its box, the chart's labels
// are inside the drawing, and axe finds nothing on the summary, the
// matrix or the confirmation.
func TestBrowserManagerSummary(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	testkit.BackdateLessons(t, s)
	ctx := context.Background()
	now := time.Now()
	add := func(nu auth.NewUser) *model.User {
		t.Helper()
		nu.Password = firstPass
		if len(nu.Roles) == 0 {
			nu.Roles = []string{model.RoleEmployee}
		}
		u, err := s.Auth.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	// A team per run, as a person is reminded once a day.
	team := func(n int) []*model.User {
		boss := fmt.Sprintf("boss%d", n)
		add(auth.NewUser{Login: boss, Name: "王经理", Roles: []string{model.RoleManager}, Department: "客服部"})
		var members []*model.User
		for _, p := range []struct {
			login, name string
			days        int
		}{{"zhang.wei", "张伟", -30}, {"li.na", "李娜", -30}, {"wang.fang", "王芳", -30}, {"a.qiang", "阿强", 0}} {
			// Stored directly, to have been known for a month: the chart
			// then draws several weeks, with a date under the last.
			at := now.AddDate(0, 0, p.days).UTC().Truncate(time.Millisecond)
			u := &model.User{ID: model.NewID(), Login: fmt.Sprintf("%s%d", p.login, n), Name: p.name, Manager: boss,
				Department: "客服部", Roles: []string{model.RoleEmployee}, Active: true, Hired: at, Created: at}
			if err := s.Store.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			members = append(members, u)
		}
		// 王芳 failed the dress quiz; 阿强 (hired today, nothing overdue) signed it.
		wf := members[2]
		a, err := s.Training.StartAttempt(ctx, wf, "dress", model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := s.Training.Quiz(ctx, "dress", a.Version)
		if res, _, err := s.Training.Submit(ctx, wf, a.ID, testkit.Answers(q, a.Questions, false)); err != nil || res.Passed {
			t.Fatalf("a failed attempt: %v %v", res, err)
		}
		testkit.Complete(t, s.Training, members[3], "dress")
		return members
	}
	words := map[string]struct {
		overdue, failed, quizFailed, title string
		order                              []string
		reminded                           *regexp.Regexp
	}{
		model.LangZH: {"3 人逾期", "1 人测验未通过", "测验未通过", "提醒所有逾期人员？", []string{"李娜", "王芳", "张伟"}, regexp.MustCompile(`^已发送提醒：(\d+) 人。$`)},
		model.LangEN: {"3 overdue", "1 failed a quiz", "Quiz failed", "Remind everyone overdue?", []string{"张伟", "李娜", "王芳"}, regexp.MustCompile(`^People reminded: (\d+)\.$`)},
	}
	k := 0
	for _, lang := range []string{model.LangZH, model.LangEN} {
		for _, width := range []int64{1280, 375} {
			k++
			k := k
			members := team(k)
			w := words[lang]
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				b := newBrowser(t, base)
				b.keep = true // the screenshots are the look to review
				b.acceptLanguage(lang)
				if width < 600 {
					b.do("phone screen", chromedp.EmulateViewport(width, 740, chromedp.EmulateMobile))
				} else {
					b.do("screen", chromedp.EmulateViewport(width, 900))
				}
				shot := func(name string) { b.snap(fmt.Sprintf("%s-%s-%d", name, lang, width)) }
				b.login(fmt.Sprintf("boss%d", k))

				// The home leads with the team's line, each count a link.
				b.wantPath("/")
				b.wait("#team-counts")
				b.fitsWidth(width)
				if got := b.text("#team-counts"); !strings.Contains(got, w.overdue) || !strings.Contains(got, w.failed) {
					b.fail("the summary line reads %q, want %q and %q", got, w.overdue, w.failed)
				}
				if href := b.attrs("#count-failed", "href"); len(href) != 1 || href[0] != "/team?status=quiz_failed" {
					b.fail("the failed count links to %q", href)
				}
				if n := b.count("#team-summary #home-remind, #team-summary form#home-export"); n != 2 {
					b.fail("the summary has %d of its two actions (remind, export)", n)
				}
				b.axeCheck("home-manager")
				shot("home-manager")

				// The overdue count leads to the matrix filtered to them.
				b.submit("#count-overdue", 200)
				b.wantPath("/team")
				if q := b.location().RawQuery; q != "overdue=1" {
					b.fail("the overdue count leads to ?%s", q)
				}
				b.wait("table.matrix")
				if got := b.texts("table.matrix tbody th.person a"); !slices.Equal(got, w.order) {
					b.fail("the filtered matrix lists %q, want %q", got, w.order)
				}
				wf := fmt.Sprintf(`tr:has(a[href="/people/wang.fang%d"]) td[data-lesson="dress"]`, k)
				b.wantText(wf+" .word", w.quizFailed)
				// Its own colour, darker than its background enough to read.
				if cls := b.attrs(wf, "class"); len(cls) != 1 || !strings.Contains(cls[0], "status-quiz_failed") {
					b.fail("王芳's dress cell has class %q", cls)
				}
				b.fitsWidth(width)
				if width >= 1280 {
					b.matrixFits(width)
				} else {
					over := run(b, "matrix overflow", chromedp.Evaluate[bool](`(() => { const w = document.querySelector('.matrix-wrap'); return w.scrollWidth > w.clientWidth; })()`))
					if !over {
						b.fail("the matrix does not scroll sideways inside its box on a phone")
					}
				}
				b.axeCheck("team-overdue")
				shot("team-overdue")

				// The full matrix and its chart: labels inside the drawing.
				b.open("/team")
				b.wait("svg.chart")
				b.fitsWidth(width)
				if width >= 1280 {
					b.matrixFits(width)
				}
				if n := b.count("svg.chart text.axis:not([text-anchor=end])"); n < 2 {
					b.fail("the chart has %d date labels, want the weeks since the team began", n)
				}
				clipped := run(b, "chart labels", chromedp.Evaluate[[]string](`(() => {
					const svg = document.querySelector('svg.chart'), box = svg.getBoundingClientRect(), out = [];
					for (const t of svg.querySelectorAll('text')) {
						const r = t.getBoundingClientRect();
						if (r.width === 0) continue; // not shown at this width
						if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5) out.push(t.textContent + ' ' + JSON.stringify([r.left, r.right, r.top, r.bottom].map(Math.round)));
					}
					return out; })()`))
				if len(clipped) > 0 {
					b.fail("chart labels outside the drawing at %d px: %q", width, clipped)
				}
				shot("team")
				b.open("/team?overdue=1")

				// Remind everyone overdue: first who and what.
				b.submit("#remind-overdue", 200)
				b.wantPath("/team/remind")
				b.wantText("main h1", w.title)
				if n := b.count("#remind-who tbody tr"); n != 3 {
					b.fail("the confirmation lists %d people, want the 3 overdue", n)
				}
				b.fitsWidth(width)
				b.axeCheck("team-remind")
				shot("team-remind")
				b.submit("#remind-confirm", 200)
				m := w.reminded.FindStringSubmatch(b.text("p.notice"))
				if m == nil {
					b.fail("after reminding, the notice reads %q", b.text("p.notice"))
				}
				said, _ := strconv.Atoi(m[1])
				stored := 0
				for _, u := range members {
					ns, err := s.Store.Notifications(ctx, u.ID, 10)
					if err != nil {
						t.Fatal(err)
					}
					stored += len(ns)
				}
				if said != 3 || stored != said {
					b.fail("the notice says %d reminded, the database holds %d reminders, want 3", said, stored)
				}
				if q := b.location().RawQuery; !strings.Contains(q, "overdue=1") {
					b.fail("after reminding, the view lost its filter: %q", q)
				}
				shot("reminded")
				b.checkResponses()
			})
		}
	}
	checkLog(t, s)
}
