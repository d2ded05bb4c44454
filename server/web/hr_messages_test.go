package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/testkit"
)

// TestDraftProblemsInReadersLanguage: a draft whose front matter and quiz
// YAML do not parse is stored, but the editor says it cannot be published
// (never the plain "saved" notice) and lists each problem with its line in
// the reader's language, without the parser's English.
func TestDraftProblemsInReadersLanguage(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	// Line 3 of the text: a value with ": " in it; the quiz's pass_mark
	// is not a number.
	text := strings.Replace(d.Files[model.LangZH], "\ntitle: ", "\ntitle: 着装: ", 1)
	if !strings.HasPrefix(text, "---\nslug: dress\ntitle: 着装: ") {
		t.Fatalf("the shipped front matter changed shape:\n%.80s", text)
	}
	quizSrc := strings.Replace(d.Quiz, "pass_mark: ", "pass_mark: high #", 1)
	if quizSrc == d.Quiz {
		t.Fatal("the shipped quiz has no pass_mark")
	}
	quizLine := strings.Count(quizSrc[:strings.Index(quizSrc, "pass_mark:")], "\n") + 1
	res := hr.postRaw(t, p.Base+"/hr/lessons/dress/edit", url.Values{"lang": {model.LangZH}, "text": {text}, "quiz": {quizSrc}, "do": {"save"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "m=hr.draft.saved_blocked") || !strings.Contains(loc, "n=2") {
		t.Fatalf("save: %d to %q, want the blocked notice with 2 problems", res.StatusCode, loc)
	}
	if _, saved, stored, err := p.Authoring.Draft(ctx, "dress"); err != nil || !stored || saved.Files[model.LangZH] != text || saved.Quiz != quizSrc {
		t.Fatalf("the draft was not stored as typed: stored %v, %v", stored, err)
	}
	for _, c := range []struct{ ui, blocked, saved, text, quiz string }{
		{model.LangZH, "草稿已保存，但还不能发布：先修正下面列出的 2 个问题。", "草稿已保存。读者",
			"<span class=\"line\">第 3 行：</span> 值里有 “: ”：把整个值放在引号里，或检查缩进。",
			"<span class=\"line\">第 " + strconv.Itoa(quizLine) + " 行：</span> 这里应填写数字。"},
		{model.LangEN, "Saved as a draft. It cannot be published until the 2 problem(s) listed below are fixed.", "Draft saved.",
			"<span class=\"line\">Line 3:</span> A value contains “: ”: put the whole value in quotes, or check the indentation.",
			"<span class=\"line\">Line " + strconv.Itoa(quizLine) + ":</span> A number is expected here."},
	} {
		hr.useLang(t, p.Base, c.ui)
		st, body := hr.get(t, p.Base+loc)
		if st != http.StatusOK {
			t.Fatalf("%s editor: %d", c.ui, st)
		}
		for _, want := range []string{c.blocked, c.text, c.quiz} {
			if !strings.Contains(body, want) {
				t.Errorf("%s editor lacks %q", c.ui, want)
			}
		}
		for _, raw := range []string{c.saved, "mapping values", "cannot unmarshal", "front matter:"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s editor shows %q", c.ui, raw)
			}
		}
		// The publish page lists the same problems, by part named in words.
		st, body = hr.get(t, p.Base+"/hr/lessons/dress/publish")
		if st != http.StatusOK || !strings.Contains(body, c.text) || !strings.Contains(body, c.quiz) || strings.Contains(body, "<h3>quiz</h3>") {
			t.Errorf("%s publish page: %d, problems not in words:\n%s", c.ui, st, body)
		}
	}
}

// resignNotices counts the sign-again notifications stored for users, an
// independent count of who publishing asked to sign again.
func resignNotices(t *testing.T, p *testkit.Portal, users []*model.User) int {
	t.Helper()
	p.Notify.Wait()
	n := 0
	for _, u := range users {
		ns, err := p.Store.Notifications(context.Background(), u.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ns {
			if x.Kind == model.NotifyResign {
				n++
			}
		}
	}
	return n
}

// TestPublishSaysHowManySignAgain: the publish form says how many people
// a re-acknowledge publish makes sign the next version again, the notice
// after says the same number, and it is the number of people the portal
// asked (active, assigned, signed before): not the deactivated signer, not
// the one who only read.
func TestPublishSaysHowManySignAgain(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	var users []*model.User
	mk := func(login string) *model.User {
		u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
		return u
	}
	for _, login := range []string{"s1", "s2", "s3", "gone"} {
		testkit.Complete(t, p.Training, mk(login), "dress")
	}
	if err := p.Auth.Deactivate(ctx, users[3]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Training.MarkRead(ctx, mk("reader"), "dress"); err != nil {
		t.Fatal(err)
	}
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{model.LangZH: d.Files[model.LangZH] + "\n工牌应端正佩戴在左胸前。\n", model.LangEN: d.Files[model.LangEN] + "\nWear the badge straight.\n"}
	if _, probs, err := p.Authoring.SaveFiles(ctx, "hr", "dress", files, ""); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	next := d.Base + 1
	for _, c := range []struct{ ui, want string }{
		{model.LangZH, "3 人必须重新签署第 " + strconv.Itoa(next) + " 版"},
		{model.LangEN, "3 people must sign version " + strconv.Itoa(next) + " again"},
	} {
		hr.useLang(t, p.Base, c.ui)
		if st, body := hr.get(t, p.Base+"/hr/lessons/dress/publish"); st != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("%s publish form: %d, want %q", c.ui, st, c.want)
		}
	}
	res := hr.postRaw(t, p.Base+"/hr/lessons/dress/publish", url.Values{"kind": {model.ChangeReack}, "note": {"badge"}, "grace_days": {"14"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "m=hr.published.sign_again") {
		t.Fatalf("publish: %d to %q", res.StatusCode, loc)
	}
	if got := resignNotices(t, p, users); got != 3 {
		t.Fatalf("%d people were asked to sign again, want 3", got)
	}
	for _, c := range []struct{ ui, want string }{
		{model.LangZH, "新版本已发布：3 人必须重新签署第 " + strconv.Itoa(next) + " 版"},
		{model.LangEN, "New version published: 3 people must sign version " + strconv.Itoa(next) + " again"},
	} {
		hr.useLang(t, p.Base, c.ui)
		if st, body := hr.get(t, p.Base+loc); st != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("%s after publishing: %d, want %q", c.ui, st, c.want)
		}
	}
}

// TestCompanyFiguresLeaveOutStaff: HR and administrator accounts (no
// employee or manager role) do not change the company's completion on the
// HR home and in the organisation report, until a lesson's audience names
// their role: then they count in that lesson only.
func TestCompanyFiguresLeaveOutStaff(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	mk := func(login string, roles ...string) *model.User {
		u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Roles: roles, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	testkit.Complete(t, p.Training, mk("e1"), "dress")
	mk("e2")
	mk("m1", model.RoleManager)
	figures := func() report.OrgRow {
		t.Helper()
		o, err := p.Reports.Organisation(ctx, model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		return o.All
	}
	before := figures()
	if before.People != 3 || before.Done != 1 {
		t.Fatalf("learners only: %+v, want 3 people and 1 lesson done", before)
	}
	mk("hr.only", model.RoleHR)
	mk("admin.only", model.RoleAdmin)
	mk("hr.learner", model.RoleEmployee, model.RoleHR)
	after := figures()
	if after.People != 4 || after.Assigned != before.Assigned+before.Assigned/3 || after.Done != 1 {
		t.Errorf("staff accounts counted: before %+v, after %+v; want only the HR employee added", before, after)
	}
	hr := newCaller(t, p.Base, "hr.only", "a long enough password")
	if st, body := hr.get(t, p.Base+"/hr"); st != http.StatusOK || !strings.Contains(body, "<strong>4</strong>") {
		t.Errorf("HR home: %d, want 4 people in training", st)
	}
	// A lesson for HR by name counts the HR account in that lesson.
	l, err := p.Store.Lesson(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Store.SetLessonSettings(ctx, "dress", l.Order, "all,hr", l.DueDays, l.ValidMonths); err != nil {
		t.Fatal(err)
	}
	// The HR-only accounts: hr.only and the first-run administrator (HR
	// and admin); admin.only is not named by the audience.
	users, err := p.Store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	staffHR := 0
	for _, u := range users {
		if u.Active && u.HasRole(model.RoleHR) && !u.HasRole(model.RoleEmployee) && !u.HasRole(model.RoleManager) {
			staffHR++
		}
	}
	named := figures()
	if staffHR < 1 || named.People != after.People+staffHR || named.Assigned != after.Assigned+staffHR || named.Done != 1 {
		t.Errorf("dress for HR by name: %+v, want the %d HR accounts counted in it alone (after %+v)", named, staffHR, after)
	}
}
