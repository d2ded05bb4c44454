package web_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
)

// TestAuditFilterByPerson: HR filters the audit log by the person acted
// on, picked from a list of the people the log names (with their names):
// the page lists only the entries about them, their lesson exceptions
// ("login/lesson") included and a login that merely begins with theirs
// left out; the next links, the CSV export and the API's pages keep the
// filter; the label is in the reader's language.
func TestAuditFilterByPerson(t *testing.T) {
	p, hr := startAsHR(t)
	ctx := context.Background()
	for _, nu := range []auth.NewUser{{Login: "p.kim", Name: "金鹏"}, {Login: "p.kimberly", Name: "金百莉"}} {
		nu.Password = "audit person password"
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	// 60 entries about p.kim (half of them exceptions of a lesson), 5
	// about p.kimberly, and one action HR takes now over HTTP.
	now := time.Now().UTC().Truncate(time.Millisecond)
	var es []model.AuditEntry
	for i := range 60 {
		target := "p.kim"
		if i%2 == 1 {
			target = "p.kim/dress"
		}
		es = append(es, model.AuditEntry{At: now.Add(-time.Duration(i+1) * time.Minute), Actor: "seed", Action: "person.exception", Target: target})
	}
	for i := range 5 {
		es = append(es, model.AuditEntry{At: now.Add(-time.Duration(i+1) * time.Minute), Actor: "seed", Action: "person.exception", Target: "p.kimberly"})
	}
	if err := p.Store.AuditMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	if st, _ := hr.post(t, p.Base+"/hr/people/p.kim/deactivate", url.Values{"confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", st)
	}
	const about = 61

	row := regexp.MustCompile(`<tr><td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>`)
	st, body := hr.get(t, p.Base+"/hr/audit?target=p.kim")
	if st != http.StatusOK {
		t.Fatalf("the filtered log: %d", st)
	}
	for _, want := range []string{`<input id="target" name="target" value="p.kim" list="audit-people"`,
		`<option value="p.kim">金鹏</option>`, `<option value="p.kimberly">金百莉</option>`, `<label for="target">被操作人</label>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the filtered page lacks %s", want)
		}
	}
	if strings.Contains(body, `<option value="p.kim/dress">`) {
		t.Error("the person list offers a target with a lesson in it")
	}
	if !strings.Contains(body, `href="/hr/audit.csv?target=p.kim"`) {
		t.Error("the export link does not carry the filter")
	}
	var seen []string
	u := p.Base + "/hr/audit?target=p.kim"
	for pages := 0; ; pages++ {
		st, body := hr.get(t, u)
		if st != http.StatusOK || pages > 3 {
			t.Fatalf("%s: %d (page %d)", u, st, pages)
		}
		// After the first page, a way back to it with the filter.
		if first := strings.Contains(body, `<a href="/hr/audit?target=p.kim" id="audit-first">`); first != (pages > 0) {
			t.Fatalf("page %d: a link to the newest page: %v", pages, first)
		}
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			seen = append(seen, html.UnescapeString(m[1]))
		}
		m := auditNext.FindStringSubmatch(body)
		if m == nil {
			break
		}
		next, _ := url.Parse(html.UnescapeString(m[1]))
		if next.Query().Get("target") != "p.kim" {
			t.Fatalf("the next link %q lost the filter", m[1])
		}
		u = p.Base + next.String()
	}
	if len(seen) != about || slices.ContainsFunc(seen, func(s string) bool { return s != "p.kim" && s != "p.kim/dress" }) {
		t.Fatalf("the pages list %d rows (%v), want the %d about p.kim", len(seen), seen, about)
	}

	// The CSV export of the filter.
	res, err := hr.c.Get(p.Base + "/hr/audit.csv?target=p.kim")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(recs) != about+1 {
		t.Fatalf("the export: %d, %d lines, %v", res.StatusCode, len(recs), err)
	}
	for _, r := range recs[1:] {
		if r[3] != "p.kim" && r[3] != "p.kim/dress" {
			t.Fatalf("the export has a row about %q", r[3])
		}
	}

	// The API: the export and its pages, the filter kept in the Link.
	api := func(u string) (int, []string, string) {
		t.Helper()
		res, err := hr.c.Get(p.Base + u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var targets []string
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			var l struct {
				Target string `json:"target"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			targets = append(targets, l.Target)
		}
		return res.StatusCode, targets, res.Header.Get("Link")
	}
	if st, all, _ := api("/api/v1/audit?target=p.kimberly"); st != http.StatusOK || len(all) != 5 {
		t.Fatalf("the API export about p.kimberly: %d, %v", st, all)
	}
	st, page, link := api("/api/v1/audit?target=p.kim&limit=50")
	if st != http.StatusOK || len(page) != 50 || !strings.Contains(link, "target=p.kim") {
		t.Fatalf("the API's first page: %d, %d lines, Link %q", st, len(page), link)
	}
	next := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	if st, rest, link := api(next); st != http.StatusOK || len(rest) != about-50 || link != "" {
		t.Fatalf("the API's second page: %d, %d lines, Link %q", st, len(rest), link)
	}

	// In English, and a person the log does not name: no rows, said so.
	hr.useLang(t, p.Base, model.LangEN)
	st, body = hr.get(t, p.Base+"/hr/audit?target=nobody")
	if st != http.StatusOK || !strings.Contains(body, `<label for="target">Person acted on</label>`) || !strings.Contains(body, "No entries match.") {
		t.Fatalf("an unknown person in English: %d", st)
	}
}
