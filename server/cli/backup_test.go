package cli_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/cli"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func runCLI(t *testing.T, dataDir string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("PORTAL_DATA", dataDir)
	t.Setenv("MONGODB_URI", "")
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// dump reads every collection of the database in dir as extended JSON.
func dump(t *testing.T, dir string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	store := storage.New(db.Database)
	names, err := store.CollectionNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, name := range names {
		out[name] = []string{}
		err := store.ExportCollection(ctx, name, func(doc []byte) error {
			out[name] = append(out[name], string(doc))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestBackupRestoreRoundTrip backs up a populated database, restores it
// into an empty one, and finds every document the same, the unique keys
// in place, and verify passing.
func TestBackupRestoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	ctx := context.Background()
	for _, login := range []string{"bai.xue", "cao.yu", "deng.hui"} {
		u := createUser(t, p, login, "名"+login, false)
		tokenFor(t, p, u)
		for _, slug := range []string{"dress", "grooming"} {
			testkit.Complete(t, p.Training, u, slug)
		}
		if _, err := p.Training.StartAttempt(ctx, u, "attendance", model.LangEN); err != nil {
			t.Fatal(err)
		}
	}
	// A second factor: the backup carries its secret sealed.
	totp := testkit.EnrolSecondFactor(t, p, createUser(t, p, "mfa.user", "两步", false))
	testkit.PublishChange(t, p.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "新增一句。", model.LangEN: "One more sentence.",
	})
	b := newBrowser(t, p.Base)
	b.post("/login", "/login", map[string][]string{"login": {"bai.xue"}, "password": {"correct horse battery"}})
	p.Stop()

	file := filepath.Join(t.TempDir(), "portal-backup.jsonl.gz")
	code, out, errs := runCLI(t, dir, "backup", file)
	if code != 0 || !strings.Contains(out, "receipts 6") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if zr, err := gzip.NewReader(bytes.NewReader(raw)); err != nil {
		t.Fatal("not gzip:", err)
	} else if plain, _ := io.ReadAll(zr); !bytes.Contains(plain, []byte(`"$date"`)) || !bytes.Contains(plain, []byte(`"c":"receipts"`)) {
		t.Fatalf("not extended JSON lines: %.300s", plain)
	} else if bytes.Contains(plain, []byte(totp)) || !bytes.Contains(plain, []byte(`"secret":"v1:`)) {
		t.Fatal("the backup holds a second-factor secret in clear")
	}

	restored := t.TempDir()
	if code, out, errs := runCLI(t, restored, "restore", file); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, restored, "restore", file); code == 0 || !strings.Contains(errs, "empty database") {
		t.Fatalf("restore into a database with data: %d %s", code, errs)
	}
	cut := filepath.Join(t.TempDir(), "cut.jsonl.gz")
	if err := os.WriteFile(cut, cutShort(t, raw), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, t.TempDir(), "restore", cut); code == 0 || !strings.Contains(errs, "cut short") {
		t.Fatalf("restore of a truncated file: %d %s", code, errs)
	}

	before, after := dump(t, dir), dump(t, restored)
	for name, docs := range before {
		if name == "schema" {
			continue
		}
		if !slices.Equal(docs, after[name]) {
			t.Errorf("collection %s differs after restore:\nbefore %d docs: %.300v\nafter %d docs: %.300v", name, len(docs), docs, len(after[name]), after[name])
		}
		if len(docs) == 0 && name != "audit" {
			t.Logf("collection %s is empty", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("restore made a collection %s that was not backed up", name)
		}
	}
	if len(before["receipts"]) != 6 || len(before["attempt_results"]) != 6 || len(before["sessions"]) != 1 {
		t.Fatalf("the test database is not as populated as meant: %d receipts, %d results, %d sessions",
			len(before["receipts"]), len(before["attempt_results"]), len(before["sessions"]))
	}
	if code, out, errs := runCLI(t, restored, "verify"); code != 0 || !strings.Contains(out, "6 receipts of 3 users") {
		t.Fatalf("verify after restore: %d %s %s", code, out, errs)
	}
	// The unique keys came back with the schema steps: a second receipt
	// for the same version is refused.
	db, err := database.Open(ctx, database.Options{DataDir: restored, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var r model.Receipt
	if err := db.Database.Collection("receipts").FindOne(ctx, bson.M{}).Decode(&r); err != nil {
		t.Fatal(err)
	}
	r.ID, r.Seq = model.NewID(), 100
	if err := storage.New(db.Database).CreateReceipt(ctx, &r); err == nil {
		t.Fatal("the restored database took a second receipt for one version")
	}
}

// cutShort returns a backup with its last lines (the end record) removed.
func cutShort(t *testing.T, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	lines := bytes.Split(bytes.TrimRight(plain, "\n"), []byte("\n"))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(bytes.Join(lines[:len(lines)-2], []byte("\n")))
	zw.Close()
	return buf.Bytes()
}

// TestRebuildProgress: progress that drifted from the events is reported
// by rebuild --check, rewritten by rebuild, and found and repaired by the
// start-up check when the drift is in the latest events.
func TestRebuildProgress(t *testing.T) {
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	ctx := context.Background()
	u := createUser(t, p, "fang.yi", "方怡", false)
	testkit.Complete(t, p.Training, u, "dress")
	testkit.Complete(t, p.Training, u, "grooming")
	if _, _, err := p.Training.Open(ctx, u, "attendance"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Training.MarkRead(ctx, u, "attendance"); err != nil {
		t.Fatal(err)
	}
	want, _ := p.Store.Progress(ctx, u.ID)
	p.WaitStarted(t) // or the start-up check may repair what is changed below
	// The progress held in memory is written first (storage's
	// progress_behind.go), so the stop below has nothing to write back.
	if err := p.Store.FlushProgress(ctx); err != nil {
		t.Fatal(err)
	}
	// As if the process died between storing the receipt and updating
	// progress, and an attempt's count were lost too.
	if _, err := p.DB.Database.Collection("progress").UpdateOne(ctx, bson.M{"_id": u.ID}, bson.M{"$set": bson.M{
		"lessons.grooming.ack_version": 0, "lessons.dress.attempts": 0,
	}, "$unset": bson.M{"lessons.grooming.acknowledged": ""}}); err != nil {
		t.Fatal(err)
	}
	// And the item statistics lost (a projection too).
	if _, err := p.DB.Database.Collection("item_stats").DeleteMany(ctx, bson.M{}); err != nil {
		t.Fatal(err)
	}
	p.Stop()

	code, out, errs := runCLI(t, dir, "rebuild", "--check")
	if code != 1 || !strings.Contains(out, "user fang.yi, lesson grooming: ack_version is 0, the events give 1") ||
		!strings.Contains(out, "lesson dress: attempts is 0, the events give 1") || !strings.Contains(out, "3 field(s) differ") {
		t.Fatalf("rebuild --check: %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, dir, "rebuild"); code != 0 || !strings.Contains(out, "1 users' progress rewritten") ||
		!strings.Contains(out, "item statistics of dress from 1 graded attempts") {
		t.Fatalf("rebuild: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, dir, "rebuild", "--check"); code != 0 || !strings.Contains(out, "0 field(s) differ") {
		t.Fatalf("rebuild --check after rebuild: %d %s", code, out)
	}

	// The start-up check finds drift in the latest events and repairs it.
	var console bytes.Buffer
	p2 := startPortal(t, dir, &console)
	if an, err := p2.Authoring.Analytics(ctx, "dress", "zh-CN"); err != nil || an.Attempts != 1 || len(an.Questions) == 0 {
		t.Fatalf("item statistics after rebuild: %+v %v", an, err)
	}
	got, _ := p2.Store.Progress(ctx, u.ID)
	p2.WaitStarted(t) // the drift below is for p3's check
	for slug, lp := range want.Lessons {
		g := got.Lessons[slug]
		if g.AckVersion != lp.AckVersion || g.Attempts != lp.Attempts || g.ReadVersion != lp.ReadVersion || !g.Acknowledged.Equal(lp.Acknowledged) {
			t.Fatalf("rebuilt %s: %+v, want %+v", slug, g, lp)
		}
	}
	if _, err := p2.DB.Database.Collection("progress").UpdateOne(ctx, bson.M{"_id": u.ID}, bson.M{"$set": bson.M{"lessons.dress.pass_version": 0}}); err != nil {
		t.Fatal(err)
	}
	p2.Stop()
	p3 := startPortal(t, dir, io.Discard)
	deadline := time.Now().Add(5 * time.Second) // the check runs beside serving
	for time.Now().Before(deadline) {
		if prog, _ := p3.Store.Progress(ctx, u.ID); prog.Lessons["dress"].PassVersion == 1 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the start-up check did not repair the drift")
}
