package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// TestBrowserHRDailyWork is issue 21's "done when": HR signs in on a
// company of a few hundred people, finds the HR home's figures equal to
// the reports API's, follows a department's overdue count to exactly the
// people behind it, adds a question through the quiz form (fields, not
// YAML), publishes, and a learner's next attempt asks that question. The
// HR home and the quiz form pass axe at 375 and 1280 px in both languages.
func TestBrowserHRDailyWork(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	testkit.BackdateLessons(t, s)
	ctx := context.Background()
	for _, nu := range []auth.NewUser{
		{Login: "hr.zhou", Name: "周人事", Roles: []string{model.RoleHR}, Password: firstPass, Hired: time.Now()},
		{Login: "xiao.li", Name: "小李", Password: firstPass, Department: "前台", Hired: time.Now()},
	} {
		if _, err := s.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	// 300 people in four departments; every fifth was hired long ago and
	// is overdue; a few have signed the dress code.
	depts := []string{"客服部", "前台", "财务部", "后勤部"}
	for i := range 300 {
		hired := time.Now()
		if i%5 == 0 {
			hired = time.Now().AddDate(0, -4, 0)
		}
		u, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: fmt.Sprintf("staff%03d", i), Name: fmt.Sprintf("员工%03d", i),
			Department: depts[i%len(depts)], Hired: hired, NoPassword: true})
		if err != nil {
			t.Fatal(err)
		}
		if i < 10 {
			testkit.Complete(t, s.Training, u, "dress")
		}
	}

	b := newBrowser(t, base)
	b.acceptLanguage("zh-CN")
	b.do("desktop", chromedp.EmulateViewport(1280, 900))
	b.login("hr.zhou")
	b.submit(`nav a[href="/hr"]`, 200)
	b.wantText("main h1", "人事概览")

	// The figures are the reports API's.
	var api struct {
		All struct {
			People        int `json:"people"`
			OverduePeople int `json:"overdue_people"`
			Percent       int `json:"percent"`
			Reack         int `json:"needs_reack"`
		} `json:"all"`
		Departments []struct {
			Key           string `json:"key"`
			People        int    `json:"people"`
			OverduePeople int    `json:"overdue_people"`
		} `json:"departments"`
	}
	raw := run(b, "the reports API", chromedp.Evaluate[string](`fetch('/api/v1/reports/organisation').then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err := json.Unmarshal([]byte(raw), &api); err != nil {
		b.fail("reports API: %v: %s", err, raw)
	}
	// 300 staff and the learner (HR and the first administrator hold no
	// learning role: not counted); 60 overdue.
	if api.All.People != 301 || api.All.OverduePeople != 60 {
		b.fail("the API's company: %+v", api.All)
	}
	for sel, want := range map[string]int{"#fig-people strong": api.All.People, "#fig-overdue strong": api.All.OverduePeople, "#fig-reack strong": api.All.Reack} {
		if got := b.text(sel); got != strconv.Itoa(want) {
			b.fail("%s shows %q, the API says %d", sel, got, want)
		}
	}
	b.wantText("#company .big", fmt.Sprintf("完成率 %d%%", api.All.Percent))
	var rows []struct{ Dept, People, Overdue string }
	rowsJSON := run(b, "department rows", chromedp.Evaluate[string](`JSON.stringify([...document.querySelectorAll('#home-departments tbody tr')]
		.filter(tr => tr.querySelector('th a')).map(tr => ({Dept: tr.querySelector('th a').textContent.trim(),
		People: tr.querySelector('th .muted').textContent.trim(), Overdue: tr.querySelector('td:nth-child(3)').textContent.trim()})))`))
	if err := json.Unmarshal([]byte(rowsJSON), &rows); err != nil {
		b.fail("department rows: %v", err)
	}
	if len(rows) != len(depts) {
		b.fail("the home lists %d departments, want %d: %+v", len(rows), len(depts), rows)
	}
	byKey := map[string]int{}
	for i, d := range api.Departments {
		byKey[d.Key] = i
	}
	for _, r := range rows {
		i, ok := byKey[r.Dept]
		if !ok {
			b.fail("the home lists department %q the API does not", r.Dept)
		}
		d := api.Departments[i]
		if r.People != fmt.Sprintf("(%d)", d.People) || r.Overdue != strconv.Itoa(d.OverduePeople) {
			b.fail("%s: the home shows %s people, %s overdue; the API %d, %d", r.Dept, r.People, r.Overdue, d.People, d.OverduePeople)
		}
	}

	// A department's overdue count leads to exactly those people.
	link := `#home-departments tbody tr:first-child td:nth-child(3) a`
	dept := api.Departments[byKey[rows[0].Dept]]
	b.submit(link, 200)
	if q := b.location().Query(); q.Get("department") != dept.Key || q.Get("overdue") != "1" {
		b.fail("the overdue count led to %s", b.location())
	}
	b.wantText("main h1", "部门："+dept.Key)
	if n := b.count("table.matrix tbody tr"); n != dept.OverduePeople || n == 0 {
		b.fail("the overdue list of %s has %d people, the home page said %d", dept.Key, n, dept.OverduePeople)
	}

	// Both pages pass axe on a phone and a desktop, in both languages.
	const quizPage = "/hr/lessons/dress/quiz"
	for _, lang := range []string{model.LangZH, model.LangEN} {
		b.useLang(lang)
		for _, width := range []int64{375, 1280} {
			b.do("screen", chromedp.EmulateViewport(width, 900))
			for name, path := range map[string]string{"hr-home": "/hr", "hr-quiz": quizPage} {
				b.open(path)
				b.wait("main h1")
				b.fitsWidth(width)
				if key := rawKey.FindString(b.text("body")); key != "" {
					b.fail("%s shows the raw locale key %q", name, key)
				}
				shot := fmt.Sprintf("%s-%s-%d", name, lang, width)
				b.axeCheck(shot)
				b.snap(shot)
			}
		}
	}
	b.useLang(model.LangZH)

	// Add a question with the form's fields.
	b.open(quizPage)
	b.wait("form.quiz-form")
	n := b.count("fieldset.qf-question")
	b.submit(`form.quiz-form button[name="do"][value="add"]`, 200)
	i := n // the new question's index; its fields are q<i>-...
	q := func(field string) string { return fmt.Sprintf("#q%d-%s", i, field) }
	b.wait(q("prompt-zh-CN"))
	const (
		promptZH = "客户来访时，前台员工的工牌应佩戴在哪里？"
		promptEN = "Where does a reception employee wear the badge when a customer visits?"
	)
	b.setField(q("prompt-zh-CN"), promptZH)
	b.setField(q("prompt-en"), promptEN)
	for j, o := range [][2]string{{"左胸前", "On the left of the chest"}, {"腰间", "At the waist"}, {"口袋里", "In a pocket"}, {"不必佩戴", "Not at all"}} {
		b.setField(q(fmt.Sprintf("o%d-zh-CN", j)), o[0])
		b.setField(q(fmt.Sprintf("o%d-en", j)), o[1])
	}
	b.click(q("o0-right"))
	b.setField(q("explanation-zh-CN"), "工牌端正佩戴在左胸前，方便客户辨认。")
	b.setField(q("explanation-en"), "The badge is worn straight on the left of the chest, where customers see it.")
	clauses := b.attrs(q("clause")+" option", "value")
	if len(clauses) < 2 {
		b.fail("the clause list offers %q", clauses)
	}
	b.setField(q("clause"), clauses[len(clauses)-1])
	// Every question drawn: the new one is in each attempt.
	b.setField("#draw", strconv.Itoa(n+1))
	b.submit(`form.quiz-form .qf-toolbar button[name="do"][value="save"]`, 200)
	b.wantPath(quizPage)
	b.wantText("p.notice", "草稿已保存。读者看到的内容没有改变。")
	if got := b.text("#drawn"); !strings.Contains(got, promptZH) {
		b.fail("the drawn preview lacks the new question: %q", got)
	}

	// Publish it.
	b.submit(`a[href="/hr/lessons/dress/publish"]`, 200)
	b.typeInto("#note", "新增工牌题")
	b.submit(`form[action="/hr/lessons/dress/publish"] button[type="submit"]`, 200)
	b.wantPath("/hr/lessons/dress/history")
	b.wantText("p.notice", "新版本已发布：10 人必须重新签署第 2 版，他们已收到通知。") // the seeded signers of dress
	b.submit(`form[action="/logout"] button`, 200)

	// The learner's attempt asks it, in their language.
	b.login("xiao.li")
	b.open("/lessons/dress")
	b.submit(`form[action="/lessons/dress/attempts"] button`, 200)
	if got := b.count("fieldset.question"); got != n+1 {
		b.fail("the attempt asks %d questions, want all %d", got, n+1)
	}
	legends := b.texts("fieldset.question legend")
	found := false
	for _, l := range legends {
		found = found || strings.Contains(l, promptZH)
	}
	if !found {
		b.fail("the learner's attempt does not ask the new question: %q", legends)
	}
	b.snap("learner-new-question")
	b.checkResponses()
	checkLog(t, s)
}

// useLang switches the pages to lang with the header's language switch,
// when they are in the other.
func (b *browser) useLang(lang string) {
	b.t.Helper()
	if got := b.attrs("html", "lang"); len(got) == 1 && got[0] == lang {
		return
	}
	b.submit(`form[action="/lang"] button`, 200)
	if got := b.attrs("html", "lang"); len(got) != 1 || got[0] != lang {
		b.fail("the language switch left the page in %q, want %s", got, lang)
	}
}
