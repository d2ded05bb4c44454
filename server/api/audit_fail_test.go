package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestExportsRefusedWhenAuditRefuses: an export is recorded before its
// data goes (with the channel); when the audit log refuses the entry
// nothing is handed out: a JSON error, no NDJSON line.
func TestExportsRefusedWhenAuditRefuses(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "export test password"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "export", Scopes: []string{auth.ScopeReceiptsRead}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(query string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/v1/receipts"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	if st, typ, _ := get("?since=2026-01-01"); st != http.StatusOK || typ != "application/x-ndjson" {
		t.Fatalf("export: %d %s", st, typ)
	}
	es, err := p.Audit.Search(ctx, model.AuditFilter{Action: "receipts.export"}, 10)
	if err != nil || len(es) != 1 || es[0].Via != model.ViaAPI || es[0].Actor != "hr" {
		t.Fatalf("the export's entry: %+v %v", es, err)
	}
	// The API's audit lines carry the detail as data and the channel.
	at, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "audit", Scopes: []string{auth.ScopeAuditRead}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/v1/audit?action=receipts.export&limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var got struct {
		Detail     string   `json:"detail"`
		DetailKey  string   `json:"detail_key"`
		DetailArgs []string `json:"detail_args"`
		Via        string   `json:"via"`
	}
	if err := json.Unmarshal(line, &got); err != nil || got.Via != "api" || got.DetailKey != "audit.detail.counts" ||
		len(got.DetailArgs) != 2 || got.DetailArgs[0] != "since" || got.Detail != "since=2026-01-01 (by API)" {
		t.Fatalf("the export's audit line: %s %v", line, err)
	}
	testkit.RefuseAudit(t, p.DB)
	st, typ, body := get("")
	if st != http.StatusInternalServerError || !strings.HasPrefix(typ, "application/json") || !strings.Contains(body, `"error"`) {
		t.Fatalf("export with the audit log refusing: %d %s %s", st, typ, body)
	}
}
