package cli_test

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/demo"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/training"
)

var demoPassword = regexp.MustCompile(`Every account's password:\s+(\S+)`)

// TestDemoCompany fills an empty folder with the sample company, then:
// verify passes on its receipts; every state is there, as the training
// rules compute it; the logins work with the one printed password; every
// page says "demo data" in both languages; a portal that is not a demo
// says nothing of the kind; and a folder with anything in it is refused.
func TestDemoCompany(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	code, out, errs := runCLI(t, dir, "demo")
	if code != 0 {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errs)
	}
	m := demoPassword.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "zhou.min") || !strings.Contains(out, "wang.qiang") {
		t.Fatalf("demo did not print the logins and the password:\n%s", out)
	}
	password := m[1]
	if code, vout, verrs := runCLI(t, dir, "verify"); code != 0 || !strings.Contains(vout, " 0 problem(s)") {
		t.Fatalf("verify on the demo: %d\n%s\n%s", code, vout, verrs)
	}
	if code, rout, _ := runCLI(t, dir, "rebuild", "--check"); code != 0 {
		t.Fatalf("rebuild --check on the demo: progress differs from the events:\n%s", rout)
	}

	// Again on the same folder: refused, nothing changed.
	before := dump(t, dir)
	if code, _, errs := runCLI(t, dir, "demo"); code != 1 || !strings.Contains(errs, "not empty") {
		t.Fatalf("demo on a filled folder: %d %s", code, errs)
	}
	if after := dump(t, dir); len(after["users"]) != len(before["users"]) || len(after["receipts"]) != len(before["receipts"]) {
		t.Fatalf("a refused demo changed the data: %d/%d users, %d/%d receipts",
			len(after["users"]), len(before["users"]), len(after["receipts"]), len(before["receipts"]))
	}
	// A folder with anything in it (another portal's data, say) too.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, other, "demo"); code != 1 || !strings.Contains(errs, "not empty") {
		t.Fatalf("demo on a folder with a file: %d %s", code, errs)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 1 {
		t.Fatalf("a refused demo wrote into the folder: %v", entries)
	}

	p := startPortal(t, dir, io.Discard)
	ctx := context.Background()
	users, err := p.Store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) < 60 {
		t.Fatalf("the demo has %d people", len(users))
	}
	byLogin := map[string]*model.User{}
	for i := range users {
		byLogin[users[i].Login] = &users[i]
	}
	// Each story, checked against the standings the portal computes.
	now := time.Now()
	checks := map[string]func([]training.Standing) bool{
		demo.Done: func(sts []training.Standing) bool { return allCode(sts, training.StatusDone) && len(sts) == 6 },
		demo.Reack: func(sts []training.Standing) bool {
			d := find(sts, "dress")
			return d.Code == training.StatusNeedsReack && !d.Overdue && d.Progress.AckVersion == 1 && d.Lesson.Required == 2
		},
		demo.Expiring: func(sts []training.Standing) bool {
			e := find(sts, "professional-ethics")
			return allCode(sts, training.StatusDone) && !e.Expires.IsZero() && e.Expires.After(now) && e.Expires.Before(now.AddDate(0, 0, report.ExpiringDays))
		},
		demo.Renewal: func(sts []training.Standing) bool {
			e := find(sts, "professional-ethics")
			return e.Code == training.StatusNeedsReack && e.Renewal && !e.Overdue
		},
		demo.Passed:  func(sts []training.Standing) bool { return anyCode(sts, training.StatusQuizPassed) && !overdue(sts) },
		demo.Reading: func(sts []training.Standing) bool { return anyCode(sts, training.StatusReading) && !overdue(sts) },
		demo.Fresh:   func(sts []training.Standing) bool { return allCode(sts, training.StatusNotStarted) && !overdue(sts) },
		demo.Overdue: func(sts []training.Standing) bool {
			n := 0
			for _, st := range sts {
				if st.Overdue {
					n++
				}
			}
			return n == 4 && find(sts, "attendance").Code == training.StatusDone
		},
		demo.Extended: func(sts []training.Standing) bool {
			e := find(sts, "professional-ethics")
			return !e.Overdue && e.Due.After(now) && find(sts, "deportment").Overdue
		},
		demo.Exempt: func(sts []training.Standing) bool {
			return len(sts) == 5 && allCode(sts, training.StatusDone) && find(sts, "grooming").Lesson.Slug == ""
		},
	}
	seen := map[string]int{}
	for _, a := range demo.Stories {
		seen[a] = 0
	}
	for _, l := range loginsByStory(t, out) {
		if byLogin[l.login] == nil {
			t.Fatalf("the demo printed %s, who is not stored", l.login)
		}
	}
	for _, a := range demo.Company() {
		u := byLogin[a.Login]
		if u == nil {
			t.Fatalf("%s of the sample company is not stored", a.Login)
		}
		if a.Story == "" {
			continue
		}
		sts, err := p.Training.Standings(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !checks[a.Story](sts) {
			t.Errorf("%s (%s) is not in that state: %s", a.Login, a.Story, brief(sts))
		}
		seen[a.Story]++
	}
	for story, n := range seen {
		if n == 0 {
			t.Errorf("no one in the demo lives the story %s", story)
		}
	}
	// The team report agrees: the department manager sees overdue people,
	// people to sign again and signatures ageing out.
	team, err := p.Reports.Team(ctx, report.Scope{Department: "客服部"}, report.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(team.Rows) < 30 || team.Total.Overdue == 0 || team.Total.Expiring == 0 {
		t.Fatalf("the customer-service department's team view: %d rows, totals %+v", len(team.Rows), team.Total)
	}

	// The marker, on every page, in both languages, logged in or not.
	const zh, en = "演示数据", "Demo data"
	b := newBrowser(t, p.Base)
	if a := b.get("/login"); !strings.Contains(a.body, `class="demo-banner"`) || !strings.Contains(a.body, zh) {
		t.Fatalf("the login page has no demo marker: %.600s", a.body)
	}
	expect(t, b.post("/login", "/login", url.Values{"login": {"zhou.min"}, "password": {password}}), 303, "/")
	for _, path := range []string{"/", "/organisation", "/team?department=客服部", "/hr/people", "/receipts", "/no-such-page"} {
		if a := b.get(path); !strings.Contains(a.body, zh) {
			t.Errorf("%s (%d) has no demo marker", path, a.status)
		}
	}
	b.post("/", "/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	if a := b.get("/"); !strings.Contains(a.body, en) {
		t.Errorf("the English page has no demo marker: %.600s", a.body)
	}
	for _, login := range []string{"admin", "wang.qiang", loginsByStory(t, out)[0].login} {
		c := newBrowser(t, p.Base)
		expect(t, c.post("/login", "/login", url.Values{"login": {login}, "password": {password}}), 303, "/")
	}
	p.Stop()

	plain := startPortal(t, t.TempDir(), io.Discard)
	if a := newBrowser(t, plain.Base).get("/login"); a.status != 200 || strings.Contains(a.body, "demo-banner") {
		t.Fatalf("a portal that is not a demo shows the marker (%d)", a.status)
	}
}

type storyLogin struct{ login, story string }

// loginsByStory reads the employees the demo printed, one per story.
func loginsByStory(t *testing.T, out string) []storyLogin {
	t.Helper()
	var got []storyLogin
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		for _, s := range demo.Stories {
			if strings.Contains(line, "  "+demo.StoryText[s]+"  ") {
				got = append(got, storyLogin{f[0], s})
			}
		}
	}
	if len(got) != len(demo.Stories) {
		t.Fatalf("the demo printed %d employees, one per story wanted (%d):\n%s", len(got), len(demo.Stories), out)
	}
	return got
}

func find(sts []training.Standing, slug string) training.Standing {
	for _, st := range sts {
		if st.Lesson.Slug == slug {
			return st
		}
	}
	return training.Standing{}
}

func allCode(sts []training.Standing, code string) bool {
	for _, st := range sts {
		if st.Code != code {
			return false
		}
	}
	return len(sts) > 0
}

func anyCode(sts []training.Standing, code string) bool {
	for _, st := range sts {
		if st.Code == code {
			return true
		}
	}
	return false
}

func overdue(sts []training.Standing) bool {
	for _, st := range sts {
		if st.Overdue {
			return true
		}
	}
	return false
}

// brief is a person's standings in one line.
func brief(sts []training.Standing) string {
	var parts []string
	for _, st := range sts {
		s := st.Lesson.Slug + ":" + st.Code
		if st.Overdue {
			s += "(overdue)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
