package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

const (
	scimUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimEnt    = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimPatch  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimErrURN = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// scimClient speaks SCIM to a portal with one bearer token.
type scimClient struct {
	t    *testing.T
	base string
	tok  string
	c    *http.Client
}

// do sends body (JSON text, or "") and answers the status, the decoded
// object and the headers; every answer must be application/scim+json.
func (s scimClient) do(method, path, body string) (int, map[string]any, http.Header) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.base+"/scim/v2"+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tok)
	req.Header.Set("Accept", "application/scim+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		s.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	var obj map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &obj); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, obj, res.Header
}

func (s scimClient) want(status int, method, path, body string) map[string]any {
	s.t.Helper()
	st, obj, _ := s.do(method, path, body)
	if st != status {
		s.t.Fatalf("%s %s: %d %v, want %d", method, path, st, obj, status)
	}
	return obj
}

func filterQuery(attr, value string) string {
	return "?filter=" + url.QueryEscape(attr+` eq "`+value+`"`)
}

// scimPortal makes the identity provider's account and a scim token on the
// console (as the README says), and starts the portal with a mail server.
func scimPortal(t *testing.T) (*testkit.Portal, scimClient, string, *testkit.Mailbox) {
	dir := filepath.Join(t.TempDir(), "data")
	testkit.Start(t, dir, io.Discard).Stop()
	if code, out, errOut := runCLI(t, dir, "user", "add", "--login", "idp", "--name", "Identity provider", "--role", "hr"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, dir, "token", "create", "--login", "idp", "--name", "provisioning", "--scope", "scim")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "cp_") {
		t.Fatalf("token create --scope scim: %d %q %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, dir, "token", "create", "--login", "idp", "--name", "users", "--scope", "users:write")
	if code != 0 {
		t.Fatal(out)
	}
	mb := testkit.StartSMTP(t)
	p := testkit.StartEnv(t, dir, io.Discard, map[string]string{"PORTAL_SMTP_URL": mb.URL})
	return p, scimClient{t: t, base: p.Base, tok: tok, c: &http.Client{Timeout: 20 * time.Second}}, strings.TrimSpace(out), mb
}

// TestSCIMOkta replays the requests of Okta's SCIM 2.0 guide
// (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20): discovery,
// "does the user exist" by userName with startIndex and count, create, read,
// PUT of the whole profile, deactivation by PATCH {"active": false} (the
// person loses access at once: session and token refused; the receipts
// stay verifiable), reactivation, and listing page by page.
func TestSCIMOkta(t *testing.T) {
	p, s, usersTok, mb := scimPortal(t)
	ctx := context.Background()

	// Discovery.
	spc := s.want(200, "GET", "/ServiceProviderConfig", "")
	if patch, _ := spc["patch"].(map[string]any); patch["supported"] != true {
		t.Errorf("ServiceProviderConfig: %v", spc)
	}
	rt := s.want(200, "GET", "/ResourceTypes", "")
	if raw, _ := json.Marshal(rt); !strings.Contains(string(raw), `"endpoint":"/Users"`) || !strings.Contains(string(raw), scimEnt) {
		t.Errorf("ResourceTypes: %s", raw)
	}
	if raw := str(s.want(200, "GET", "/Schemas", "")); !strings.Contains(raw, `"id":"`+scimUser+`"`) || !strings.Contains(raw, `"id":"`+scimEnt+`"`) {
		t.Errorf("Schemas: %.300s", raw)
	}

	// A token without the scim scope, and no token, are refused in the
	// SCIM error schema.
	if st, obj, _ := (scimClient{t: t, base: p.Base, tok: usersTok, c: s.c}).do("GET", "/Users", ""); st != 403 || !strings.Contains(str(obj["schemas"]), scimErrURN) {
		t.Errorf("a users:write token: %d %v", st, obj)
	}
	if st, _, h := (scimClient{t: t, base: p.Base, tok: "nope", c: s.c}).do("GET", "/Users", ""); st != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("a bad token: %d", st)
	}

	// Okta: does jane exist? No: create her.
	list := s.want(200, "GET", "/Users"+filterQuery("userName", "jane.doe@example.com")+"&startIndex=1&count=100", "")
	if list["totalResults"] != float64(0) {
		t.Fatalf("filter before create: %v", list)
	}
	created := s.want(201, "POST", "/Users", `{"schemas":["`+scimUser+`"],"userName":"jane.doe@example.com",
		"name":{"givenName":"Jane","familyName":"Doe"},"emails":[{"primary":true,"value":"jane.doe@example.com","type":"work"}],
		"displayName":"Jane Doe","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}`)
	id, _ := created["id"].(string)
	if id == "" || created["userName"] != "jane.doe@example.com" || created["active"] != true || created["externalId"] != "00ujl29u0le5T6Aj10h7" {
		t.Fatalf("create: %v", created)
	}
	jane, err := p.Store.User(ctx, id)
	if err != nil || jane.Name != "Jane Doe" || jane.Email != "jane.doe@example.com" || jane.PasswordHash != "" {
		t.Fatalf("stored: %+v %v", jane, err)
	}
	// No password from the provider is kept; an invitation went out.
	if mails := mb.WaitMails(1); len(mails) != 1 || mails[0].To[0] != "jane.doe@example.com" || !inviteLinkRe.MatchString(mails[0].Body) {
		t.Fatalf("invitation: %+v", mails)
	}
	// Okta asks again: now she exists, with her id.
	list = s.want(200, "GET", "/Users"+filterQuery("userName", "jane.doe@example.com")+"&startIndex=1&count=100", "")
	if rs, _ := list["Resources"].([]any); list["totalResults"] != float64(1) || len(rs) != 1 || rs[0].(map[string]any)["id"] != id {
		t.Fatalf("filter after create: %v", list)
	}
	// Creating her twice is a uniqueness error.
	dup := s.want(409, "POST", "/Users", `{"schemas":["`+scimUser+`"],"userName":"jane.doe@example.com","name":{"givenName":"J","familyName":"D"}}`)
	if dup["scimType"] != "uniqueness" || !strings.Contains(str(dup["schemas"]), scimErrURN) {
		t.Errorf("duplicate: %v", dup)
	}
	got := s.want(200, "GET", "/Users/"+id, "")
	if emails, _ := got["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["value"] != "jane.doe@example.com" {
		t.Errorf("get: %v", got)
	}
	// Okta updates with PUT of the whole profile.
	put := s.want(200, "PUT", "/Users/"+id, `{"schemas":["`+scimUser+`","`+scimEnt+`"],"id":"`+id+`","userName":"jane.doe@example.com",
		"name":{"givenName":"Jane","familyName":"Smith"},"displayName":"Jane Smith","emails":[{"primary":true,"value":"jane.smith@example.com","type":"work"}],
		"active":true,"externalId":"00ujl29u0le5T6Aj10h7","`+scimEnt+`":{"department":"客服部"}}`)
	if put["displayName"] != "Jane Smith" {
		t.Errorf("put: %v", put)
	}
	jane, _ = p.Store.User(ctx, id)
	if jane.Name != "Jane Smith" || jane.Department != "客服部" || jane.Email != "jane.smith@example.com" {
		t.Errorf("after put: %+v", jane)
	}

	// Jane works: she signs in, makes a token, signs a lesson.
	hash, err := auth.HashPassword("janes own passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Store.SetPassword(ctx, id, hash, false); err != nil {
		t.Fatal(err)
	}
	br := newBrowser(t, p.Base)
	expect(t, br.post("/login", "/login", url.Values{"login": {"jane.doe@example.com"}, "password": {"janes own passphrase"}}), http.StatusSeeOther, "/")
	expect(t, br.get("/"), http.StatusOK, "")
	jane, _ = p.Store.User(ctx, id)
	janeTok := tokenFor(t, p, jane)
	if st, _, _ := call(s.c, p.Base, janeTok, "GET", "/me", nil); st != 200 {
		t.Fatalf("jane's token: %d", st)
	}
	receipt := testkit.Complete(t, p.Training, jane, "dress")

	// Okta deactivates: PATCH {"active": false} without a path. Access
	// ends at once; the receipt stays and verifies.
	off := s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	if off["active"] != false {
		t.Fatalf("deactivate: %v", off)
	}
	expect(t, br.get("/"), http.StatusSeeOther, "/login")
	if st, _, _ := call(s.c, p.Base, janeTok, "GET", "/me", nil); st != 401 {
		t.Errorf("a deactivated person's token: %d", st)
	}
	if _, err := p.Auth.Login(ctx, "jane.doe@example.com", "janes own passphrase"); err == nil {
		t.Error("a deactivated person signed in")
	}
	rep, err := p.Training.Verify(ctx)
	if err != nil || len(rep.Problems) != 0 || rep.Receipts != 1 {
		t.Errorf("verify after deactivation: %+v %v", rep, err)
	}
	if rs, err := p.Store.UserReceipts(ctx, id); err != nil || len(rs) != 1 || rs[0].ID != receipt.ID {
		t.Errorf("receipts after deactivation: %v %v", rs, err)
	}
	// Reactivated (reassigned): she may sign in again; the old token stays revoked.
	on := s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[{"op":"replace","value":{"active":true}}]}`)
	if on["active"] != true {
		t.Fatalf("reactivate: %v", on)
	}
	if _, err := p.Auth.Login(ctx, "jane.doe@example.com", "janes own passphrase"); err != nil {
		t.Errorf("reactivated: %v", err)
	}
	if st, _, _ := call(s.c, p.Base, janeTok, "GET", "/me", nil); st != 401 {
		t.Errorf("the old token after reactivation: %d", st)
	}

	// Import: every user, page by page.
	for _, login := range []string{"a.person@example.com", "b.person@example.com", "c.person@example.com"} {
		s.want(201, "POST", "/Users", `{"schemas":["`+scimUser+`"],"userName":"`+login+`","name":{"givenName":"A","familyName":"Person"},"active":true}`)
	}
	all := s.want(200, "GET", "/Users?startIndex=1&count=100", "")
	total := all["totalResults"].(float64) // the four above, idp and the first-run admin
	if total != 6 {
		t.Errorf("total: %v", all)
	}
	page := s.want(200, "GET", "/Users?startIndex=2&count=2", "")
	if rs, _ := page["Resources"].([]any); len(rs) != 2 || page["startIndex"] != float64(2) || page["itemsPerPage"] != float64(2) || page["totalResults"] != total {
		t.Errorf("page 2: %v", page)
	}
	last := s.want(200, "GET", "/Users?startIndex=6&count=2", "")
	if rs, _ := last["Resources"].([]any); len(rs) != 1 {
		t.Errorf("last page: %v", last)
	}
	p.Notify.Wait()
}

// TestSCIMEntra replays the requests of Microsoft Entra ID's SCIM guide
// (learn.microsoft.com, "Develop and plan provisioning for a SCIM
// endpoint"): match by userName, create with the enterprise extension,
// match by externalId, PATCH with "op": "Replace" on emails[type eq
// "work"].value and name.familyName, a path-less Replace with a value
// object, the manager, disable with active false, then DELETE (which the
// portal turns into a deactivation), and errors in the SCIM schema.
func TestSCIMEntra(t *testing.T) {
	p, s, _, _ := scimPortal(t)
	ctx := context.Background()
	const login = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com"
	const ext = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
	if l := s.want(200, "GET", "/Users"+filterQuery("userName", login), ""); l["totalResults"] != float64(0) {
		t.Fatalf("match by userName: %v", l)
	}
	mgr := s.want(201, "POST", "/Users", `{"schemas":["`+scimUser+`","`+scimEnt+`"],"externalId":"mgr-1","userName":"Manager_1@contoso.com",
		"active":true,"displayName":"经理一","name":{"formatted":"经理一","familyName":"一","givenName":"经理"}}`)
	body := `{"schemas":["` + scimUser + `","` + scimEnt + `"],"externalId":"` + ext + `","userName":"` + login + `","active":true,
		"addresses":[{"primary":true,"type":"work","streetAddress":"1 Main St","locality":"Shanghai","country":"CN"}],
		"displayName":"Test User","emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@testuser.com"}],
		"meta":{"resourceType":"User"},"name":{"formatted":"Test User","familyName":"User","givenName":"Test"},"roles":[],
		"` + scimEnt + `":{"department":"前台"}}`
	created := s.want(201, "POST", "/Users", body)
	id := created["id"].(string)
	u, err := p.Store.User(ctx, id)
	if err != nil || u.Login != login || u.Department != "前台" || u.ExternalID != ext || u.Name != "Test User" {
		t.Fatalf("stored: %+v %v", u, err)
	}
	byExt := s.want(200, "GET", "/Users"+filterQuery("externalId", ext), "")
	if rs, _ := byExt["Resources"].([]any); len(rs) != 1 || rs[0].(map[string]any)["userName"] != login {
		t.Fatalf("match by externalId: %v", byExt)
	}
	// Replace, capitalised, with paths.
	s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@contoso.com"},
		{"op":"Replace","path":"name.formatted","value":"Updated User"}]}`)
	u, _ = p.Store.User(ctx, id)
	if u.Email != "updatedEmail@contoso.com" {
		t.Errorf("patched email: %+v", u)
	}
	// Path-less Replace with a value object, and the manager by id.
	s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[
		{"op":"Replace","value":{"displayName":"测试用户","`+scimEnt+`:department":"客房部"}},
		{"op":"Add","path":"`+scimEnt+`:manager","value":{"value":"`+mgr["id"].(string)+`"}}]}`)
	u, _ = p.Store.User(ctx, id)
	if u.Name != "测试用户" || u.Department != "客房部" || u.Manager != "Manager_1@contoso.com" {
		t.Errorf("path-less replace and manager: %+v", u)
	}
	got := s.want(200, "GET", "/Users/"+id, "")
	if e, _ := got[scimEnt].(map[string]any); e["department"] != "客房部" || e["manager"].(map[string]any)["value"] != mgr["id"] {
		t.Errorf("enterprise extension: %v", got)
	}
	// Disable.
	if off := s.want(200, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[{"op":"Replace","path":"active","value":false}]}`); off["active"] != false {
		t.Errorf("disable: %v", off)
	}
	// Delete: a deactivation; the account and its history stay.
	s.want(204, "DELETE", "/Users/"+mgr["id"].(string), "")
	m, err := p.Store.User(ctx, mgr["id"].(string))
	if err != nil || m.Active {
		t.Errorf("deleted manager: %+v %v", m, err)
	}
	s.want(204, "DELETE", "/Users/"+mgr["id"].(string), "")
	entries, _ := p.Store.AuditSearch(ctx, storageFilter("user.deactivate"), 10)
	if len(entries) != 2 {
		t.Errorf("deactivations audited: %d", len(entries))
	}

	// Errors in the SCIM error schema.
	if e := s.want(404, "GET", "/Users/nobody", ""); !strings.Contains(str(e["schemas"]), scimErrURN) {
		t.Errorf("404: %v", e)
	}
	if e := s.want(400, "GET", "/Users?filter="+url.QueryEscape(`userName eq`), ""); e["scimType"] != "invalidFilter" {
		t.Errorf("bad filter: %v", e)
	}
	if e := s.want(400, "POST", "/Users", `{"schemas":["`+scimUser+`"],"userName":"has space@x.com"}`); e["scimType"] != "invalidValue" {
		t.Errorf("bad login: %v", e)
	}
	if e := s.want(400, "PATCH", "/Users/"+id, `{"schemas":["`+scimPatch+`"],"Operations":[{"op":"Replace","path":"userName","value":"other@contoso.com"}]}`); e["scimType"] != "mutability" {
		t.Errorf("rename: %v", e)
	}
	if u2, _ := p.Store.User(ctx, id); u2.Login != login {
		t.Errorf("a refused patch changed the login: %s", u2.Login)
	}
}

func str(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func storageFilter(action string) model.AuditFilter { return model.AuditFilter{Action: action} }
