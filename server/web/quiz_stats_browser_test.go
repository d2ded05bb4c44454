package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// TestBrowserItemStatistics: HR's analytics page shows the facility and
// discrimination of a seeded set of attempts, flags the item everyone gets
// right and the one only weak learners get right, lists the options
// chosen, and passes axe in both languages at 375 and 1280 px.
func TestBrowserItemStatistics(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: firstPass}); err != nil {
		t.Fatal(err)
	}
	seed := testkit.SeedItemAttempts(t, s, "dress", 36)
	an, err := s.Authoring.Analytics(ctx, "dress", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{model.LangZH, model.LangEN} {
		for _, width := range []int64{375, 1280} {
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				b := newBrowser(t, base)
				b.acceptLanguage(lang)
				b.do("screen", chromedp.EmulateViewport(width, 900))
				b.login("hr")
				b.open("/hr/lessons/dress/analytics")
				b.wait("table.items")
				easy, rev := "#item-"+seed.Easy, "#item-"+seed.Reverse
				b.wantText(easy+" td.facility", "100%")
				if b.count(easy+" .flag-easy") != 1 || b.count(easy+" .flag-weak") != 0 {
					b.fail("the easy item is not flagged easy: %q", b.text(easy+" td.flags"))
				}
				if b.count(rev+" .flag-weak") != 1 {
					b.fail("the reversed item is not flagged: %q", b.text(rev+" td.flags"))
				}
				if n := b.count("table.items tbody tr"); n != len(an.Questions) {
					b.fail("%d rows, want %d", n, len(an.Questions))
				}
				for _, qs := range an.Questions {
					row := "#item-" + qs.ID
					want := fmt.Sprintf("%.2f", qs.Discrimination)
					if !qs.HasDiscrimination {
						want = map[string]string{model.LangZH: "无法计算", model.LangEN: "n/a"}[lang]
					}
					b.wantText(row+" td.discrimination", want)
					b.wantText(row+" td.facility", fmt.Sprintf("%d%%", qs.Facility))
				}
				// The options chosen, shown as text (no chart to describe).
				b.click("#options-" + seed.Reverse + " summary")
				if got := b.text("#options-" + seed.Reverse + " tbody"); !strings.Contains(got, "✓") {
					b.fail("the distractor table names no keyed option: %q", got)
				}
				b.fitsWidth(width)
				if key := rawKey.FindString(b.text("body")); key != "" {
					b.fail("the page shows the raw locale key %q", key)
				}
				b.axeCheck("hr-analytics-items")
				b.snap(fmt.Sprintf("hr-analytics-items-%s-%d", lang, width))
			})
		}
	}
	checkLog(t, s)
}

// TestBrowserReviewPolicyAndCooldown: under the default review policy a
// failed attempt shows which questions were wrong, the explanation and
// the clause but no keyed option; HR's cool-down after one failure shows
// on the result and the lesson with the time it ends, with no way to
// start; both pages pass axe at 375 and 1280 px.
func TestBrowserReviewPolicyAndCooldown(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	ctx := context.Background()
	q := testkit.PublishQuiz(t, s.Training, "attendance", func(src string) string {
		return strings.TrimRight(src, "\n") + "\ncooldown: {after: 1, wait: 24h}\n"
	})
	u, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "zhou", Name: "周敏", Password: firstPass})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, base)
	b.acceptLanguage(model.LangZH)
	b.login("zhou")
	b.open("/lessons/attendance")
	b.submit(`form[action="/lessons/attendance/attempts"] button`, 200)
	ids := b.questions(q)
	// Nothing chosen: the form asks first; graded anyway, every answer is wrong.
	b.submit(`#quiz-submit`, 422)
	b.submit(`#quiz-submit-anyway`, 200)
	if score := b.text("p.score"); !strings.HasPrefix(score, "未通过") {
		b.fail("result: %q", score)
	}
	b.wantText("#review-note", "通过测验后才显示正确选项。请重读下面链接的条款后再试。")
	if n := b.count("ol.results p.answer"); n != 0 {
		b.fail("a failed attempt shows %d right-answer lines", n)
	}
	page := b.text("ol.results")
	for _, id := range ids {
		qq, _ := q.Question(id)
		if !strings.Contains(page, strings.TrimSpace(qq.Explanation.In(model.LangZH))) {
			b.fail("question %s: no explanation", id)
		}
		if b.count(`ol.results a[href="/lessons/attendance#`+qq.Clause+`"]`) == 0 {
			b.fail("question %s: no link to clause %s", id, qq.Clause)
		}
	}
	prog, err := s.Store.Progress(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	ends := prog.Lessons["attendance"].LastFailed.Add(24 * time.Hour).In(time.Local).Format("2006年1月2日 15:04:05 MST")
	want := "下一次测验要到 " + ends + " 之后才能开始。请先重读课程。"
	b.wantText("#cooldown", want)
	b.wantNone(`form[action="/lessons/attendance/attempts"]`)
	result := b.location().Path
	for _, width := range []int64{375, 1280} {
		b.do("screen", chromedp.EmulateViewport(width, 900))
		b.open(result)
		b.wait("#cooldown")
		b.fitsWidth(width)
		b.axeCheck(fmt.Sprintf("result-failed-cooldown-%d", width))
		b.snap(fmt.Sprintf("result-failed-cooldown-%d", width))
	}
	b.open("/lessons/attendance")
	b.wantText("#cooldown", want)
	b.wantNone(`form[action="/lessons/attendance/attempts"]`)
	for _, width := range []int64{375, 1280} {
		b.do("screen", chromedp.EmulateViewport(width, 900))
		b.open("/lessons/attendance")
		b.wait("#cooldown")
		b.fitsWidth(width)
		b.axeCheck(fmt.Sprintf("lesson-cooldown-%d", width))
	}
	checkLog(t, s)
}
