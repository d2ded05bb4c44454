package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// TestBrowserHRHome: HR lands on the overview of a company of a few dozen
// people in three departments; its figures are the reports API's, a count
// leads to the filtered list behind it, and a publish that asks for new
// signatures shows who has signed since and who has still to.
func TestBrowserHRHome(t *testing.T) {
	needChromium(t)
	s, base := startPortal(t)
	testkit.BackdateLessons(t, s)
	ctx := context.Background()
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "hr.xu", Name: "徐人事", Roles: []string{model.RoleHR}, Password: firstPass, Hired: time.Now()}); err != nil {
		t.Fatal(err)
	}
	depts := []string{"客服部", "前台", "财务部"}
	var people []*model.User
	for i := range 36 {
		hired := time.Now() // due later
		if i%4 == 0 {
			hired = time.Now().AddDate(0, -3, 0) // long overdue
		}
		u, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("员工%02d", i),
			Department: depts[i%3], Hired: hired, Password: firstPass})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, u)
	}
	// A third have signed the dress code; then it changes and asks again.
	for _, u := range people[:12] {
		testkit.Complete(t, s.Training, u, "dress")
	}
	testkit.PublishChange(t, s.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "工牌应端正佩戴在左胸前。", model.LangEN: "Wear the badge straight on the left of your chest.",
	})
	for _, u := range people[:3] {
		testkit.Complete(t, s.Training, u, "dress")
	}

	b := newBrowser(t, base)
	b.acceptLanguage("zh-CN")
	b.login("hr.xu")
	b.submit(`nav a[href="/hr"]`, 200)
	b.wantText("main h1", "人事概览")
	b.axeCheck("hr-home")

	var api struct {
		All struct {
			People        int `json:"people"`
			OverduePeople int `json:"overdue_people"`
			Percent       int `json:"percent"`
			Reack         int `json:"needs_reack"`
		} `json:"all"`
		Departments []struct {
			Key           string `json:"key"`
			OverduePeople int    `json:"overdue_people"`
		} `json:"departments"`
		Publishes []struct {
			Lesson      string `json:"lesson"`
			Version     int    `json:"version"`
			SignedSince int    `json:"signed_since"`
			StillToSign int    `json:"still_to_sign"`
		} `json:"publishes"`
		Weeks []struct{} `json:"weeks"`
	}
	raw := run(b, "the reports API", chromedp.Evaluate[string](`fetch('/api/v1/reports/organisation').then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err := json.Unmarshal([]byte(raw), &api); err != nil {
		b.fail("reports API: %v: %s", err, raw)
	}
	// The 36 staff: the HR officer and the first administrator hold no
	// learning role and no lesson names them, so they are not counted
	// (issue 27); the 9 staff hired long ago are overdue.
	if api.All.People != 36 || api.All.OverduePeople != 9 || len(api.Weeks) == 0 {
		b.fail("the API's company: %+v, %d weeks", api.All, len(api.Weeks))
	}
	for sel, want := range map[string]int{"#fig-people strong": api.All.People, "#fig-overdue strong": api.All.OverduePeople, "#fig-reack strong": api.All.Reack} {
		if got := b.text(sel); got != strconv.Itoa(want) {
			b.fail("%s shows %q, the API says %d", sel, got, want)
		}
	}
	b.wantText("#company .big", fmt.Sprintf("完成率 %d%%", api.All.Percent))
	if len(api.Publishes) != 1 || api.Publishes[0].Lesson != "dress" || api.Publishes[0].Version != 2 ||
		api.Publishes[0].SignedSince != 3 || api.Publishes[0].StillToSign != 9 {
		b.fail("publishes: %+v", api.Publishes)
	}
	if got := b.text("#publishes tbody tr"); !strings.Contains(got, "着装规范") || !strings.Contains(got, "3") || !strings.Contains(got, "9") {
		b.fail("the publish row reads %q", got)
	}
	b.wait("svg.chart")
	// Everyone's account was made today: the chart starts this week.
	if n := b.count("svg.chart circle.dot"); n != 1 {
		b.fail("the chart has %d weeks, want only this one", n)
	}
	b.snap("hr-home-1280")
	b.do("phone", chromedp.EmulateViewport(375, 900))
	b.fitsWidth(375)
	b.axeCheck("hr-home-375")
	b.snap("hr-home-375")
	b.do("desktop", chromedp.EmulateViewport(1280, 900))

	// A department's overdue count leads to exactly those people.
	dept := api.Departments[0]
	link := `#home-departments tbody tr:first-child td:nth-child(3) a`
	if href := b.attrs(link, "href"); len(href) != 1 || !strings.HasSuffix(href[0], "&overdue=1") {
		b.fail("the first department's overdue count links to %q", href)
	} else if u, err := url.Parse(href[0]); err != nil || u.Query().Get("department") != dept.Key {
		b.fail("the first department's overdue count links to %q, want %s", href, dept.Key)
	}
	if got := b.text(link); got != strconv.Itoa(dept.OverduePeople) {
		b.fail("%s overdue shows %q, the API says %d", dept.Key, got, dept.OverduePeople)
	}
	b.submit(link, 200)
	b.wantText("main h1", "部门："+dept.Key)
	if n := b.count("table.matrix tbody tr"); n != dept.OverduePeople {
		b.fail("the overdue list of %s has %d people, the home page said %d", dept.Key, n, dept.OverduePeople)
	}
	b.checkResponses()
}
