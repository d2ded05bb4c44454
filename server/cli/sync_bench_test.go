package cli_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// BenchmarkSyncNewPeople syncs 5,000 new people in one request through the
// API (no mail server: invitations are stored, not sent), then the same
// list again. Before invitations a new person cost one argon2id hash
// (36 ms each).
func BenchmarkSyncNewPeople(b *testing.B) {
	const n = auth.MaxSyncRows
	for range b.N {
		b.StopTimer()
		p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
		hr, err := p.Auth.CreateUser(context.Background(), auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
		if err != nil {
			b.Fatal(err)
		}
		tok, _, err := p.Auth.CreateToken(context.Background(), nil, hr, auth.TokenSpec{Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		users := make([]map[string]any, n)
		for i := range users {
			users[i] = map[string]any{"login": fmt.Sprintf("p%06d", i), "name": fmt.Sprintf("员工%06d", i), "department": fmt.Sprintf("部门%02d", i%40),
				"email": fmt.Sprintf("p%06d@example.com", i)}
		}
		c := &http.Client{Timeout: 10 * time.Minute}
		b.StartTimer()
		t0 := time.Now()
		st, obj, err := call(c, p.Base, tok, "POST", "/users/sync", map[string]any{"users": users})
		if err != nil || st != http.StatusOK || obj["created"] != float64(n) {
			b.Fatalf("sync: %d %v", st, err)
		}
		first := time.Since(t0)
		t0 = time.Now()
		st, obj, err = call(c, p.Base, tok, "POST", "/users/sync", map[string]any{"users": users})
		if err != nil || st != http.StatusOK || obj["unchanged"] != float64(n) {
			b.Fatalf("sync again: %d %v", st, err)
		}
		again := time.Since(t0)
		b.StopTimer()
		b.ReportMetric(float64(first.Milliseconds())/n, "ms/new-person")
		b.ReportMetric(float64(again.Milliseconds())/n, "ms/unchanged-person")
		p.Stop()
	}
}
