package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// walkAudit follows AuditPage's cursors from the first page to the last
// and returns the targets in order.
func walkAudit(t testing.TB, s *storage.Storage, f model.AuditFilter, limit int) []string {
	t.Helper()
	var out []string
	var after model.Cursor
	for pages := 0; ; pages++ {
		es, more, err := s.AuditPage(context.Background(), f, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if pages > 1000 || (more && len(es) != limit) {
			t.Fatalf("page %d: %d rows, more %v", pages, len(es), more)
		}
		for _, e := range es {
			out = append(out, e.Target)
		}
		if !more {
			return out
		}
		last := es[len(es)-1]
		// Through the query parameter's form, as the pages pass it on.
		if after, err = model.ParseCursor(model.Cursor{At: last.At, ID: last.ID}.String()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditPageIndexMatchesQuery: a sole writer's in-memory pages and the
// pages a shared database answers by query are the same rows in the same
// order (time down, _id up) for every filter, each row once; entries
// written after the index was loaded, and a counted row that moves to its
// latest try, are placed alike.
func TestAuditPageIndexMatchesQuery(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	indexed := p.Store
	if !indexed.SoleWriter() {
		t.Fatal("the test portal is not its database's sole writer")
	}
	queried := storage.New(p.DB.Database) // as an instance sharing the database reads
	base := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	var es []model.AuditEntry
	for i := range 120 {
		es = append(es, model.AuditEntry{At: base.Add(time.Duration(i/4) * time.Hour), Actor: []string{"ann", "bob", "cy"}[i%3],
			Action: []string{"user.create", "user.update", "lesson.publish"}[i/3%3], Target: fmt.Sprintf("t%03d", i)})
	}
	if err := indexed.AuditMany(ctx, es[:60]); err != nil {
		t.Fatal(err)
	}
	// Load the index now; the rest is written to a loaded index.
	if _, _, err := indexed.AuditPage(ctx, model.AuditFilter{}, model.Cursor{}, 1); err != nil {
		t.Fatal(err)
	}
	if err := indexed.AuditMany(ctx, es[60:]); err != nil {
		t.Fatal(err)
	}
	for _, e := range es[90:100] {
		if err := indexed.Audit(ctx, &model.AuditEntry{At: e.At, Actor: e.Actor, Action: e.Action, Target: "one-" + e.Target}); err != nil {
			t.Fatal(err)
		}
	}
	// A counted row: three tries, the row at the last one's time.
	for i, at := range []time.Time{base, base.Add(5 * time.Hour), base.Add(20 * time.Hour)} {
		if err := indexed.AuditCount(ctx, "counted-row", &model.AuditEntry{At: at, Actor: "guesser", Action: "login.failed", Target: "counted"}); err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	// Entries about people: one's own target, their exceptions
	// ("login/lesson"), and a login that begins with theirs.
	for i, target := range []string{"p.kim", "p.kim/dress", "p.kimberly", "p.kim/attendance", "p.kimberly/dress"} {
		if err := indexed.Audit(ctx, &model.AuditEntry{At: base.Add(time.Duration(i)*time.Hour + 30*time.Minute), Actor: "hr.wu", Action: "person.exception", Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	filters := []model.AuditFilter{
		{},
		{Target: "p.kim"},
		{Target: "p.kimberly", Actor: "hr.wu"},
		{Target: "t007"},
		{Target: "p.kim", Action: "user."},
		{Actor: "bob"},
		{Action: "user."},
		{Action: "user.create", Actor: "ann"},
		{From: base.Add(10 * time.Hour), To: base.Add(20 * time.Hour)},
		{Actor: "nobody"},
	}
	for _, f := range filters {
		want := walkAudit(t, queried, f, 1000) // one page: the database's own order
		for _, limit := range []int{1, 7, 50} {
			got := walkAudit(t, indexed, f, limit)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %+v, limit %d: the index walks\n%v\nthe query\n%v", f, limit, got, want)
			}
			if q := walkAudit(t, queried, f, limit); !slices.Equal(q, want) {
				t.Fatalf("filter %+v, limit %d: the query's pages walk\n%v\nwant\n%v", f, limit, q, want)
			}
		}
		if f.Target != "" {
			wants := map[string][]string{"p.kim": {"p.kim/attendance", "p.kim/dress", "p.kim"}, "p.kimberly": {"p.kimberly/dress", "p.kimberly"}, "t007": {"t007"}}[f.Target]
			if f.Action != "" {
				wants = nil
			}
			if !slices.Equal(want, wants) {
				t.Fatalf("filter %+v: the rows about them are %q, want %q", f, want, wants)
			}
		}
		if f == (model.AuditFilter{}) {
			ours := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return strings.Contains(s, "@") }) // the start's publishes
			if len(ours) != 120+10+1+5 || slices.Index(ours, "counted") < 0 {
				t.Fatalf("the whole log walks %d of our rows: %v", len(ours), want)
			}
		}
	}
	// The counted row is one row, at its last try, with its count.
	es, more, err := indexed.AuditPage(ctx, model.AuditFilter{Actor: "guesser"}, model.Cursor{}, 5)
	if err != nil || more || len(es) != 1 || !es[0].At.Equal(base.Add(20*time.Hour)) || es[0].Count != 3 {
		t.Fatalf("the counted row: %+v %v %v", es, more, err)
	}
	// The actors the log's filter offers: the same from memory and by query.
	for name, s := range map[string]*storage.Storage{"index": indexed, "query": queried} {
		actors, err := s.AuditActors(ctx)
		if err != nil || !slices.Equal(actors, []string{"ann", "bob", "cy", "guesser", "hr.wu", "system"}) {
			t.Errorf("%s: actors %v %v", name, actors, err)
		}
		// Who or what was acted on: a person's exception counts as them.
		subjects, err := s.AuditSubjects(ctx)
		if err != nil || !slices.Contains(subjects, "p.kim") || !slices.Contains(subjects, "p.kimberly") || !slices.Contains(subjects, "t119") ||
			!slices.Contains(subjects, "counted") || slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, "/") || s == "" }) {
			t.Errorf("%s: subjects %v %v", name, subjects, err)
		}
		if name == "query" {
			if fromIndex, _ := indexed.AuditSubjects(ctx); !slices.Equal(subjects, fromIndex) {
				t.Errorf("subjects by query %v, from memory %v", subjects, fromIndex)
			}
		}
	}
	for _, bad := range []string{"x", "1-", "-id", "a-b", "-5-id"} {
		if _, err := model.ParseCursor(bad); !errors.Is(err, model.ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

// BenchmarkAuditPage is one page of 50 rows of HR's audit log holding
// 100,000 entries, on the embedded database: the first page, one deep in
// the log, a filter that matches one row in 20, a filter that matches
// few and the one entry about a person (in-memory keys, rows read by
// _id); "load" is the one scan that reads the keys after a start. (One page by query, as instances sharing
// a database ask, is a scan FerretDB does not finish within the driver's
// timeout at this size: measured when this was written.)
func BenchmarkAuditPage(b *testing.B) {
	ctx := context.Background()
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	const n = 100_000
	base := time.Now().Add(-n * time.Minute)
	batch := make([]model.AuditEntry, 0, 1000)
	for i := range n {
		actor := fmt.Sprintf("hr%02d", i%20)
		if i%5000 == 0 {
			actor = "rare"
		}
		batch = append(batch, model.AuditEntry{At: base.Add(time.Duration(i) * time.Minute), Actor: actor, Action: "user.update", Target: fmt.Sprintf("u%06d", i), Detail: "department=客服部"})
		if len(batch) == cap(batch) {
			if err := p.Store.AuditMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	deep := model.Cursor{At: base.Add(n / 2 * time.Minute).Truncate(time.Millisecond), ID: "~"}
	page := func(tb testing.TB, s *storage.Storage, f model.AuditFilter, after model.Cursor, want int) {
		es, _, err := s.AuditPage(ctx, f, after, 50)
		if err != nil || len(es) != want {
			tb.Fatalf("%d rows, want %d: %v", len(es), want, err)
		}
	}
	page(b, p.Store, model.AuditFilter{}, model.Cursor{}, 50) // loads the keys: the pages below do not wait for that
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			p.Store.DropCaches()
			page(b, p.Store, model.AuditFilter{}, model.Cursor{}, 50)
		}
	})
	for _, c := range []struct {
		name  string
		f     model.AuditFilter
		after model.Cursor
		want  int
	}{
		{"first", model.AuditFilter{}, model.Cursor{}, 50},
		{"deep", model.AuditFilter{}, deep, 50},
		{"actor", model.AuditFilter{Actor: "hr07"}, model.Cursor{}, 50},
		{"rare", model.AuditFilter{Actor: "rare"}, model.Cursor{}, n / 5000},
		{"person", model.AuditFilter{Target: "u050000"}, model.Cursor{}, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				page(b, p.Store, c.f, c.after, c.want)
			}
		})
	}
}
