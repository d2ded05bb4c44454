package api_test

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestDraftOverMarkdownLimits: the probe's text is refused with a field
// error naming the language, and nothing is stored; a text within the
// limits is stored as before.
func TestDraftOverMarkdownLimits(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "content", Scopes: []string{auth.ScopeContentWrite, auth.ScopeContentRead}})
	if err != nil {
		t.Fatal(err)
	}
	file := "---\nslug: dress\ntitle: 着装\nsummary: s\norder: 1\ndue_days: 7\n---\n\n## 一 {#one}\n\n"
	for name, body := range map[string]string{
		"[a]( x20000": strings.Repeat("[a](", 20000),
		"> x100000":   strings.Repeat(">", 100000), // 300,000, JSON-escaped, is past the 1 MB body limit
	} {
		raw, _ := json.Marshal(map[string]any{"files": map[string]string{"zh-CN": file + body}})
		st, out := call(t, p, tok, "POST", "/lessons/dress/drafts", "application/json", string(raw))
		if st != 422 || errCode(out) != "markdown_limit" || errField(out) != "files.zh-CN" {
			t.Fatalf("%s: %d %v", name, st, out)
		}
	}
	if st, out := call(t, p, tok, "GET", "/lessons/dress/draft", "", ""); st != 404 && st != 200 || strings.Contains(out["files"].(map[string]any)["zh-CN"].(string), "[a](") {
		t.Fatalf("a refused text was stored: %d %v", st, out)
	}
	raw, _ := json.Marshal(map[string]any{"files": map[string]string{"zh-CN": file + "正文 [链接](https://example.com)。\n"}})
	if st, out := call(t, p, tok, "POST", "/lessons/dress/drafts", "application/json", string(raw)); st != 200 {
		t.Fatalf("a plain draft: %d %v", st, out)
	}
}
