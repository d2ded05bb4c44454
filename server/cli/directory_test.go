package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestSyncSeesEveryWritePath checks that the directory sync matches its
// rows against what every other way of changing a person left: a SCIM
// create, PATCH and DELETE, HR's form, a single POST /users, the sync's
// own batched create, and a
// restart (the in-memory directory loaded again from the database). A
// write path that forgot the directory would show here as a person synced
// as new (then refused as a taken login), or an old value counted as
// unchanged.
func TestSyncSeesEveryWritePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenFor(t, p, hr)
	scimTok, _, err := p.Auth.CreateToken(ctx, nil, hr, auth.TokenSpec{Name: "idp", Scopes: []string{auth.ScopeSCIM}})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	s := scimClient{t: t, base: p.Base, tok: scimTok, c: c}
	base := p.Base
	row := func(dept string) map[string]any {
		return map[string]any{"login": "okta.li", "name": "李娜", "department": dept, "email": "li@example.com"}
	}
	sync := func(want string, rows ...map[string]any) {
		t.Helper()
		st, obj, err := call(c, base, tok, "POST", "/users/sync", map[string]any{"users": rows})
		if err != nil || st != http.StatusOK {
			t.Fatalf("sync: %d %v %v", st, obj, err)
		}
		for _, r := range obj["results"].([]any) {
			if got := r.(map[string]any)["status"]; got != want {
				t.Fatalf("sync of %v: %v, want %s", rows, obj["results"], want)
			}
		}
	}
	inDept := func(dept string) []string {
		t.Helper()
		st, list, err := callList(c, base, tok, "/users?department="+url.QueryEscape(dept))
		if err != nil || st != http.StatusOK {
			t.Fatalf("users of %s: %d %v", dept, st, err)
		}
		var out []string
		for _, u := range list {
			out = append(out, u["login"].(string))
		}
		return out
	}

	// SCIM creates her: the sync finds her, as she is.
	created := s.want(201, "POST", "/Users", `{"schemas":["`+scimUser+`","`+scimEnt+`"],"userName":"okta.li","displayName":"李娜",
		"emails":[{"primary":true,"value":"li@example.com","type":"work"}],"active":true,"`+scimEnt+`":{"department":"前台"}}`)
	id, _ := created["id"].(string)
	sync("unchanged", row("前台"))
	if got := inDept("前台"); len(got) != 1 || got[0] != "okta.li" {
		t.Fatalf("department filter after SCIM create: %v", got)
	}
	// SCIM moves her: the old department from the HR system is a change.
	s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[{"op":"Replace","value":{"`+scimEnt+`:department":"客房"}}]}`)
	if got := inDept("前台"); len(got) != 0 {
		t.Fatalf("department filter after SCIM patch: %v", got)
	}
	sync("updated", row("前台"))
	sync("unchanged", row("前台"))

	// HR moves her on the form (to a department no one has yet, so the
	// form asks first: confirmed): the sync's old value is a change again.
	br := newBrowser(t, base)
	expect(t, br.post("/login", "/login", url.Values{"login": {"hr"}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
	expect(t, br.post("/hr/people/okta.li", "/hr/people/okta.li", url.Values{"name": {"李娜"}, "roles": {model.RoleEmployee}, "department": {"礼宾"}, "confirm": {"1"}}),
		http.StatusSeeOther, "/hr/people/okta.li")
	if got := inDept("礼宾"); len(got) != 1 {
		t.Fatalf("department filter after HR's edit: %v", got)
	}
	sync("updated", row("前台"))

	// SCIM deactivates her (DELETE): the HR system still lists her.
	s.want(204, "DELETE", "/Users/"+id, "")
	sync("reactivated", row("前台"))

	// One person by POST /users: the sync finds them.
	if st, obj, err := call(c, base, tok, "POST", "/users", map[string]any{"login": "wang.wu", "name": "王五", "department": "前台"}); err != nil || st/100 != 2 {
		t.Fatalf("POST /users: %d %v %v", st, obj, err)
	}
	wang := map[string]any{"login": "wang.wu", "name": "王五", "department": "前台"}
	sync("unchanged", wang, row("前台"))
	// People the sync itself created (the batched insert).
	zhou := map[string]any{"login": "zhou.qi", "name": "周七", "department": "前台"}
	sync("created", zhou)
	sync("unchanged", zhou)

	// After a restart the directory comes from the database: the same.
	p.Stop()
	p = testkit.Start(t, dir, io.Discard)
	base = p.Base
	sync("unchanged", wang, row("前台"))
	sync("updated", map[string]any{"login": "wang.wu", "name": "王五", "department": "后厨"})
	if got := inDept("后厨"); len(got) != 1 || got[0] != "wang.wu" {
		t.Fatalf("department filter after a restart: %v", got)
	}
}

// TestUsersSearchPages follows GET /api/v1/users?q= page by page through
// its Link headers, and refuses a bad limit with its field.
func TestUsersSearchPages(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenFor(t, p, hr)
	c := &http.Client{Timeout: 20 * time.Second}
	var rows []map[string]any
	for i := range 130 {
		rows = append(rows, map[string]any{"login": fmt.Sprintf("p%03d", i), "name": fmt.Sprintf("员工%03d", i), "department": []string{"前台", "客房"}[i%2]})
	}
	if st, obj, err := call(c, p.Base, tok, "POST", "/users/sync", map[string]any{"users": rows}); err != nil || st != 200 || obj["created"] != float64(130) {
		t.Fatalf("sync: %d %v %v", st, obj, err)
	}
	next := p.Base + "/api/v1/users?q=" + url.QueryEscape("客房 员工") + "&limit=20"
	var got []string
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("the pages do not end")
		}
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := c.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %v %v", next, res, err)
		}
		var page []map[string]any
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if len(page) > 20 {
			t.Fatalf("a page of %d", len(page))
		}
		for _, u := range page {
			got = append(got, u["login"].(string))
		}
		next = ""
		if m := linkNextRe.FindStringSubmatch(res.Header.Get("Link")); m != nil {
			next = p.Base + m[1]
		}
	}
	if len(got) != 65 || got[0] != "p001" || got[64] != "p129" || !sort.StringsAreSorted(got) {
		t.Errorf("客房's people over the pages: %d %v", len(got), got)
	}
	for _, bad := range []string{"0", "x", "501"} {
		st, obj, _ := call(c, p.Base, tok, "GET", "/users?limit="+bad, nil)
		if e, _ := obj["error"].(map[string]any); st != 400 || e["field"] != "limit" {
			t.Errorf("limit=%s: %d %v", bad, st, obj)
		}
	}
	// Without paging parameters: everyone, as before.
	if st, all, err := callList(c, p.Base, tok, "/users"); err != nil || st != 200 || len(all) != 132 {
		t.Errorf("everyone: %d %d %v", st, len(all), err)
	}
}

var linkNextRe = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
