package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

var (
	teamRowLogin = regexp.MustCompile(`<th scope="row" class="person"><a href="/people/([^"]+)">`)
	teamNext     = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next" id="team-next">`)
)

// TestTeamPaging: a department of 120 shows 50 people a page; following
// the next links walks every person once, in the view's order, with the
// filter and the order kept in each link; a cursor naming someone not in
// the list is refused with a way back to the first page.
func TestTeamPaging(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "team paging password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "boss", Name: "经理", Roles: []string{model.RoleManager}, Department: "客服部", Password: pw}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var people []model.User
	var want []string
	for i := range 120 {
		login := fmt.Sprintf("p%03d", i)
		people = append(people, model.User{ID: fmt.Sprintf("team-paging-%03d", i), Login: login, Name: fmt.Sprintf("员工%03d", i),
			Roles: []string{model.RoleEmployee}, Department: "客服部", Manager: "boss", Active: true, Hired: now.AddDate(0, 0, -5), Created: now})
		want = append(want, login)
	}
	if err := p.Store.ImportUsers(ctx, people); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want) // the view below: by login, descending
	m := newCaller(t, p.Base, "boss", pw)

	var got []string
	next := p.Base + "/team?sort=login&desc=1"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatalf("more than 3 pages for 120 people")
		}
		st, body := m.get(t, next)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", next, st)
		}
		rows := teamRowLogin.FindAllStringSubmatch(body, -1)
		if len(rows) > 50 {
			t.Fatalf("%s shows %d people, want at most 50", next, len(rows))
		}
		for _, r := range rows {
			got = append(got, r[1])
		}
		next = ""
		if n := teamNext.FindStringSubmatch(body); n != nil {
			u, err := url.Parse(html.UnescapeString(n[1]))
			if err != nil {
				t.Fatal(err)
			}
			if q := u.Query(); q.Get("sort") != "login" || q.Get("desc") != "1" || q.Get("after") != got[len(got)-1] {
				t.Fatalf("next link %s does not keep the order or name the last row %s", u, got[len(got)-1])
			}
			next = p.Base + u.String()
			if !strings.Contains(body, fmt.Sprintf("%d–%d", len(got)-len(rows)+1, len(got))) {
				t.Errorf("page ending at %d does not say which people it shows", len(got))
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the pages showed %d people %v, want the 120 in order", len(got), got)
	}

	// A filter is kept too: 120 match status=not_started.
	_, body := m.get(t, p.Base+"/team?status=not_started")
	n := teamNext.FindStringSubmatch(body)
	if n == nil || !strings.Contains(html.UnescapeString(n[1]), "status=not_started") {
		t.Fatalf("the filtered view's next link %v drops the filter", n)
	}

	// Someone not in the list: refused, with a way back to the first page.
	st, body := m.get(t, p.Base+"/team?sort=login&after=nobody")
	if st != http.StatusBadRequest || !strings.Contains(body, "已不在列表中") || !strings.Contains(body, `href="/team?sort=login"`) || !strings.Contains(body, "回到第一页") {
		t.Fatalf("bad cursor: %d %.600s", st, body)
	}
}
