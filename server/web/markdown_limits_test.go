package web_test

import (
	"context"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestEditorRefusesTextOverTheLimits: saving the probe's text answers 422
// with the reason in the reader's language and the text kept in the form;
// nothing is stored. Its preview is refused the same way, at once.
func TestEditorRefusesTextOverTheLimits(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	const pw = "editor test password"
	if _, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)
	text := "---\nslug: dress\ntitle: 着装\nsummary: s\norder: 1\ndue_days: 7\n---\n\n## 一 {#one}\n\n" + strings.Repeat("[a](", 20000)
	st, body := hr.post(t, p.Base+"/hr/lessons/dress/edit?lang=zh-CN", url.Values{"do": {"save"}, "text": {text}, "quiz": {""}})
	if st != 422 || !strings.Contains(body, "方括号“[”最多 64 个。未保存。") || !strings.Contains(body, "从第 11 行开始的段落") || !strings.Contains(body, "[a]([a](") {
		t.Fatalf("save over the limits: %d %.2000s", st, body[strings.Index(body, "<main"):])
	}
	if d, err := p.Store.Draft(context.Background(), "dress"); err == nil && strings.Contains(d.Files["zh-CN"], "[a](") {
		t.Fatal("the refused text was stored")
	}
	st, body = hr.post(t, p.Base+"/hr/lessons/dress/preview?lang=zh-CN", url.Values{"text": {text}})
	if st != 422 || strings.Contains(body, `<a href="a"`) {
		t.Fatalf("preview over the limits: %d %.600s", st, body)
	}
}
