package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
)

// Bounds of the directory sync (issue 24), on the embedded database.
const (
	boundSyncNew       = 2 * time.Minute
	boundSyncUnchanged = 30 * time.Second
	boundSyncChanges   = 10 * time.Second
	boundSyncRSS       = 500 << 20
	boundSearchP99     = 200 * time.Millisecond // issue 21: a people search at 100,000
)

// syncFigures measures POST /api/v1/users/sync on an empty embedded
// database: n new people (sent in requests of auth.MaxSyncRows, as an HR
// system must), the same n again unchanged, then the list with 1,000 of
// them changed. It prints each figure beside its bound and fails when one
// is over.
func syncFigures(ctx context.Context, o options, n int) error {
	dir, err := os.MkdirTemp("", "portal-bench-sync-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("bench: sync folder", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	env := []string{"PORTAL_DATA=" + filepath.Join(dir, "data")}
	tok, err := syncToken(ctx, env)
	if err != nil {
		return err
	}
	srv, _, err := start(ctx, o.bin, dir, env)
	if err != nil {
		return err
	}
	defer srv.stop()
	c := newClient(srv.base, 1)
	c.http.Timeout = 10 * time.Minute
	people := make([]map[string]any, n)
	for i := range people {
		people[i] = map[string]any{"login": fmt.Sprintf("p%06d", i), "name": fmt.Sprintf("员工%06d", i),
			"department": fmt.Sprintf("dept-%02d", i%50), "email": fmt.Sprintf("p%06d@example.com", i)}
	}
	pass := func() (time.Duration, error) {
		t0 := time.Now()
		for start := 0; start < n; start += auth.MaxSyncRows {
			var out map[string]any
			if !c.api("/users/sync", tok, map[string]any{"users": people[start:min(start+auth.MaxSyncRows, n)]}, 200, &out) {
				return 0, fmt.Errorf("sync of rows %d..: refused; see %s", start, filepath.Join(dir, "server.log"))
			}
			if out["invalid"] != float64(0) {
				return 0, fmt.Errorf("sync of rows %d..: %v invalid", start, out["invalid"])
			}
		}
		return time.Since(t0), nil
	}
	fmt.Printf("bench: sync: %d people, embedded database, requests of %d rows\n", n, auth.MaxSyncRows)
	tNew, err := pass()
	if err != nil {
		return err
	}
	tSame, err := pass()
	if err != nil {
		return err
	}
	for i := 0; i < 1000 && i < n; i++ {
		people[i*(n/1000)]["department"] = "moved"
	}
	tChanged, err := pass()
	if err != nil {
		return err
	}
	p99, searches, err := searchFigure(c, tok, n)
	if err != nil {
		return err
	}
	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	var over []string
	line := func(what string, took, bound time.Duration) {
		verdict := "within"
		if took > bound {
			verdict = "OVER"
			over = append(over, what)
		}
		fmt.Printf("sync %-40s %9s  (bound %s: %s)\n", what, took.Round(10*time.Millisecond), bound, verdict)
	}
	line(fmt.Sprintf("%d new people", n), tNew, boundSyncNew)
	line(fmt.Sprintf("the same %d again", n), tSame, boundSyncUnchanged)
	line(fmt.Sprintf("1,000 changes in %d", n), tChanged, boundSyncChanges)
	line(fmt.Sprintf("people search p99 (%d searches of 50)", searches), p99, boundSearchP99)
	verdict := "within"
	if rss > boundSyncRSS {
		verdict, over = "OVER", append(over, "memory")
	}
	fmt.Printf("sync peak RSS of the server %22.0f MB  (bound %d MB: %s)\n", float64(rss)/(1<<20), boundSyncRSS>>20, verdict)
	// A restart on the n people: the directory is loaded in one scan.
	srv.stop()
	again, ready, err := start(ctx, o.bin, dir, env)
	if err != nil {
		return err
	}
	defer again.stop()
	loaded := "?"
	if raw, err := os.ReadFile(filepath.Join(dir, "server.log")); err == nil {
		if m := directoryLoadedRe.FindAllStringSubmatch(string(raw), -1); len(m) > 0 {
			loaded = m[len(m)-1][2] + " for " + m[len(m)-1][1] + " users"
		}
	}
	fmt.Printf("sync restart on them: ready in %s, directory loaded in %s\n", ready.Round(10*time.Millisecond), loaded)
	if len(over) > 0 {
		return fmt.Errorf("sync over its bounds: %s", strings.Join(over, ", "))
	}
	return nil
}

var directoryLoadedRe = regexp.MustCompile(`msg="directory loaded" users=(\d+) took=(\S+)`)

// syncToken makes the HR system's account and its users:write token on
// the stopped database.
func syncToken(ctx context.Context, env []string) (string, error) {
	srv, err := startInProcess(ctx, env)
	if err != nil {
		return "", err
	}
	defer srv.Close()
	hr, err := srv.Auth.CreateUser(ctx, auth.NewUser{Login: "hr.sync", Name: "HR system", Roles: []string{model.RoleHR}, Password: randomToken()})
	if err != nil {
		return "", err
	}
	tok, _, err := srv.Auth.CreateToken(ctx, nil, hr, auth.TokenSpec{Name: "bench sync", Scopes: []string{auth.ScopeUsersWrite, auth.ScopeUsersRead}})
	return tok, err
}

// searchFigure times GET /api/v1/users?q= on the n synced people, one at a
// time: by name, login, department, two words, a next page, and a word
// nobody has (the whole directory read for nothing). It answers the p99.
func searchFigure(c *client, tok string, n int) (time.Duration, int, error) {
	var lat []time.Duration
	for i := 0; i < 300; i++ {
		k := (i * 7919) % n
		var q string
		switch i % 6 {
		case 0:
			q = "q=" + url.QueryEscape(fmt.Sprintf("员工%06d", k)[:len("员工")+4])
		case 1:
			q = fmt.Sprintf("q=p%06d", k)
		case 2:
			q = fmt.Sprintf("q=dept-%02d", k%50)
		case 3:
			q = fmt.Sprintf("q=dept-%02d+%s", k%50, url.QueryEscape("员工"))
		case 4:
			q = fmt.Sprintf("q=%s&after=p%06d", url.QueryEscape("员工"), k)
		case 5:
			q = fmt.Sprintf("q=nobody%d", i)
		}
		req, err := http.NewRequest(http.MethodGet, c.base+"/api/v1/users?limit=50&"+q, nil)
		if err != nil {
			return 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		if _, ok := c.do(req, http.StatusOK); !ok {
			return 0, 0, fmt.Errorf("search %s: refused", q)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return lat[len(lat)*99/100], len(lat), nil
}
