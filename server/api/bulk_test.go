package api_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestBulkAPI: POST /bulk-actions with dry_run previews without changing
// anything, applies with one audit entry, answers 422 with the field for
// bad input (changing nothing), and its undo restores exactly, once.
// Every answer is checked against the OpenAPI document.
func TestBulkAPI(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	users := map[string]*model.User{}
	for _, nu := range []auth.NewUser{
		{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}},
		{Login: "root", Name: "管理员", Roles: []string{model.RoleAdmin}},
		{Login: "mgr", Name: "经理", Roles: []string{model.RoleManager}},
		{Login: "c1", Name: "丙一", Department: "前台", Manager: "mgr"},
		{Login: "c2", Name: "丙二", Department: "前台", Manager: "mgr"},
		{Login: "d1", Name: "丁一", Department: "后勤"},
	} {
		nu.Password = "bulk api password"
		u, err := p.Auth.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		users[nu.Login] = u
	}
	tok := func(u *model.User, scopes ...string) string {
		by := users["root"]
		if !u.HasRole(model.RoleHR) {
			by = u // a personal token
		}
		s, _, err := p.Auth.CreateToken(ctx, by, u, auth.TokenSpec{Name: "bulk " + u.Login, Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hrTok, readOnly := tok(users["hr"], auth.ScopeUsersWrite, auth.ScopeUsersRead), tok(users["hr"], auth.ScopeUsersRead)
	empTok, mgrTok := tok(users["c1"], auth.ScopeLearner), tok(users["mgr"], auth.ScopeReportsRead)
	s := newSession(t, p.Base)
	exceptions := func() map[string]model.Exception {
		out := map[string]model.Exception{}
		for _, l := range []string{"c1", "c2", "d1"} {
			u, err := p.Store.UserByLogin(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			out[l] = u.Exceptions["attendance"]
		}
		return out
	}
	bulkAudits := func() []model.AuditEntry {
		es, err := p.Audit.Search(ctx, model.AuditFilter{Action: "bulk."}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	before := exceptions()

	// The preview names who and who not, and changes nothing.
	req := map[string]any{"lesson": "attendance", "kind": "extend", "logins": []string{"c1", "c2,d1", "ghost"}, "until": time.Now().AddDate(1, 0, 0).Format(time.DateOnly),
		"reason": "年会", "dry_run": true}
	prev := s.object(hrTok, "POST", "/bulk-actions", req, 200)
	if prev["count"] != 3.0 || prev["id"] != "" || len(prev["skipped"].([]any)) != 1 ||
		prev["skipped"].([]any)[0].(map[string]any)["reason"] != "unknown" {
		t.Fatalf("dry run: %v", prev)
	}
	if got := exceptions(); !sameMap(got, before) || len(bulkAudits()) != 0 {
		t.Fatal("the dry run changed something")
	}

	// Bad input: 422 with the field, nothing changed.
	for field, bad := range map[string]map[string]any{
		"department": {"lesson": "attendance", "kind": "exempt", "department": "无此部门", "reason": "x"},
		"logins":     {"lesson": "attendance", "kind": "exempt", "logins": []string{" ", ""}, "reason": "x"},
		"until":      {"lesson": "attendance", "kind": "extend", "logins": []string{"c1"}, "until": "2026-02-30", "reason": "x"},
		"days":       {"lesson": "attendance", "kind": "extend", "logins": []string{"c1"}, "days": 0, "reason": "x"},
		"reason":     {"lesson": "attendance", "kind": "exempt", "logins": []string{"c1"}, "reason": ""},
		"kind":       {"lesson": "attendance", "kind": "remove", "logins": []string{"c1"}, "reason": "x"},
		"lesson":     {"lesson": "nope", "kind": "exempt", "logins": []string{"c1"}, "reason": "x"},
	} {
		e := s.object(hrTok, "POST", "/bulk-actions", bad, 422)
		if got := e["error"].(map[string]any)["field"]; got != field {
			t.Errorf("bad %s: field %v (%v)", field, got, e)
		}
	}
	if got := exceptions(); !sameMap(got, before) || len(bulkAudits()) != 0 {
		t.Fatal("bad input changed something")
	}

	// Not HR, or a token without users:write: 403, nothing changed.
	req["dry_run"] = false
	for _, tk := range []string{empTok, mgrTok, readOnly} {
		s.do(tk, "POST", "/bulk-actions", req, 403)
	}
	if got := exceptions(); !sameMap(got, before) {
		t.Fatal("a refused call changed something")
	}

	res := s.object(hrTok, "POST", "/bulk-actions", req, 201)
	id, _ := res["id"].(string)
	if res["count"] != 3.0 || len(id) != 32 {
		t.Fatalf("apply: %v", res)
	}
	after := exceptions()
	for _, l := range []string{"c1", "c2", "d1"} {
		if after[l].Until.IsZero() || after[l].Reason != "年会" {
			t.Errorf("%s not extended: %+v", l, after[l])
		}
	}
	if es := bulkAudits(); len(es) != 1 || es[0].Action != "bulk.extend" || !strings.Contains(es[0].Detail, "3 people") || !strings.HasSuffix(es[0].Detail, "logins: c1,c2,d1") {
		t.Fatalf("audit: %+v", es)
	}
	// Again: everyone is due on that date already, so nobody changes.
	if again := s.object(hrTok, "POST", "/bulk-actions", req, 200); again["count"] != 0.0 || again["id"] != "" {
		t.Errorf("the same extension again: %v", again)
	}

	for _, tk := range []string{empTok, mgrTok, readOnly} {
		s.do(tk, "POST", "/bulk-actions/"+id+"/undo", nil, 403)
	}
	s.do(hrTok, "POST", "/bulk-actions/0123456789abcdef0123456789abcdef/undo", nil, 404)
	u := s.object(hrTok, "POST", "/bulk-actions/"+id+"/undo", nil, 200)
	if len(u["restored"].([]any)) != 3 || len(u["changed"].([]any)) != 0 {
		t.Fatalf("undo: %v", u)
	}
	if got := exceptions(); !sameMap(got, before) {
		t.Fatalf("after undo: %+v, want %+v", got, before)
	}
	if e := s.object(hrTok, "POST", "/bulk-actions/"+id+"/undo", nil, 409); errCode(e) != "already_undone" {
		t.Errorf("second undo: %v", e)
	}
	if es := bulkAudits(); len(es) != 2 || es[0].Action != "bulk.undo" {
		t.Errorf("audit after undo: %+v", es)
	}
}

func sameMap(a, b map[string]model.Exception) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y := b[k]
		if x.Exempt != y.Exempt || x.Assigned != y.Assigned || !x.Until.Equal(y.Until) || x.Reason != y.Reason || x.By != y.By || !x.At.Equal(y.At) {
			return false
		}
	}
	return true
}
