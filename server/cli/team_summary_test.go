package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestTeamQuizFailedAndPinyin: a quiz failed and not passed since shows as
// "quiz failed" (not "reading") in the matrix, its filter, the API's team
// report and the manager's home line; one failed and then passed does not.
// Names are ordered by pinyin for a Chinese reader (阿强 李娜 王芳 张伟,
// where code points give 张 李 王 阿) and by the reader's language
// otherwise, on the page, in the API and in the exports.
func TestTeamQuizFailedAndPinyin(t *testing.T) {
	p := startPortal(t, t.TempDir(), &bytes.Buffer{})
	testkit.BackdateLessons(t, p)
	ctx := context.Background()
	now := time.Now()
	users := map[string]*model.User{}
	for _, nu := range []auth.NewUser{
		{Login: "boss", Name: "老板", Roles: []string{model.RoleManager}, Department: "客服部"},
		{Login: "zhang.wei", Name: "张伟", Manager: "boss", Hired: now.AddDate(0, 0, -30)},
		{Login: "li.na", Name: "李娜", Manager: "boss", Hired: now.AddDate(0, 0, -30)},
		{Login: "wang.fang", Name: "王芳", Manager: "boss", Hired: now.AddDate(0, 0, -30)},
		{Login: "a.qiang", Name: "阿强", Manager: "boss", Hired: now.AddDate(0, 0, -30)},
	} {
		if len(nu.Roles) == 0 {
			nu.Roles = []string{model.RoleEmployee}
		}
		nu.Password = teamPass
		u, err := p.Auth.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		users[u.Login] = u
	}
	attempt := func(login, slug string, right bool) {
		t.Helper()
		u := users[login]
		a, err := p.Training.StartAttempt(ctx, u, slug, model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := p.Training.Quiz(ctx, slug, a.Version)
		if got, _, err := p.Training.Submit(ctx, u, a.ID, testkit.Answers(q, a.Questions, right)); err != nil || got.Passed != right {
			t.Fatalf("%s's attempt at %s: %v %v", login, slug, got, err)
		}
	}
	attempt("wang.fang", "dress", false)
	attempt("li.na", "attendance", false)
	attempt("li.na", "attendance", true)

	m := loggedIn(t, p, "boss")
	type teamJSON struct {
		Rows []struct {
			Login      string `json:"login"`
			Name       string `json:"name"`
			QuizFailed int    `json:"quiz_failed"`
			Lessons    []struct {
				Lesson string `json:"lesson"`
				Status string `json:"status"`
			} `json:"lessons"`
		} `json:"rows"`
		Total struct {
			QuizFailed int `json:"quiz_failed"`
		} `json:"total"`
	}
	team := func(query string) teamJSON {
		t.Helper()
		a := m.get("/api/v1/reports/team" + query)
		var got teamJSON
		if err := json.Unmarshal([]byte(a.body), &got); a.status != http.StatusOK || err != nil {
			t.Fatalf("team report %s: %d %v %.300s", query, a.status, err, a.body)
		}
		return got
	}
	names := func(tj teamJSON) []string {
		var out []string
		for _, r := range tj.Rows {
			out = append(out, r.Name)
		}
		return out
	}
	status := func(tj teamJSON, login, slug string) string {
		for _, r := range tj.Rows {
			for _, c := range r.Lessons {
				if r.Login == login && c.Lesson == slug {
					return c.Status
				}
			}
		}
		return ""
	}
	pinyin, codePoints := []string{"阿强", "李娜", "王芳", "张伟"}, []string{"张伟", "李娜", "王芳", "阿强"}

	all := team("?lang=zh-CN")
	if got := names(all); !slices.Equal(got, pinyin) {
		t.Errorf("zh-CN team report orders %v, want %v", got, pinyin)
	}
	if got := status(all, "wang.fang", "dress"); got != "quiz_failed" {
		t.Errorf("王芳's failed dress quiz reads %q, want quiz_failed", got)
	}
	if got := status(all, "li.na", "attendance"); got != "quiz_passed" {
		t.Errorf("李娜 failed then passed attendance: %q, want quiz_passed", got)
	}
	if got := status(all, "a.qiang", "dress"); got != "not_started" {
		t.Errorf("阿强's dress reads %q, want not_started", got)
	}
	if all.Total.QuizFailed != 1 {
		t.Errorf("total quiz_failed = %d, want 1", all.Total.QuizFailed)
	}
	if got := names(team("?lang=en")); !slices.Equal(got, codePoints) {
		t.Errorf("en team report orders %v, want %v (English rules)", got, codePoints)
	}
	if got := team("?status=quiz_failed"); len(got.Rows) != 1 || got.Rows[0].Login != "wang.fang" || got.Rows[0].QuizFailed != 1 {
		t.Errorf("status=quiz_failed answers %+v, want 王芳 alone", got.Rows)
	}

	// The page: the filter offers the status, and the matrix says it in words.
	page := m.get("/team?status=quiz_failed")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<option value="quiz_failed" selected>测验未通过</option>`) ||
		!strings.Contains(page.body, `class="cell status-quiz_failed late" data-lesson="dress"`) ||
		strings.Contains(page.body, `href="/people/li.na"`) {
		t.Errorf("the filtered matrix: %d %.3000s", page.status, page.body)
	}
	if full := m.get("/team").body; !inOrder(full, `href="/people/a.qiang"`, `href="/people/li.na"`, `href="/people/wang.fang"`, `href="/people/zhang.wei"`) {
		t.Errorf("the zh-CN matrix is not in pinyin order")
	}

	// The manager's home: one line, each count a link to its people.
	home := m.get("/")
	for _, want := range []string{
		`<a href="/team" class="count-all">团队 4 人</a>`,
		`<a href="/team?overdue=1" id="count-overdue" class="count-bad">4 人逾期</a>`,
		`<a href="/team?status=quiz_failed" id="count-failed" class="count-bad">1 人测验未通过</a>`,
		`<span id="count-reack">0 人需重新确认</span>`,
		`href="/team/remind?back=%2Fteam%3Foverdue%3D1"`,
		`action="/team/export.xlsx"`,
	} {
		if !strings.Contains(home.body, want) {
			t.Errorf("the manager's home lacks %s: %.3000s", want, home.body)
		}
	}

	// Exports follow the export's language.
	for lang, want := range map[string][]string{"zh-CN": pinyin, "en": codePoints} {
		a := m.get("/team/export.csv?" + url.Values{"lang": {lang}}.Encode())
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(a.body, "\uFEFF"))).ReadAll()
		if a.status != http.StatusOK || err != nil || len(recs) < 5 {
			t.Fatalf("%s export: %d %v %q", lang, a.status, err, a.body)
		}
		var got []string
		for _, r := range recs[1:5] {
			got = append(got, r[0])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s export orders %v, want %v", lang, got, want)
		}
		if lang == "en" && !strings.Contains(a.body, "Quiz failed") {
			t.Errorf("the en export does not say Quiz failed: %q", a.body)
		}
	}
}

// inOrder reports whether each of parts occurs in s after the one before.
func inOrder(s string, parts ...string) bool {
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if i < 0 {
			return false
		}
		at += i + len(p)
	}
	return true
}
