package web_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestAuditShowsCountedRows: a row standing for several refused sign-ins
// shows its count on HR's audit page and in its CSV.
func TestAuditShowsCountedRows(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	const pw = "audit count password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.Audit.Count(ctx, "row1", &model.AuditEntry{Actor: "guesser", Action: "login.failed", Client: "203.0.113.5"}); err != nil {
			t.Fatal(err)
		}
	}
	hr := newCaller(t, p.Base, "hr", pw)
	if st, body := hr.get(t, p.Base+"/hr/audit?actor=guesser"); st != 200 || strings.Count(body, "<td>登录失败</td>") != 1 || !strings.Contains(body, "（共 3 次）") {
		t.Fatalf("audit page: %d %.1500s", st, body[strings.Index(body, "<main"):])
	}
	if st, body := hr.get(t, p.Base+"/hr/audit.csv?actor=guesser"); st != 200 || !strings.Contains(body, ",guesser,login.failed,,,203.0.113.5,3\n") {
		t.Fatalf("audit CSV: %d %s", st, body)
	}
}
