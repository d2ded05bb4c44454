package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Who calls a route in the authorization table.
var roles = []string{"anon", "employee", "manager", "other-manager", "hr", "admin"}

// want is the status each role gets from a route, in the order of roles.
// 303 from a page means "sent to log in" for anon and a redirect to the
// next step for others; 404 for someone else's object means "not yours".
type want [6]int

// routeTable is the explicit list of every route and who may use it. The
// test fails when a registered route has no row, so a new route cannot
// slip in unreviewed. Object routes use the employee's own attempt and
// receipt: everybody else must get 404.
var routeTable = map[string]want{
	"GET /healthz": {200, 200, 200, 200, 200, 200},
	"GET /readyz":  {200, 200, 200, 200, 200, 200},
	// Loopback callers without X-Forwarded-For (metrics_test.go covers the rest).
	"GET /metrics": {200, 200, 200, 200, 200, 200},
	// Single sign-on is not set up in this portal (sso_test.go covers it).
	"GET /auth/oidc/start":    {404, 404, 404, 404, 404, 404},
	"GET /auth/oidc/callback": {404, 404, 404, 404, 404, 404},
	"GET /static/:name":       {200, 200, 200, 200, 200, 200},
	"GET /favicon.ico":        {301, 301, 301, 301, 301, 301},
	"GET /login":              {200, 303, 303, 303, 303, 303},
	"POST /login":             {401, 401, 401, 401, 401, 401},
	"POST /logout":            {303, 303, 303, 303, 303, 303},
	"POST /lang":              {303, 303, 303, 303, 303, 303},
	"GET /verify":             {200, 200, 200, 200, 200, 200},
	"GET /verify/:code":       {404, 404, 404, 404, 404, 404},
	"GET /login/mfa":          {303, 303, 303, 303, 303, 303},
	"POST /login/mfa":         {303, 303, 303, 303, 303, 303},
	"GET /mfa/setup":          {303, 200, 200, 200, 200, 200},
	"POST /mfa/setup/start":   {303, 303, 303, 303, 303, 303},
	"POST /mfa/setup":         {303, 303, 303, 303, 303, 303},
	// Without a second factor there are no codes to renew or factor to turn off: back to set-up.
	"POST /mfa/codes":              {303, 303, 303, 303, 303, 303},
	"POST /mfa/off":                {303, 303, 303, 303, 303, 303},
	"GET /password":                {303, 200, 200, 200, 200, 200},
	"POST /password":               {303, 422, 422, 422, 422, 422},
	"GET /":                        {303, 200, 200, 200, 200, 200},
	"GET /lessons/:slug":           {303, 200, 200, 200, 200, 200},
	"POST /lessons/:slug/read":     {303, 303, 303, 303, 303, 303},
	"POST /lessons/:slug/attempts": {303, 303, 303, 303, 303, 303},
	"GET /attempts/:id":            {303, 200, 404, 404, 404, 404},
	// The table posts confirm=1 ("submit anyway" on a quiz left blank; the
	// question asked first has its own tests): the owner's attempt is graded,
	// everyone else learns nothing (404).
	"POST /attempts/:id":              {303, 303, 404, 404, 404, 404},
	"GET /lessons/:slug/done":         {303, 200, 303, 303, 303, 303},
	"GET /lessons/:slug/acknowledge":  {303, 303, 303, 303, 303, 303},
	"POST /lessons/:slug/acknowledge": {303, 303, 303, 303, 303, 303},
	"GET /receipts":                   {303, 200, 200, 200, 200, 200},
	"GET /receipts/:id":               {303, 200, 404, 404, 404, 404},
	"POST /certificate":               {303, 303, 303, 303, 303, 303},
	"GET /certificate":                {303, 404, 404, 404, 404, 404},
	// Managers see their own team; HR sees everyone (a team needs ?manager=
	// or ?department=, else 404 or a redirect to the organisation view).
	"GET /team":                        {303, 403, 200, 200, 303, 403},
	"GET /team/export.:format":         {303, 403, 200, 200, 404, 403},
	"GET /team/remind":                 {303, 403, 200, 200, 404, 403},
	"POST /team/remind":                {303, 403, 303, 303, 404, 403},
	"GET /people/:login":               {303, 403, 200, 403, 200, 403},
	"POST /people/:login/remind":       {303, 403, 303, 403, 303, 403},
	"GET /organisation":                {303, 403, 403, 403, 200, 403},
	"GET /organisation/export.:format": {303, 403, 403, 403, 200, 403},
	"GET /notifications":               {303, 200, 200, 200, 200, 200},
	"POST /notifications/read":         {303, 303, 303, 303, 303, 303},
	// API tokens: one's own (an empty form is refused); an admin's of all.
	// Own tokens: not for an employee alone unless PORTAL_EMPLOYEE_TOKENS is on.
	"GET /tokens":                   {303, 403, 200, 200, 200, 200},
	"POST /tokens":                  {303, 403, 422, 422, 422, 422},
	"POST /tokens/:id/revoke":       {303, 404, 404, 404, 404, 404},
	"GET /admin/tokens":             {303, 403, 403, 403, 403, 200},
	"POST /admin/tokens":            {303, 403, 403, 403, 403, 422},
	"POST /admin/tokens/:id/revoke": {303, 403, 403, 403, 403, 404},
	// Settings: admins only; this portal has no mail server, so the test
	// message is refused with the reason (422).
	"GET /admin/settings":              {303, 403, 403, 403, 403, 200},
	"POST /admin/settings/test":        {303, 403, 403, 403, 403, 422},
	"GET /api/v1/reports/team":         {401, 403, 200, 200, 404, 403},
	"GET /api/v1/reports/organisation": {401, 403, 403, 403, 200, 403},
	// Without format the exports refuse the input, after who may see them.
	"GET /api/v1/reports/team/export":         {401, 403, 422, 422, 404, 403},
	"GET /api/v1/reports/organisation/export": {401, 403, 403, 403, 422, 403},
	"GET /api/v1/openapi.json":                {200, 200, 200, 200, 200, 200},
	"GET /api/v1/me":                          {401, 200, 200, 200, 200, 200},
	"GET /api/v1/me/lessons":                  {401, 200, 200, 200, 200, 200},
	"GET /api/v1/me/receipts":                 {401, 200, 200, 200, 200, 200},
	// An empty body has no new password: refused (422), nothing changed.
	"POST /api/v1/me/password":            {401, 422, 422, 422, 422, 422},
	"GET /api/v1/lessons/:slug":           {401, 200, 200, 200, 200, 200},
	"POST /api/v1/lessons/:slug/read":     {401, 200, 200, 200, 200, 200},
	"POST /api/v1/lessons/:slug/attempts": {401, 409, 201, 201, 201, 201},
	// {"answers": {}} leaves every question blank: 422 "unanswered".
	"POST /api/v1/attempts/:id/submit": {401, 422, 404, 404, 404, 404},
	// The body signs as "x", nobody's name: refused (422) first, for a
	// repeat too, so each signed-in role is seen reaching the handler.
	"POST /api/v1/lessons/:slug/acknowledgements": {401, 422, 422, 422, 422, 422},
	"POST /api/v1/lessons/:slug/drafts":           {401, 403, 403, 403, 422, 422},
	"POST /api/v1/lessons/:slug/publish":          {401, 403, 403, 403, 422, 422},
	"GET /api/v1/lessons/:slug/versions":          {401, 403, 403, 403, 200, 200},
	"GET /api/v1/lessons/:slug/analytics":         {401, 403, 403, 403, 200, 200},
	"GET /api/v1/lessons/:slug/draft":             {401, 403, 403, 403, 200, 200},
	"GET /api/v1/lessons":                         {401, 403, 403, 403, 200, 200},
	"POST /api/v1/users":                          {401, 403, 403, 403, 422, 422},
	// People for an HR system's sync; :login is the bystander "target".
	"GET /api/v1/users":                    {401, 403, 403, 403, 200, 200},
	"GET /api/v1/users/:login":             {401, 403, 403, 403, 200, 200},
	"PUT /api/v1/users/:login":             {401, 403, 403, 403, 422, 422},
	"POST /api/v1/users/sync":              {401, 403, 403, 403, 422, 422},
	"POST /api/v1/users/:login/deactivate": {401, 403, 403, 403, 200, 200},
	// Bulk actions: {} is refused (422); :id names no action.
	"POST /api/v1/bulk-actions":          {401, 403, 403, 403, 422, 422},
	"POST /api/v1/bulk-actions/:id/undo": {401, 403, 403, 403, 404, 404},
	// Exports: receipts are HR's, the audit log HR's and admins'.
	"GET /api/v1/receipts":    {401, 403, 403, 403, 200, 403},
	"GET /api/v1/audit":       {401, 403, 403, 403, 200, 200},
	"GET /api/v1/checkpoints": {401, 403, 403, 403, 200, 200},
	// The HR area: hr and admin only. Empty forms are refused (422) and
	// change nothing; :login is a person made for the test.
	"GET /hr/":                           {303, 403, 403, 403, 200, 303},
	"GET /hr/lessons":                    {303, 403, 403, 403, 200, 200},
	"GET /hr/lessons/:slug/edit":         {303, 403, 403, 403, 200, 200},
	"POST /hr/lessons/:slug/edit":        {303, 403, 403, 403, 422, 422},
	"POST /hr/lessons/:slug/preview":     {303, 403, 403, 403, 422, 422},
	"GET /hr/lessons/:slug/quiz":         {303, 403, 403, 403, 200, 200},
	"POST /hr/lessons/:slug/quiz":        {303, 403, 403, 403, 422, 422}, // an empty form: no questions
	"POST /hr/lessons/:slug/discard":     {303, 403, 403, 403, 303, 303},
	"GET /hr/lessons/:slug/publish":      {303, 403, 403, 403, 303, 303},
	"POST /hr/lessons/:slug/publish":     {303, 403, 403, 403, 303, 303}, // no draft: back to the editor
	"GET /hr/lessons/:slug/history":      {303, 403, 403, 403, 200, 200},
	"GET /hr/lessons/:slug/analytics":    {303, 403, 403, 403, 200, 200},
	"GET /hr/lessons/:slug/diff":         {303, 403, 403, 403, 200, 200},
	"POST /hr/lessons/:slug/restore":     {303, 403, 403, 403, 404, 404},
	"GET /hr/audit":                      {303, 403, 403, 403, 200, 200},
	"GET /hr/audit.csv":                  {303, 403, 403, 403, 200, 200},
	"GET /hr/people":                     {303, 403, 403, 403, 200, 200},
	"GET /hr/people/new":                 {303, 403, 403, 403, 200, 200},
	"POST /hr/people":                    {303, 403, 403, 403, 422, 422},
	"GET /hr/people/import":              {303, 403, 403, 403, 200, 200},
	"GET /hr/people/import/template.csv": {303, 403, 403, 403, 200, 200},
	"POST /hr/people/import":             {303, 403, 403, 403, 422, 422},
	"GET /hr/people/:login":              {303, 403, 403, 403, 200, 200},
	"POST /hr/people/:login":             {303, 403, 403, 403, 422, 422},
	"POST /hr/people/:login/deactivate":  {303, 403, 403, 403, 303, 303},
	"POST /hr/people/:login/password":    {303, 403, 403, 403, 200, 200},
	// Turned off by HR first (deactivate sorts before it), so on again.
	"POST /hr/people/:login/reactivate": {303, 403, 403, 403, 303, 303},
	// An admin's only; the bystander has no second step: back to the page.
	"POST /hr/people/:login/mfa/off":    {303, 403, 403, 403, 403, 303},
	"POST /hr/people/:login/exceptions": {303, 403, 403, 403, 404, 404},
	// Bulk actions: an empty form is refused; :id names no action.
	"GET /hr/bulk":           {303, 403, 403, 403, 200, 200},
	"POST /hr/bulk":          {303, 403, 403, 403, 422, 422},
	"GET /hr/bulk/:id":       {303, 403, 403, 403, 404, 404},
	"POST /hr/bulk/:id/undo": {303, 403, 403, 403, 404, 404},
	// Invitations: :token names none, so the link page is 404 to all; HR
	// re-sends or revokes a person's (no mail server here: stored, unsent).
	"GET /invite/:token":                   {404, 404, 404, 404, 404, 404},
	"POST /invite/:token":                  {404, 404, 404, 404, 404, 404},
	"POST /hr/people/:login/invite":        {303, 403, 403, 403, 303, 303},
	"POST /hr/people/:login/invite/revoke": {303, 403, 403, 403, 303, 303},
	// SCIM takes bearer tokens with the scim scope only (scim_test.go in
	// cli): a session is no credential there.
	"GET /scim/v2/*":    {401, 401, 401, 401, 401, 401},
	"POST /scim/v2/*":   {401, 401, 401, 401, 401, 401},
	"PUT /scim/v2/*":    {401, 401, 401, 401, 401, 401},
	"PATCH /scim/v2/*":  {401, 401, 401, 401, 401, 401},
	"DELETE /scim/v2/*": {401, 401, 401, 401, 401, 401},
	// Channels: an empty form is refused; :id names no channel.
	"GET /hr/channels":             {303, 403, 403, 403, 200, 200},
	"GET /hr/channels/new":         {303, 403, 403, 403, 200, 200},
	"POST /hr/channels":            {303, 403, 403, 403, 422, 422},
	"GET /hr/channels/deliveries":  {303, 403, 403, 403, 200, 200},
	"GET /hr/channels/:id":         {303, 403, 403, 403, 404, 404},
	"POST /hr/channels/:id":        {303, 403, 403, 403, 404, 404},
	"POST /hr/channels/:id/delete": {303, 403, 403, 403, 404, 404},
	"POST /hr/channels/:id/test":   {303, 403, 403, 403, 404, 404},
}

// caller is one role's HTTP client.
type caller struct {
	c    *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

func newCaller(t *testing.T, base, login, password string) *caller {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &caller{c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cl.csrf = cl.token(t, base+"/login")
	if login != "" {
		res, err := cl.c.PostForm(base+"/login", url.Values{"_csrf": {cl.csrf}, "login": {login}, "password": {password}})
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("log in %s: %v %v", login, res, err)
		}
		res.Body.Close()
		cl.csrf = cl.token(t, base+"/")
	}
	return cl
}

func (cl *caller) token(t *testing.T, u string) string {
	t.Helper()
	res, err := cl.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := csrfMeta.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on %s", u)
	}
	return string(m[1])
}

// call sends a request with the caller's credentials and CSRF token, and
// an empty body of the route's kind.
func (cl *caller) call(t *testing.T, method, u string) int {
	t.Helper()
	var body io.Reader
	req, _ := http.NewRequest(method, u, nil)
	if method == http.MethodPost || method == http.MethodPut {
		if strings.Contains(u, "/api/") {
			body = strings.NewReader(`{}`)
			switch {
			case strings.HasSuffix(u, "/submit"):
				body = strings.NewReader(`{"answers": {}}`)
			case strings.HasSuffix(u, "/acknowledgements"):
				body = strings.NewReader(`{"version": 1, "signature": "x"}`)
			}
			req, _ = http.NewRequest(method, u, body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", cl.csrf)
		} else {
			// confirm=1: the table is about who may act, not the question asked first.
			form := url.Values{"_csrf": {cl.csrf}, "confirm": {"1"}}
			if strings.HasSuffix(u, "/lang") {
				form.Set("lang", "en")
			}
			req, _ = http.NewRequest(method, u, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	res, err := cl.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestRouteAuthorization(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "role test password"
	users := map[string]*model.User{}
	for role, spec := range map[string]auth.NewUser{
		"employee":      {Login: "emp", Name: "员工", Roles: []string{model.RoleEmployee}, Manager: "mgr"},
		"manager":       {Login: "mgr", Name: "经理", Roles: []string{model.RoleManager}},
		"other-manager": {Login: "mgr2", Name: "另一经理", Roles: []string{model.RoleManager}},
		"hr":            {Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		"admin":         {Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
	} {
		spec.Password = pw
		u, err := p.Auth.CreateUser(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		users[role] = u
	}
	// The employee's own objects: a passed attempt and a receipt.
	emp := users["employee"]
	receipt := testkit.Complete(t, p.Training, emp, "dress")
	attempt, err := p.Training.StartAttempt(ctx, emp, "grooming", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	// HR's people actions (deactivate, reset) act on a bystander, so the
	// callers' own accounts stay usable.
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "target", Name: "对象", Password: pw}); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer(":slug", "dress", ":code", "ZZZZ-ZZZZ-ZZZZ", ":login", "emp", ":format", "csv")
	hrFill := strings.NewReplacer(":slug", "dress", ":login", "target")
	pathFor := func(route string) string {
		switch {
		case strings.Contains(route, "/static/:name"):
			return strings.Replace(route, ":name", staticName(t, p), 1)
		case strings.Contains(route, "attempts/:id"):
			return strings.Replace(route, ":id", attempt.ID, 1)
		case strings.Contains(route, "receipts/:id"):
			return strings.Replace(route, ":id", receipt.ID, 1)
		case strings.HasPrefix(route, "/hr/"), strings.HasPrefix(route, "/api/v1/users/"):
			return hrFill.Replace(route)
		}
		return fill.Replace(route)
	}

	callers := map[string]*caller{"anon": newCaller(t, p.Base, "", "")}
	for role, u := range users {
		callers[role] = newCaller(t, p.Base, u.Login, pw)
	}
	seen := map[string]bool{}
	var keys []string
	for _, r := range p.App.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "CONNECT" || r.Method == "TRACE" {
			continue
		}
		key := r.Method + " " + r.Path
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	// GETs first, then the rest: no GET may change what is stored.
	sort.Slice(keys, func(i, j int) bool {
		gi, gj := strings.HasPrefix(keys[i], "GET "), strings.HasPrefix(keys[j], "GET ")
		if gi != gj {
			return gi
		}
		return keys[i] < keys[j]
	})
	before := digest(t, p)
	checkedGETs := false
	for _, key := range keys {
		if !checkedGETs && !strings.HasPrefix(key, "GET ") {
			checkedGETs = true
			if after := digest(t, p); after != before {
				t.Errorf("GET requests changed stored data")
			}
		}
		row, ok := routeTable[key]
		if !ok {
			var got []int
			method, route, _ := strings.Cut(key, " ")
			for _, role := range roles {
				got = append(got, callers[role].call(t, method, p.Base+pathFor(route)))
			}
			t.Errorf("route %s has no row in the authorization table (it answers %v)", key, got)
			continue
		}
		method, route, _ := strings.Cut(key, " ")
		for i, role := range roles {
			// The employee's POST /logout would end the session the later
			// rows need; it is checked last, below.
			if route == "/logout" && role != "anon" {
				continue
			}
			if got := callers[role].call(t, method, p.Base+pathFor(route)); got != row[i] {
				t.Errorf("%s as %s: %d, want %d", key, role, got, row[i])
			}
		}
	}
	for key := range routeTable {
		if !seen[key] {
			t.Errorf("the table lists %s, which is not registered", key)
		}
	}
	for _, role := range roles[1:] {
		if got := callers[role].call(t, http.MethodPost, p.Base+"/logout"); got != http.StatusSeeOther {
			t.Errorf("logout as %s: %d", role, got)
		}
		if got := callers[role].call(t, http.MethodGet, p.Base+"/"); got != http.StatusSeeOther {
			t.Errorf("after logout, %s still reaches /: %d", role, got)
		}
	}
}

var staticRe = regexp.MustCompile(`/static/(app\.[0-9a-f]+\.css)`)

func staticName(t *testing.T, p *testkit.Portal) string {
	t.Helper()
	res, err := http.Get(p.Base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := staticRe.FindSubmatch(body)
	if m == nil {
		t.Fatal("no stylesheet link on /login")
	}
	return string(m[1])
}

// digest hashes every stored document except sessions (whose last-seen time
// a visit refreshes) and the audit log.
func digest(t *testing.T, p *testkit.Portal) string {
	t.Helper()
	ctx := context.Background()
	// The item statistics of earlier submits are written a moment later
	// (storage/item_stats_buffer.go): write them now, so only requests count.
	if err := p.Store.FlushItemStats(ctx); err != nil {
		t.Fatal(err)
	}
	// So is the progress of earlier quiz starts and submits
	// (storage/progress_behind.go).
	if err := p.Store.FlushProgress(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := p.DB.Database.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		if name == "sessions" || name == "audit" {
			continue
		}
		cur, err := p.DB.Database.Collection(name).Find(ctx, bson.M{}, options.Find().SetSort(bson.M{"_id": 1}))
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			h.Write([]byte(name))
			h.Write(cur.Current)
		}
		cur.Close(ctx)
	}
	return hex.EncodeToString(h.Sum(nil))
}
