package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	opstorage "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// The tests below sign in through a real OpenID Connect provider: zitadel's
// op package with its example storage and login form, on loopback.

const opClientID, opClientSecret, opPassword = "conduct-portal", "a client secret for the test", "provider password"

// opUsers are the provider's accounts, by id. The provider reads them on
// its own goroutines while a test renames one, so they are copied out
// under a lock.
type opUsers struct {
	mu    sync.Mutex
	users map[string]opstorage.User
}

func (u *opUsers) GetUserByID(id string) *opstorage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	if x, ok := u.users[id]; ok {
		return &x
	}
	return nil
}
func (u *opUsers) GetUserByUsername(name string) *opstorage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, x := range u.users {
		if x.Username == name {
			return &x
		}
	}
	return nil
}
func (u *opUsers) ExampleClientID() string { return "service" }

// rename changes the preferred_username of the provider account id (its
// sub stays), as a provider that lets people or admins edit it does.
func (u *opUsers) rename(id, username string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	x := u.users[id]
	x.Username = username
	u.users[id] = x
}

// opStore is the example storage plus what a company's provider adds: a
// department and groups per user (in userinfo, where many providers put
// them), and the portal's post-logout URL registered for the client.
type opStore struct {
	*opstorage.Storage
	extra      map[string]map[string]any
	postLogout string
}

func (s *opStore) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	for k, v := range s.extra[ui.Subject] {
		ui.AppendClaims(k, v)
	}
	return nil
}

func (s *opStore) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return logoutClient{c, s.postLogout}, nil
}

type logoutClient struct {
	op.Client
	after string
}

func (c logoutClient) PostLogoutRedirectURIs() []string { return []string{c.after} }

type opUser struct {
	login, first, last, department string
	groups                         []string
}

// startProvider serves an OpenID Connect provider on loopback that knows
// users (their subs are u1, u2, ... in order) and the portal at
// portalBase as a client; it returns its issuer and its accounts.
func startProvider(t *testing.T, portalBase string, users ...opUser) (string, *opUsers) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	accounts, extra := &opUsers{users: map[string]opstorage.User{}}, map[string]map[string]any{}
	for i, u := range users {
		id := "u" + string(rune('1'+i))
		accounts.users[id] = opstorage.User{ID: id, Username: u.login, Password: opPassword, FirstName: u.first, LastName: u.last,
			Email: u.login + "@example.com", EmailVerified: true, PreferredLanguage: language.Chinese}
		extra[id] = map[string]any{"department": u.department, "groups": u.groups}
	}
	client := opstorage.WebClient(opClientID, opClientSecret, portalBase+"/auth/oidc/callback")
	store := &opStore{Storage: opstorage.NewStorageWithClients(accounts, map[string]*opstorage.Client{opClientID: client}),
		extra: extra, postLogout: portalBase + "/login"}
	router := exampleop.SetupServer(issuer, store, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	srv := &http.Server{Handler: router}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer, accounts
}

// httpAgent is an HTTP client with a cookie jar that follows redirects and
// remembers where they went.
type httpAgent struct {
	t    *testing.T
	c    *http.Client
	hops []*url.URL
}

func newAgent(t *testing.T) *httpAgent {
	jar, _ := cookiejar.New(nil)
	b := &httpAgent{t: t}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.hops = append(b.hops, req.URL)
		if len(via) > 15 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return b
}

func (b *httpAgent) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "en")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	return res, string(text)
}

// signIn starts at the portal's button, fills in the provider's login form
// and follows the redirects back to the portal.
func (b *httpAgent) signIn(portalBase, login string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.do(http.MethodGet, portalBase+"/login?next=/receipts", nil)
	m := regexp.MustCompile(`href="(/auth/oidc/start[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no sign-on button on the login page:\n%s", page)
	}
	res, form := b.do(http.MethodGet, portalBase+strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	id := res.Request.URL.Query().Get("authRequestID")
	if id == "" || !strings.Contains(form, `name="password"`) {
		b.t.Fatalf("the provider's login form did not show (%s):\n%s", res.Request.URL, form)
	}
	provider := res.Request.URL.Scheme + "://" + res.Request.URL.Host
	return b.do(http.MethodPost, provider+"/login/username", url.Values{"id": {id}, "username": {login}, "password": {opPassword}})
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// ssoPortal starts a portal with sign-on against a provider with users.
func ssoPortal(t *testing.T, env map[string]string, users ...opUser) (*testkit.Portal, string, *opUsers) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	issuer, accounts := startProvider(t, base, users...)
	all := map[string]string{"PORTAL_BASE_URL": base, "PORTAL_OIDC_ISSUER": issuer, "PORTAL_OIDC_CLIENT_ID": opClientID,
		"PORTAL_OIDC_CLIENT_SECRET": opClientSecret, "PORTAL_OIDC_NAME": "TestIdP"}
	for k, v := range env {
		all[k] = v
	}
	p := testkit.StartOn(t, testkit.Config(t, filepath.Join(t.TempDir(), "data"), all), ln, io.Discard)
	return p, issuer, accounts
}

func me(t *testing.T, b *httpAgent, base string) map[string]any {
	t.Helper()
	res, body := b.do(http.MethodGet, base+"/api/v1/me", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/api/v1/me: %d %s", res.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Match mode with roles from the provider's groups and passwords off: an
// existing account signs in, its name, department and roles follow the
// provider (audited, other sessions ended), strangers and deactivated
// accounts are refused with a clear page, and logout ends the session at
// the portal and then at the provider.
func TestSSOMatchRolesAndLogout(t *testing.T) {
	ctx := context.Background()
	p, issuer, _ := ssoPortal(t, map[string]string{"PORTAL_OIDC_PROVISION": "match", "PORTAL_LOCAL_LOGIN": "false",
		"PORTAL_OIDC_ROLES": "portal-managers=manager,portal-hr=hr"},
		opUser{"wang.qiang", "Qiang", "Wang", "客服部", []string{"staff", "portal-managers"}},
		opUser{"zhao.lei", "Lei", "Zhao", "客服部", nil},
		opUser{"gone", "Gone", "Away", "客服部", nil})
	u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "wang.qiang", Name: "王强", Department: "旧部门",
		Roles: []string{model.RoleEmployee}, Password: "an old local password", MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	oldTok, _, err := p.Auth.StartSession(ctx, u, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	gone, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "gone", Name: "离职", Password: "another password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Auth.Deactivate(ctx, gone); err != nil {
		t.Fatal(err)
	}

	b := newAgent(t)
	// Passwords are off: no form, and a posted password is refused.
	res, page := b.do(http.MethodGet, p.Base+"/login", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(page, `name="password"`) || !strings.Contains(page, "Sign in with TestIdP") {
		t.Fatalf("login page with local login off: %d\n%s", res.StatusCode, page)
	}
	token := csrfRe.FindStringSubmatch(page)
	res, page = b.do(http.MethodPost, p.Base+"/login", url.Values{"_csrf": {token[1]}, "login": {"wang.qiang"}, "password": {"an old local password"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "Password login is turned off") {
		t.Fatalf("password login with local login off: %d\n%s", res.StatusCode, page)
	}

	res, page = b.signIn(p.Base, "wang.qiang")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/receipts" || !strings.HasPrefix(res.Request.URL.String(), p.Base) {
		t.Fatalf("sign-in ended at %s with %d:\n%s", res.Request.URL, res.StatusCode, page)
	}
	got := me(t, b, p.Base)
	if got["login"] != "wang.qiang" || got["name"] != "Qiang Wang" || got["department"] != "客服部" {
		t.Errorf("claims not mapped: %v", got)
	}
	if roles, _ := got["roles"].([]any); len(roles) != 1 || roles[0] != model.RoleManager {
		t.Errorf("roles = %v, want [manager] from the group portal-managers", got["roles"])
	}
	if _, _, err := p.Auth.Session(ctx, oldTok); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("the role change left the older session alive: %v", err)
	}
	entries, err := p.Audit.Search(ctx, model.AuditFilter{Actor: "wang.qiang"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Detail)
	}
	if !slices.ContainsFunc(actions, func(a string) bool {
		return strings.HasPrefix(a, "person.update sso: ") && strings.Contains(a, "roles")
	}) ||
		!slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "login sso") }) {
		t.Errorf("role sync or login not audited: %q", actions)
	}

	// Logout: the portal session ends, then the provider's (RP-initiated).
	_, page = b.do(http.MethodGet, p.Base+"/", nil)
	token = csrfRe.FindStringSubmatch(page)
	b.hops = nil
	res, _ = b.do(http.MethodPost, p.Base+"/logout", url.Values{"_csrf": {token[1]}})
	if len(b.hops) < 2 || !strings.HasPrefix(b.hops[0].String(), issuer+"/") || b.hops[0].Query().Get("id_token_hint") == "" {
		t.Fatalf("logout did not go to the provider's end_session_endpoint with the ID token: %v", b.hops)
	}
	if res.StatusCode != http.StatusOK || res.Request.URL.String() != p.Base+"/login" {
		t.Errorf("after the provider's logout: %d at %s", res.StatusCode, res.Request.URL)
	}
	b.hops = nil
	if res, _ := b.do(http.MethodGet, p.Base+"/receipts", nil); res.Request.URL.Path != "/login" {
		t.Errorf("after logout /receipts answered at %s", res.Request.URL)
	}

	// A stranger is refused in match mode, in their language; no account appears.
	res, page = newAgent(t).signIn(p.Base, "zhao.lei")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "(zhao.lei) has no account in this portal") {
		t.Errorf("unknown user: %d\n%s", res.StatusCode, page)
	}
	if _, err := p.Auth.UserByLogin(ctx, "zhao.lei"); err == nil {
		t.Error("match mode created an account")
	}
	// A deactivated account stays out.
	res, page = newAgent(t).signIn(p.Base, "gone")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "Your account is deactivated") {
		t.Errorf("deactivated user: %d\n%s", res.StatusCode, page)
	}
	// A callback without the httpAgent's own sign-on state is refused.
	if res, _ := newAgent(t).do(http.MethodGet, p.Base+"/auth/oidc/callback?state=forged&code=forged", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("forged callback: %d", res.StatusCode)
	}
}

// Just-in-time mode: a first sign-on creates the account from the claims;
// without a role mapping the portal keeps its own roles (employee).
func TestSSOJustInTime(t *testing.T) {
	ctx := context.Background()
	p, _, _ := ssoPortal(t, map[string]string{"PORTAL_OIDC_PROVISION": "jit"},
		opUser{"li.na", "Na", "Li", "前台", []string{"portal-hr"}})
	b := newAgent(t)
	res, page := b.signIn(p.Base, "li.na")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/receipts" {
		t.Fatalf("first sign-in ended at %s with %d:\n%s", res.Request.URL, res.StatusCode, page)
	}
	u, err := p.Auth.UserByLogin(ctx, "li.na")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Na Li" || u.Department != "前台" || u.Email != "li.na@example.com" || !slices.Equal(u.Roles, []string{model.RoleEmployee}) || u.MustChangePassword {
		t.Errorf("account made at first sign-in: %+v", u)
	}
	// Local login is still on: the password form is offered beside the button.
	_, page = newAgent(t).do(http.MethodGet, p.Base+"/login", nil)
	if !strings.Contains(page, `name="password"`) || !strings.Contains(page, "Sign in with TestIdP") {
		t.Errorf("login page with both ways in:\n%s", page)
	}
	// Signing in again finds the same account.
	if res, _ := newAgent(t).signIn(p.Base, "li.na"); res.StatusCode != http.StatusOK {
		t.Errorf("second sign-in: %d", res.StatusCode)
	}
	if n, err := p.Store.UserCount(ctx); err != nil || n != 2 { // admin and li.na
		t.Errorf("users after two sign-ins: %d %v", n, err)
	}
}

// auditLines returns "action target detail" of the audit entries by actor.
func auditLines(t *testing.T, p *testkit.Portal, actor string) []string {
	t.Helper()
	entries, err := p.Audit.Search(context.Background(), model.AuditFilter{Actor: actor}, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+" "+e.Target+" "+e.Detail)
	}
	return out
}

func hasPrefix(lines []string, prefix string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// An account is bound to the provider's (issuer, sub) at its first
// sign-on. Afterwards a provider account whose preferred_username becomes
// another person's login still signs into its own account (the login is
// left alone, and that is audited), a rename to a free login renames the
// account (audited; its receipts still verify), and a second provider
// account claiming the bound account's login is refused.
func TestSSOBoundToSubject(t *testing.T) {
	ctx := context.Background()
	p, issuer, provider := ssoPortal(t, map[string]string{"PORTAL_OIDC_PROVISION": "match"},
		opUser{"wang.qiang", "Qiang", "Wang", "客服部", nil}, // sub u1
		opUser{"zhou.min", "Min", "Zhou", "客服部", nil})     // sub u2
	wang, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "wang.qiang", Name: "王强", Password: "wang's local password"})
	if err != nil {
		t.Fatal(err)
	}
	// li.wei has a portal account and no provider account: the target.
	li, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "li.wei", Name: "李伟", Password: "li's local password"})
	if err != nil {
		t.Fatal(err)
	}
	signedInAs := func(b *httpAgent, res *http.Response, page, login string) {
		t.Helper()
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/receipts" {
			t.Fatalf("sign-in ended at %s with %d:\n%s", res.Request.URL, res.StatusCode, page)
		}
		if got := me(t, b, p.Base); got["login"] != login || got["name"] != "Qiang Wang" {
			t.Fatalf("signed in as %v, want %s (Qiang Wang)", got, login)
		}
	}

	// First sign-on: matched by login, bound to (issuer, u1).
	b := newAgent(t)
	res, page := b.signIn(p.Base, "wang.qiang")
	signedInAs(b, res, page, "wang.qiang")
	link, err := p.Store.SSOLinkOfUser(ctx, wang.ID)
	if err != nil || link.Issuer != issuer || link.Sub != "u1" {
		t.Fatalf("binding after the first sign-on: %+v %v", link, err)
	}
	if lines := auditLines(t, p, "wang.qiang"); !hasPrefix(lines, "sso.bind wang.qiang sso: "+issuer+" sub u1") {
		t.Errorf("binding not audited: %q", lines)
	}
	wang, _ = p.Store.User(ctx, wang.ID)
	testkit.Complete(t, p.Training, wang, "dress") // a receipt naming wang.qiang

	// The provider account now claims li.wei's login: it gets its own
	// account, li.wei's is untouched, and the refusal to rename is recorded.
	provider.rename("u1", "li.wei")
	b = newAgent(t)
	res, page = b.signIn(p.Base, "li.wei")
	signedInAs(b, res, page, "wang.qiang")
	if got, err := p.Store.User(ctx, li.ID); err != nil || got.Login != "li.wei" || got.Name != "李伟" {
		t.Errorf("li.wei's account after the takeover attempt: %+v %v", got, err)
	}
	if _, err := p.Store.SSOLinkOfUser(ctx, li.ID); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("li.wei's account got bound: %v", err)
	}
	if lines := auditLines(t, p, "wang.qiang"); !hasPrefix(lines, "sso.login_taken wang.qiang sso: the provider's login li.wei is another account's") {
		t.Errorf("the taken login claim is not audited: %q", lines)
	}
	if !strings.Contains(p.LogText(), "sign-on login claim belongs to another account") {
		t.Error("the taken login claim is not logged")
	}

	// A rename to a free login renames the account, audited.
	provider.rename("u1", "qiang.wang")
	b = newAgent(t)
	res, page = b.signIn(p.Base, "qiang.wang")
	signedInAs(b, res, page, "qiang.wang")
	got, err := p.Store.User(ctx, wang.ID)
	if err != nil || got.Login != "qiang.wang" || !slices.Equal(got.FormerLogins, []string{"wang.qiang"}) {
		t.Fatalf("after the rename: %+v %v", got, err)
	}
	if _, err := p.Store.UserByLogin(ctx, "wang.qiang"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the old login still finds an account: %v", err)
	}
	if lines := auditLines(t, p, "qiang.wang"); !hasPrefix(lines, "person.rename qiang.wang sso: login wang.qiang -> qiang.wang") {
		t.Errorf("rename not audited: %q", lines)
	}
	// The receipt signed as wang.qiang still verifies.
	rep, err := p.Training.Verify(ctx)
	if err != nil || len(rep.Problems) != 0 || rep.Receipts != 1 {
		t.Errorf("verify after the rename: %+v %v", rep, err)
	}

	// Another provider account claiming the bound account's login is
	// refused in the person's language, and gets no session.
	provider.rename("u1", "u1-elsewhere")
	provider.rename("u2", "qiang.wang")
	b = newAgent(t)
	res, page = b.signIn(p.Base, "qiang.wang")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "The portal account qiang.wang is already linked to another TestIdP account") {
		t.Fatalf("a second provider account claiming a bound login: %d\n%s", res.StatusCode, page)
	}
	if res, _ := b.do(http.MethodGet, p.Base+"/api/v1/me", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the refused sign-on has a session: %d", res.StatusCode)
	}
	if _, err := p.Store.SSOLinkBySubject(ctx, issuer, "u2"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the refused provider account got bound: %v", err)
	}
	if lines := auditLines(t, p, "qiang.wang"); !hasPrefix(lines, "login.failed qiang.wang sso: bound to another TestIdP account (sub u2)") {
		t.Errorf("refusal not audited: %q", lines)
	}
}
