package cli_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
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

	// HR moves her on the form: the sync's old value is a change again.
	br := newBrowser(t, base)
	expect(t, br.post("/login", "/login", url.Values{"login": {"hr"}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
	expect(t, br.post("/hr/people/okta.li", "/hr/people/okta.li", url.Values{"name": {"李娜"}, "roles": {model.RoleEmployee}, "department": {"礼宾"}}),
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
