package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestReceiptsExportStreams: thousands of receipts come out as NDJSON,
// every one once, oldest first, across several cursor batches, and the
// lesson and since filters narrow them.
func TestReceiptsExportStreams(t *testing.T) {
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
	const n = 2600
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]any, 0, n)
	for i := range n {
		lesson := "dress"
		if i%2 == 1 {
			lesson = "grooming"
		}
		docs = append(docs, model.Receipt{ID: fmt.Sprintf("r%05d", i), UserID: fmt.Sprintf("u%05d", i), Login: fmt.Sprintf("p%05d", i),
			Lesson: lesson, Version: 1, Lang: model.LangZH, Signature: "签名", At: start.Add(time.Duration(i) * time.Minute), Seq: 1, Hash: "h"})
	}
	// In batches: one insert of them all can outlast the client's 10 s
	// operation timeout on a loaded machine under -race.
	for batch := range slices.Chunk(docs, 500) {
		if _, err := p.DB.Database.Collection("receipts").InsertMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	stream := func(query string) []string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/v1/receipts"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("%s: %d %s", query, res.StatusCode, res.Header.Get("Content-Type"))
		}
		var ids []string
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			var r struct {
				ID string    `json:"id"`
				At time.Time `json:"at"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("line %d: %v", len(ids)+1, err)
			}
			ids = append(ids, r.ID)
		}
		return ids
	}
	all := stream("")
	if len(all) != n {
		t.Fatalf("streamed %d receipts, want %d", len(all), n)
	}
	for i, id := range all {
		if want := fmt.Sprintf("r%05d", i); id != want {
			t.Fatalf("line %d is %s, want %s (oldest first, each once)", i+1, id, want)
		}
	}
	if got := stream("?lesson=grooming"); len(got) != n/2 || got[0] != "r00001" {
		t.Errorf("lesson filter: %d lines", len(got))
	}
	since := start.Add(2000 * time.Minute).Format(time.RFC3339)
	if got := stream("?since=" + since); len(got) != n-2000 || got[0] != "r02000" {
		t.Errorf("since filter: %d lines", len(got))
	}
}

// TestSyncOfManyNewPeople: a first sync of hundreds of people (a password
// hash each, longer than the usual 4 s request deadline) completes, and
// sending the same CSV again changes nothing.
func TestSyncOfManyNewPeople(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "sync test password"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := p.Auth.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "sync", Scopes: []string{auth.ScopeUsersWrite}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var csv strings.Builder
	csv.WriteString("login,name,department\n")
	for i := range n {
		fmt.Fprintf(&csv, "p%04d,员工%04d,客服部\n", i, i)
	}
	for run, want := range []string{"created", "unchanged"} {
		req, _ := http.NewRequest(http.MethodPost, p.Base+"/api/v1/users/sync", strings.NewReader(csv.String()))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || out[want] != float64(n) {
			t.Fatalf("run %d: %d %v %v", run, res.StatusCode, err, out["error"])
		}
	}
	if got := p.LoggedErrors(); got != 0 {
		t.Errorf("%d errors logged:\n%s", got, p.LogText())
	}
}
