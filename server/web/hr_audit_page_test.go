package web_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
)

// seedAudit writes n entries of action act, a row each minute back from
// now, three at a time sharing one time (the cursor's _id breaks the tie);
// their targets t000, t001, ... are returned in the pages' order: newest
// first, then by _id.
func seedAudit(t *testing.T, store interface {
	AuditMany(context.Context, []model.AuditEntry) error
}, act string, n int) []string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var es []model.AuditEntry
	for i := range n {
		es = append(es, model.AuditEntry{At: now.Add(-time.Duration(i/3) * time.Minute), Actor: "seed", Action: act, Target: fmt.Sprintf("t%03d", i)})
	}
	if err := store.AuditMany(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(es, func(a, b model.AuditEntry) int {
		return cmp.Or(b.At.Compare(a.At), strings.Compare(a.ID, b.ID))
	})
	out := make([]string, n)
	for i := range es {
		out[i] = es[i].Target
	}
	return out
}

var (
	auditTarget = regexp.MustCompile(`<td>(t\d{3}|late\d)</td>`)
	auditNext   = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next" id="audit-next">`)
)

// TestAuditPaging: HR's audit page shows 50 rows a page, newest first;
// following the next links walks the filtered log with no row lost or
// repeated, each link keeping the filter; rows written meanwhile appear on
// the first page; a bad cursor is refused with a clear message and 400.
func TestAuditPaging(t *testing.T) {
	p, hr := startAsHR(t)
	targets := seedAudit(t, p.Store, "test.paging", 130)
	seedAudit(t, p.Store, "test.other", 40) // the filter leaves these out

	walk := func(action string) (rows []string, pages int) {
		t.Helper()
		u := "/hr/audit?action=" + url.QueryEscape(action)
		for u != "" {
			st, body := hr.get(t, p.Base+u)
			if st != http.StatusOK {
				t.Fatalf("%s: %d", u, st)
			}
			pages++
			n := 0
			for _, m := range auditTarget.FindAllStringSubmatch(body, -1) {
				rows = append(rows, m[1])
				n++
			}
			m := auditNext.FindStringSubmatch(body)
			if m == nil {
				if n > 50 {
					t.Fatalf("the last page has %d rows", n)
				}
				break
			}
			if n != 50 {
				t.Fatalf("%s: %d rows, want 50 a page", u, n)
			}
			u = html.UnescapeString(m[1])
			next, err := url.Parse(u)
			if err != nil || next.Path != "/hr/audit" || next.Query().Get("action") != action || next.Query().Get("after") == "" {
				t.Fatalf("the next link %q does not keep the filter", u)
			}
		}
		return rows, pages
	}
	rows, pages := walk("test.paging")
	if pages != 3 || strings.Join(rows, ",") != strings.Join(targets, ",") {
		t.Fatalf("%d pages; rows %v, want %v", pages, rows, targets)
	}

	// Written after the log was read into memory: the first page has them,
	// the rest follows unchanged.
	late := &model.AuditEntry{Actor: "seed", Action: "test.paging", Target: "late0"}
	if err := p.Audit.Write(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	rows, _ = walk("test.")
	if len(rows) != 171 || rows[0] != "late0" {
		t.Fatalf("after a new entry, the prefix filter walks %d rows, first %v", len(rows), rows[:1])
	}

	// A cursor the portal did not make: 400, said in the reader's language.
	for _, bad := range []string{"nonsense", "-x", "12-", "abc-def"} {
		st, body := hr.get(t, p.Base+"/hr/audit?action=test.paging&after="+url.QueryEscape(bad))
		if st != http.StatusBadRequest || !strings.Contains(body, "这个翻页链接无效或已损坏") || auditTarget.MatchString(body) {
			t.Errorf("after=%q: %d", bad, st)
		}
	}
}

// TestAuditPagingAPI: GET /api/v1/audit with limit pages the same log
// newest first through its Link headers, the filter kept; a bad cursor or
// limit is a JSON error naming the field; without them it is still the
// whole export, oldest first.
func TestAuditPagingAPI(t *testing.T) {
	p, hr := startAsHR(t)
	targets := seedAudit(t, p.Store, "api.paging", 75)
	seedAudit(t, p.Store, "api.other", 10)
	type line struct {
		Target string `json:"target"`
		Action string `json:"action"`
	}
	get := func(u string) (int, []line, string) {
		t.Helper()
		res, err := hr.c.Get(p.Base + u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out []line
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v: %s", u, err, sc.Bytes())
			}
			out = append(out, l)
		}
		return res.StatusCode, out, res.Header.Get("Link")
	}
	link := regexp.MustCompile(`^<(/api/v1/audit\?[^>]+)>; rel="next"$`)
	var got []string
	u := "/api/v1/audit?action=api.paging&limit=20"
	for pages := 0; u != ""; pages++ {
		st, lines, next := get(u)
		if st != http.StatusOK || pages > 5 {
			t.Fatalf("%s: %d (page %d)", u, st, pages)
		}
		for _, l := range lines {
			got = append(got, l.Target)
		}
		u = ""
		if m := link.FindStringSubmatch(next); m != nil {
			u = m[1]
			q, _ := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
			if q.Get("action") != "api.paging" || q.Get("limit") != "20" || len(lines) != 20 {
				t.Fatalf("page %d: %d lines, next %q", pages, len(lines), u)
			}
		} else if next != "" {
			t.Fatalf("Link header %q", next)
		}
	}
	if strings.Join(got, ",") != strings.Join(targets, ",") {
		t.Fatalf("the pages gave %v, want %v", got, targets)
	}
	for _, bad := range []string{"after=nope&limit=5", "limit=0", "limit=501", "limit=x"} {
		res, err := hr.c.Get(p.Base + "/api/v1/audit?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Field string } `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		want := strings.SplitN(strings.SplitN(bad, "&", 2)[0], "=", 2)[0]
		if res.StatusCode != http.StatusBadRequest || e.Error.Field != want {
			t.Errorf("%s: %d %+v, want 400 on %s", bad, res.StatusCode, e, want)
		}
	}
	// No paging asked: the export, oldest first, everything.
	st, all, next := get("/api/v1/audit?action=api.paging")
	if st != http.StatusOK || len(all) != 75 || next != "" || all[0].Target != targets[len(targets)-1] && all[0].Target != targets[len(targets)-2] && all[0].Target != targets[len(targets)-3] {
		t.Fatalf("the export: %d, %d lines, Link %q", st, len(all), next)
	}
}
