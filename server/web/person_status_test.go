package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestPersonPageSaysQuizFailed: a person's page (their manager's and HR's
// view) says "quiz failed" for a lesson whose quiz they failed, as the
// team matrix does, and still "reading" for one they only read; in both
// languages.
func TestPersonPageSaysQuizFailed(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	const pw = "person status password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "boss", Name: "王经理", Roles: []string{model.RoleManager}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "emp", Name: "李娜", Manager: "boss", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Training.StartAttempt(ctx, u, "dress", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := p.Training.Quiz(ctx, "dress", a.Version)
	res, _, err := p.Training.Submit(ctx, u, a.ID, testkit.Answers(q, a.Questions, false))
	if err != nil || res.Passed {
		t.Fatalf("a failed attempt: %v %v", res, err)
	}
	if _, err := p.Training.MarkRead(ctx, u, "grooming"); err != nil {
		t.Fatal(err)
	}
	badge := func(body, slug string) string {
		m := regexp.MustCompile(`<tr id="lesson-` + slug + `"[^>]*>\s*<td>[^<]*</td>\s*<td><span class="badge ([^"]+)">([^<]+)</span>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1] + " " + m[2]
	}
	boss := newCaller(t, p.Base, "boss", pw)
	for _, c := range []struct {
		who           *caller
		lang          string
		failed, reads string
	}{
		{boss, model.LangZH, "status-quiz_failed 测验未通过", "status-reading 学习中"},
		{hr, model.LangEN, "status-quiz_failed Quiz failed", "status-reading Reading"},
	} {
		c.who.useLang(t, p.Base, c.lang)
		st, body := c.who.get(t, p.Base+"/people/emp")
		if st != http.StatusOK {
			t.Fatalf("%s: the person's page: %d", c.lang, st)
		}
		if got := badge(body, "dress"); got != c.failed {
			t.Errorf("%s: the failed lesson reads %q, want %q", c.lang, got, c.failed)
		}
		if got := badge(body, "grooming"); got != c.reads {
			t.Errorf("%s: the lesson only read reads %q, want %q", c.lang, got, c.reads)
		}
		// Its attempts say how many were right of how many, as the
		// learner's result does, not a bare percentage.
		score := locale.T(c.lang, "person.failed", res.Right(), len(res.Questions), res.Score)
		if !strings.Contains(score, fmt.Sprintf(" %d ", len(res.Questions))) || !strings.Contains(body, `<span class="badge status-needs_reack">`+score+`</span>`) {
			t.Errorf("%s: the attempts table does not say %q", c.lang, score)
		}
	}
	// The matrix (in the manager's Chinese) says the same of that lesson.
	if _, body := boss.get(t, p.Base+"/team"); !regexp.MustCompile(`td[^>]*data-lesson="dress"[^>]*status-quiz_failed|status-quiz_failed[^>]*data-lesson="dress"`).MatchString(body) || !strings.Contains(body, "测验未通过") {
		t.Error("the team matrix does not say quiz failed")
	}
}
