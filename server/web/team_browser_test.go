package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// TestBrowserManagerTeam: a manager filters the matrix to the late
// people, finds the export links carrying the filter, reminds one of
// them, and sees the matrix scroll sideways on a phone with the names
// kept in view.
func TestBrowserManagerTeam(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	testkit.BackdateLessons(t, s)
	ctx := context.Background()
	now := time.Now()
	add := func(nu auth.NewUser) *model.User {
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
	add(auth.NewUser{Login: "wang.qiang", Name: "王强", Roles: []string{model.RoleManager}, Department: "客服部"})
	li := add(auth.NewUser{Login: "li.na", Name: "李娜", Manager: "wang.qiang", Department: "客服部", Hired: now.AddDate(0, 0, -20)})
	done := add(auth.NewUser{Login: "zhao.lei", Name: "赵磊", Manager: "wang.qiang", Department: "客服部", Hired: now.AddDate(0, 0, -20)})
	add(auth.NewUser{Login: "sun.yue", Name: "孙悦", Manager: "wang.qiang", Department: "客服部", Hired: now})
	sts, err := s.Training.Standings(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		testkit.Complete(t, s.Training, done, st.Lesson.Slug)
	}

	b := newBrowser(t, base)
	b.acceptLanguage("zh-CN")
	b.open("/login")
	b.typeInto("#login", "wang.qiang")
	b.typeInto("#password", firstPass)
	b.submit(`form[action="/login"] button[type="submit"]`, 200)
	// A manager lands on their team's summary, with what to act on.
	b.wantPath("/")
	if got := b.text("#team-counts"); !strings.Contains(got, "团队 3 人") || !strings.Contains(got, "1 人逾期") {
		b.fail("the manager's home shows %q", got)
	}
	if href := b.attrs(`#team-summary a[href^="/team/remind"]`, "href"); len(href) != 1 {
		b.fail("no way to remind from the home page: %q", href)
	}
	b.submit(`nav a[href="/team"]`, 200)
	b.wantText("main h1", "我的团队")
	if n := b.count("table.matrix tbody tr"); n != 3 {
		b.fail("the matrix has %d people, want 3", n)
	}
	// Status in words, not colour alone.
	b.wantText(`tr:has(a[href="/people/zhao.lei"]) td[data-lesson="dress"] .word`, "已完成")
	if got := b.text(`tr:has(a[href="/people/li.na"]) td[data-lesson="dress"]`); !strings.Contains(got, "未开始") || !strings.Contains(got, "已逾期") || !strings.Contains(got, "截止") {
		b.fail("李娜's dress cell reads %q", got)
	}
	if n := b.count("svg.chart circle.dot"); n < 1 {
		b.fail("the progress chart has %d points", n)
	}
	b.snap("team-1280")

	// Filter: overdue only.
	b.click("#f-overdue")
	b.submit(`form#filters button[type="submit"]`, 200)
	if q := b.location().RawQuery; !strings.Contains(q, "overdue=1") {
		b.fail("the filter is not in the URL: %q", q)
	}
	if n := b.count("table.matrix tbody tr"); n != 1 {
		b.fail("overdue filter leaves %d people, want 1 (李娜)", n)
	}
	b.wantText("table.matrix tbody th.person a", "李娜")
	// The export form carries the filter and asks for the language.
	if got := b.value(`form#export input[name="overdue"]`); got != "1" {
		b.fail("the export form keeps overdue=%q, want the filtered view", got)
	}
	b.wantText(`label[for="export-lang"]`, "导出语言")
	b.snap("team-overdue")

	// Remind everyone overdue: first who and what, nothing sent yet.
	b.submit("#remind-overdue", 200)
	b.wantPath("/team/remind")
	b.wantText("main h1", "提醒所有逾期人员？")
	if who := b.texts("#remind-who tbody th"); len(who) != 1 || !strings.Contains(who[0], "李娜") {
		b.fail("the confirmation lists %q, want 李娜 alone", who)
	}
	if got := b.text("blockquote.message"); !strings.Contains(got, "王强提醒你完成以下课程") {
		b.fail("the message shown is %q", got)
	}
	if n, err := s.Store.Notifications(ctx, li.ID, 10); err != nil || len(n) != 0 {
		b.fail("the confirmation page sent something: %v %v", n, err)
	}
	b.snap("remind-confirm")
	b.submit("#remind-confirm", 200)
	b.wantText("p.notice", "已发送提醒：1 人。")
	if q := b.location().RawQuery; !strings.Contains(q, "overdue=1") {
		b.fail("after reminding, the filter was lost: %q", q)
	}
	// Then from her row: not twice in a day.
	b.submit(`tr:has(a[href="/people/li.na"]) form[action="/people/li.na/remind"] button`, 200)
	b.wantText("p.notice", "今天已经提醒过，没有重复发送。")

	// The person page lists the reminder.
	b.submit(`table.matrix tbody th.person a[href="/people/li.na"]`, 200)
	b.wantText("main h1", "李娜")
	if got := b.text("#reminders"); !strings.Contains(got, "发送人：王强") {
		b.fail("reminders on the person page: %q", got)
	}
	b.snap("person")

	// A phone: the matrix scrolls inside its box, the page does not, and
	// the names stay in view when it does.
	b.do("phone screen", chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	b.open("/team")
	b.wait("table.matrix")
	b.fitsWidth(375)
	scrollable := run(b, "matrix overflow", chromedp.Evaluate[bool](`(() => { const w = document.querySelector('.matrix-wrap'); return w.scrollWidth > w.clientWidth; })()`))
	if !scrollable {
		b.fail("the matrix does not scroll sideways on a phone")
	}
	left := run(b, "name column after scrolling", chromedp.Evaluate[float64](`(() => {
		const w = document.querySelector('.matrix-wrap'); w.scrollLeft = 400;
		const n = document.querySelector('.matrix tbody th.person');
		return n.getBoundingClientRect().left - w.getBoundingClientRect().left; })()`))
	if left < -1 || left > 2 {
		b.fail("after scrolling the matrix, the names are %v px from its left edge, want fixed at 0", left)
	}
	b.snap("team-375-scrolled")
	b.do("scroll back", chromedp.Evaluate[chromedp.Void](`document.querySelector('.matrix-wrap').scrollLeft = 0`))
	b.snap("team-375")

	// The reminded person sees the bell.
	e := newBrowser(t, base)
	e.acceptLanguage("zh-CN")
	e.open("/login")
	e.typeInto("#login", "li.na")
	e.typeInto("#password", firstPass)
	e.submit(`form[action="/login"] button[type="submit"]`, 200)
	e.wantText("#bell .count", "1")
	e.wantNone("#team-summary") // not a manager
	e.submit("#bell", 200)
	if got := e.text("#notifications"); !strings.Contains(got, "王强提醒你完成以下课程") {
		e.fail("notifications: %q", got)
	}
	e.snap("notifications")

	b.checkResponses()
	e.checkResponses()
	checkLog(t, s)
}
