package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/training"
)

// TestHRAPI drives HR's script API over HTTP with bearer tokens: a draft
// with problems is stored and named, a good draft is published as needing
// re-acknowledgement (only the signer must sign again), versions are
// listed, accounts are created and updated by login, and non-HR callers
// get 403 in the API's error shape.
func TestHRAPI(t *testing.T) {
	p := startPortal(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	signer := createUser(t, p, "signer", "签过的人", false)
	bystander := createUser(t, p, "bystander", "旁人", false)
	passQuiz(t, p, signer, "dress")
	if _, err := p.Training.Acknowledge(ctx, signer, training.AckRequest{Slug: "dress", Version: 1, Lang: model.LangZH, Signature: signer.Name}); err != nil {
		t.Fatal(err)
	}
	hrTok, empTok := tokenFor(t, p, hr), tokenFor(t, p, bystander)
	c := &http.Client{Timeout: 20 * time.Second}
	do := func(tok, method, path string, body any, want int) map[string]any {
		t.Helper()
		st, obj, err := call(c, p.Base, tok, method, path, body)
		if err != nil || st != want {
			t.Fatalf("%s %s: %d %v %v, want %d", method, path, st, obj, err, want)
		}
		return obj
	}
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}

	// Employees are refused every HR route, in the API's error shape.
	for _, r := range [][2]string{{"POST", "/lessons/dress/drafts"}, {"POST", "/lessons/dress/publish"}, {"GET", "/lessons/dress/versions"}, {"POST", "/users"}} {
		var body any
		if r[0] == "POST" {
			body = map[string]any{}
		}
		obj := do(empTok, r[0], r[1], body, http.StatusForbidden)
		if e, _ := obj["error"].(map[string]any); e["code"] != "forbidden" {
			t.Errorf("%s %s: %v", r[0], r[1], obj)
		}
	}

	// A draft with a duplicate clause id is stored, with its problems.
	broken := strings.Replace(d.Files[model.LangZH], "{#work-attire}", "{#principles}", 1)
	obj := do(hrTok, "POST", "/lessons/dress/drafts", map[string]any{"files": map[string]string{"zh-CN": broken}}, http.StatusOK)
	if obj["valid"] != false || !strings.Contains(obj["problems"].([]any)[0].(map[string]any)["message"].(string), "used twice") {
		t.Fatalf("draft answer: %v", obj)
	}
	obj = do(hrTok, "POST", "/lessons/dress/publish", map[string]any{"kind": "reack", "note": "x"}, http.StatusUnprocessableEntity)
	if e := obj["error"].(map[string]any); e["code"] != "invalid_draft" {
		t.Fatalf("publishing a bad draft: %v", obj)
	}
	obj = do(hrTok, "POST", "/lessons/dress/publish", map[string]any{"kind": "sometimes", "note": "x"}, http.StatusUnprocessableEntity)
	if e := obj["error"].(map[string]any); e["field"] != "kind" {
		t.Fatalf("unknown kind: %v", obj)
	}

	// A good draft, published as needing re-acknowledgement.
	files := map[string]string{
		"zh-CN": d.Files[model.LangZH] + "\n工牌应端正佩戴在左胸前。\n",
		"en":    d.Files[model.LangEN] + "\nWear the badge straight on the left of your chest.\n",
	}
	obj = do(hrTok, "POST", "/lessons/dress/drafts", map[string]any{"files": files}, http.StatusOK)
	if obj["valid"] != true {
		t.Fatalf("draft answer: %v", obj)
	}
	// The change note has a limit (the document's maxLength, found unbounded by make fuzz-api).
	obj = do(hrTok, "POST", "/lessons/dress/publish", map[string]any{"kind": "reack", "note": strings.Repeat("变", 1001)}, http.StatusUnprocessableEntity)
	if e := obj["error"].(map[string]any); e["field"] != "note" {
		t.Fatalf("a note over 1,000 characters: %v", obj)
	}
	obj = do(hrTok, "POST", "/lessons/dress/publish", map[string]any{"kind": "reack", "note": "badge", "grace_days": 7}, http.StatusCreated)
	if obj["version"] != float64(2) || obj["created"] != true {
		t.Fatalf("publish answer: %v", obj)
	}
	if st, _ := p.Training.Standing(ctx, signer, "dress"); st.Code != training.StatusNeedsReack {
		t.Errorf("the signer is %s", st.Code)
	}
	if st, _ := p.Training.Standing(ctx, bystander, "dress"); st.Code != training.StatusNotStarted {
		t.Errorf("the bystander is %s", st.Code)
	}
	do(hrTok, "POST", "/lessons/dress/publish", map[string]any{"kind": "reack", "note": "again"}, http.StatusConflict)
	st, list, err := callList(c, p.Base, hrTok, "/lessons/dress/versions")
	if err != nil || st != http.StatusOK || len(list) != 2 || list[0]["version"] != float64(2) || list[0]["kind"] != "reack" || list[0]["note"] != "badge" || list[0]["author"] != "hr" {
		t.Fatalf("versions: %d %v %v", st, list, err)
	}

	// Accounts by login: created once, then updated; admin is for admins.
	obj = do(hrTok, "POST", "/users?one_time_password=true", map[string]any{"login": "new.hire", "name": "新同事", "department": "前台", "hired": "2026-01-05"}, http.StatusCreated)
	if pw, _ := obj["one_time_password"].(string); len(pw) < 10 {
		t.Fatalf("create user: %v", obj)
	}
	obj = do(hrTok, "POST", "/users", map[string]any{"login": "new.hire", "name": "新同事", "department": "前台", "hired": "2026-01-05"}, http.StatusOK)
	if obj["created"] != false || obj["changed"] != nil {
		t.Errorf("the same user again: %v", obj)
	}
	obj = do(hrTok, "POST", "/users", map[string]any{"login": "new.hire", "name": "新同事", "department": "客房"}, http.StatusOK)
	if ch, _ := obj["changed"].(string); !strings.Contains(ch, `department: "前台" -> "客房"`) {
		t.Errorf("update: %v", obj)
	}
	do(hrTok, "POST", "/users", map[string]any{"login": "boss", "name": "老板", "roles": []string{"admin"}}, http.StatusForbidden)
	do(hrTok, "POST", "/users", map[string]any{"login": "x", "name": "x", "roles": []string{"king"}}, http.StatusUnprocessableEntity)
	u, err := p.Store.UserByLogin(ctx, "new.hire")
	if err != nil || u.Department != "客房" || !u.MustChangePassword || u.Hired.Format(time.DateOnly) != "2026-01-05" {
		t.Errorf("stored user: %+v %v", u, err)
	}
}

// callList GETs an API route that answers a JSON list.
func callList(c *http.Client, base, token, path string) (int, []map[string]any, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1"+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out []map[string]any
	err = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, err
}
