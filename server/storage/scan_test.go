package storage_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
)

// seedStart stores people with secrets, sessions, tokens, progress,
// receipts and attempts (graded and not) for the start-up loads; it
// returns the users' ids.
func seedStart(t testing.TB, db *database.DB, people int) []string {
	t.Helper()
	ctx := context.Background()
	seed := storage.New(db.Database)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	users := make([]model.User, people)
	ids := make([]string, people)
	for i := range users {
		ids[i] = model.NewID()
		users[i] = model.User{ID: ids[i], Login: fmt.Sprintf("p.%04d", i), Name: fmt.Sprintf("人 \"%d\"", i),
			Roles: []string{model.RoleEmployee}, Department: []string{"客服部", "前厅部"}[i%2], Active: i%7 != 0,
			Hired: t0.Add(-time.Duration(i) * time.Hour), Created: t0, Manager: "p.0000", Email: fmt.Sprintf("p%d@example.com", i)}
	}
	if err := seed.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if i%5 == 0 {
			if err := seed.SetPassword(ctx, id, fmt.Sprintf("hash-%d", i), i%10 == 0); err != nil {
				t.Fatal(err)
			}
			if err := seed.SetMFA(ctx, id, model.MFA{Enabled: true, Secret: "sealed", Recovery: []string{"r1", "r2"}}); err != nil {
				t.Fatal(err)
			}
		}
		at := t0.Add(time.Duration(i) * time.Second)
		if err := seed.CreateSession(ctx, &model.Session{ID: model.NewID(), UserID: id, CSRF: "c", Created: at, LastSeen: at,
			Expires: at.Add(time.Hour), Client: "agent", Pending: i%9 == 0}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if err := seed.CreateAPIToken(ctx, &model.APIToken{ID: model.NewID(), UserID: id, Name: "t", Created: at,
				Scopes: []string{"read"}, CreatedBy: "cli"}); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 2 {
			continue // no progress, receipts or attempts
		}
		for k := range 1 + i%3 {
			r := &model.Receipt{ID: model.NewID(), UserID: id, Login: users[i].Login, Lesson: []string{"attendance", "dress"}[k%2],
				Version: 1 + k, Cycle: k, At: at.Add(time.Duration(k) * time.Minute), Seq: k + 1, Hash: fmt.Sprintf("h-%d-%d", i, k)}
			if err := seed.CreateReceipt(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		a := &model.Attempt{ID: model.NewID(), UserID: id, Lesson: "attendance", Version: 1, Started: at.Add(-time.Duration(i%4) * time.Minute)}
		if err := seed.CreateAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			a.Submitted, a.At, a.Score, a.PassMark, a.Passed = true, at.Add(time.Minute), 90, 80, true
			if ok, err := seed.SubmitAttempt(ctx, a); err != nil || !ok {
				t.Fatalf("submit: %v %v", ok, err)
			}
		}
		if err := seed.ReplaceProgress(ctx, &model.Progress{UserID: id, Updated: at, Head: "x", Lessons: map[string]model.LessonProgress{
			"attendance": {ReadVersion: 1, PassVersion: 1, AckVersion: 1, Attempts: 2, LastAttempt: at, Acknowledged: at,
				Fails: map[string]int{"v1": 1}, LastFailed: at, Receipt: "r"},
			"dress": {ReadVersion: 2},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// startLoads runs a sole writer's start-up loads (cli's startupJobs) and
// returns what they hold.
type startView struct {
	Kept     storage.Kept
	Users    map[string]*model.User
	Dir      []model.User
	Progress map[string]model.Progress
	Recent   []string
	Events   map[string]*model.Events
	Receipt  map[string]string
	Heads    map[string]model.ReceiptHead // the checkpoint's read, after the start
}

func startLoads(t *testing.T, st *storage.Storage, ids []string) startView {
	t.Helper()
	ctx := context.Background()
	if err := st.LoadDirectory(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if err := st.WarmProgress(ctx); err != nil {
		t.Fatal(err)
	}
	k, err := st.LoadKept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := startView{Kept: k, Users: map[string]*model.User{}, Receipt: map[string]string{}}
	for _, id := range ids {
		u, err := st.User(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		v.Users[id] = u
		for _, l := range []string{"attendance", "dress"} {
			for ver := 1; ver <= 3; ver++ {
				rid, found, known := st.ReceiptID(id, l, ver)
				v.Receipt[fmt.Sprintf("%s %s %d", id, l, ver)] = fmt.Sprint(rid, found, known)
			}
		}
	}
	if v.Dir, err = st.UserDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Progress, err = st.AllProgress(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Recent, err = st.RecentEventUsers(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if v.Events, err = st.EventsOf(ctx, ids[:40]); err != nil {
		t.Fatal(err)
	}
	if v.Heads, err = st.ReceiptHeads(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStartLoadsReadTheFile: the start-up loads of a sole writer give
// the same directory, users with their secrets, sessions' and tokens'
// counts, progress, receipts' index, latest events' users and events
// when they read the embedded database's file (SetScanner) as when they
// ask FerretDB, and then they send FerretDB no find of those collections.
func TestStartLoadsReadTheFile(t *testing.T) {
	db, cnt, _ := openCounted(t)
	ids := seedStart(t, db, 90)

	finds := func() map[string]int {
		out := map[string]int{}
		for cmd, n := range cnt.take() {
			if f := strings.Fields(cmd); f[0] == "find" || f[0] == "getMore" {
				out[f[1]] += n
			}
		}
		return out
	}
	viaDriver := storage.New(db.Database)
	viaDriver.SetSoleWriter()
	finds()
	want := startLoads(t, viaDriver, ids)
	if want.Kept.Users != 90 || want.Kept.Sessions != 90 || want.Kept.Tokens != 23 || want.Kept.Receipts == 0 ||
		len(want.Progress) != 60 || len(want.Recent) == 0 || len(want.Events[ids[0]].Attempts) != 1 || len(want.Events[ids[1]].Receipts) != 2 || len(want.Heads) == 0 {
		t.Fatalf("the seed is not what the test reads: %+v, %d progress, recent %v", want.Kept, len(want.Progress), want.Recent)
	}
	driverFinds := finds()

	viaFile := storage.New(db.Database)
	viaFile.SetSoleWriter()
	viaFile.SetScanner(db.ScanEmbedded)
	got := startLoads(t, viaFile, ids)
	// No scan goes to FerretDB: of the receipts and attempts only the
	// reads by _id are left (the driver's loads scanned each twice: the
	// index or the events, and the latest).
	fileFinds := finds()
	for _, c := range []string{"users", "sessions", "api_tokens", "progress", "receipts", "attempts"} {
		want := 0
		if c == "receipts" || c == "attempts" {
			want = driverFinds[c] - 2
		}
		if c == "receipts" {
			want-- // and the checkpoint's heads
		}
		if fileFinds[c] != want {
			t.Errorf("%s: %d finds with the file read, %d through FerretDB; want %d", c, fileFinds[c], driverFinds[c], want)
		}
	}
	slices.Sort(want.Recent)
	slices.Sort(got.Recent)
	if !reflect.DeepEqual(got, want) {
		for _, f := range []string{"Kept", "Users", "Dir", "Progress", "Recent", "Events", "Receipt", "Heads"} {
			g, w := reflect.ValueOf(got).FieldByName(f).Interface(), reflect.ValueOf(want).FieldByName(f).Interface()
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s differ:\n file   %+v\n driver %+v", f, g, w)
			}
		}
	}
}

// BenchmarkStartLoads is the start-up jobs' loads (directory, reports'
// progress, LoadKept, the progress check's reads of the latest events)
// of a sole writer on STORAGE_BENCH_PEOPLE seeded people (1000), through
// FerretDB and from the file (SetScanner): time and allocations a start,
// without make bench-large's 8 minutes.
func BenchmarkStartLoads(b *testing.B) {
	people := 1000
	if n, err := strconv.Atoi(os.Getenv("STORAGE_BENCH_PEOPLE")); err == nil && n > 0 {
		people = n
	}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	db, err := database.Open(ctx, database.Options{DataDir: filepath.Join(b.TempDir(), "data"), Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Migrate(ctx, log); err != nil {
		b.Fatal(err)
	}
	if _, err := db.IndexEmbeddedIDs(ctx); err != nil {
		b.Fatal(err)
	}
	seedStart(b, db, people)
	for _, file := range []bool{false, true} {
		b.Run(map[bool]string{false: "ferretdb", true: "file"}[file], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := storage.New(db.Database)
				st.SetSoleWriter()
				if file {
					st.SetScanner(db.ScanEmbedded)
				}
				if err := st.LoadDirectory(ctx, log); err != nil {
					b.Fatal(err)
				}
				if err := st.WarmProgress(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := st.LoadKept(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := st.RecentEventUsers(ctx, 200); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
