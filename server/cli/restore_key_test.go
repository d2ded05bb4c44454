package cli_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/backup"
	"conductportal/server/channel"
	"conductportal/server/cli"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/secret"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// runCLIEnv is runCLI with more settings (MONGODB_URI, PORTAL_SECRET_KEY).
func runCLIEnv(t *testing.T, dataDir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("PORTAL_DATA", dataDir)
	for _, k := range []string{"MONGODB_URI", "PORTAL_SECRET_KEY"} {
		t.Setenv(k, env[k])
	}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

var printedKey = regexp.MustCompile(`PORTAL_SECRET_KEY=([0-9a-f]{64})`)

// TestBackupCarriesTheSecretKey: a portal on the embedded database with a
// channel whose webhook is sealed is backed up; restored into an external
// database (MONGODB_URI), the restore prints the key, refuses a different
// PORTAL_SECRET_KEY without storing anything, and a portal started there
// with the printed key delivers to the webhook (it opened the secret).
// Restored into a new data folder, the key file comes along.
func TestBackupCarriesTheSecretKey(t *testing.T) {
	ctx := context.Background()
	got := make(chan string, 4)
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.RawQuery
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer robot.Close()

	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	ch, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, channel.Input{Name: "客服部企业微信群", Kind: channel.KindWeCom, Enabled: true,
		Webhook: robot.URL + "/cgi-bin/webhook/send?key=robot-key-42"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ch.Webhook, "robot-key-42") {
		t.Fatal("the webhook is stored in the clear")
	}
	p.Stop()
	original, err := secret.ReadKey(dir)
	if err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(t.TempDir(), "portal.jsonl.gz")
	if code, out, errs := runCLI(t, dir, "backup", file); code != 0 || !strings.Contains(out, "the secret key") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the backup holds the key but is not private: %v %v", st.Mode(), err)
	}

	// The external database: FerretDB serving on its own, as MongoDB would.
	host, uri, err := database.Host(ctx, filepath.Join(t.TempDir(), "db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close(context.Background())
	other := hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	code, out, errs := runCLIEnv(t, t.TempDir(), map[string]string{"MONGODB_URI": uri, "PORTAL_SECRET_KEY": other}, "restore", file)
	if code != 1 || !strings.Contains(errs, "another key") {
		t.Fatalf("restore with a different PORTAL_SECRET_KEY: %d %s %s", code, out, errs)
	}
	target, err := database.Open(ctx, database.Options{URI: uri, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	empty, _, err := backup.Empty(ctx, storage.New(target.Database))
	target.Close(ctx)
	if err != nil || !empty {
		t.Fatalf("the refused restore stored something: %v %v", empty, err)
	}
	code, out, errs = runCLIEnv(t, t.TempDir(), map[string]string{"MONGODB_URI": uri}, "restore", file)
	m := printedKey.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != hex.EncodeToString(original) {
		t.Fatalf("restore into MONGODB_URI: %d\n%s\n%s", code, out, errs)
	}

	// A portal on the external database with that key opens the webhook:
	// the test message reaches the robot with its key.
	p2 := testkit.StartEnv(t, t.TempDir(), io.Discard, map[string]string{
		"MONGODB_URI": uri, "PORTAL_SECRET_KEY": m[1], "PORTAL_DELIVERY_WORKER": "on"})
	restored, err := p2.Channels.Channel(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Channels.Test(ctx, model.Actor{Login: "hr"}, restored, channel.Message{Title: "测试", Text: "restore"}); err != nil {
		t.Fatal(err)
	}
	select {
	case q := <-got:
		if q != "key=robot-key-42" {
			t.Fatalf("the robot was called with %q", q)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the restored channel's webhook was not called; log:\n%s", p2.LogText())
	}
	p2.Stop()

	// Into a new data folder: the key file is restored beside the data.
	fresh := t.TempDir()
	if code, out, errs := runCLI(t, fresh, "restore", file); code != 0 || !strings.Contains(out, secret.KeyFile) {
		t.Fatalf("restore into a folder: %d %s %s", code, out, errs)
	}
	if k, err := secret.ReadKey(fresh); err != nil || !bytes.Equal(k, original) {
		t.Fatalf("the restored folder's key: %x %v", k, err)
	}
	if st, err := os.Stat(filepath.Join(fresh, secret.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key mode: %v %v", st, err)
	}

	// Into a folder that holds data (its key lost): refused, and the
	// folder is left as it was found, without the backup's key.
	if err := os.Remove(filepath.Join(dir, secret.KeyFile)); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, dir, "restore", file); code != 1 {
		t.Fatalf("restore into a folder with data: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, secret.KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused restore left a key file: %v", err)
	}
}

// TestDowngradeRefused: a database a newer portal used (a schema step this
// build does not know) stops every command with a clear message and is
// left as it was.
func TestDowngradeRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	newer := database.SchemaVersion() + 1
	if _, err := db.Database.Collection("schema").UpdateOne(ctx, bson.M{"_id": "schema"}, bson.M{"$set": bson.M{"version": newer}}); err != nil {
		t.Fatal(err)
	}
	db.Close(ctx)
	for _, args := range [][]string{{"verify"}, {"serve", "--addr", "127.0.0.1:0"}} {
		code, _, errs := runCLI(t, dir, args...)
		if code != 1 || !strings.Contains(errs, "a downgrade is refused") || strings.Count(strings.TrimSpace(errs), "\n") > 3 {
			t.Fatalf("portal %v on a newer database: %d %s", args, code, errs)
		}
	}
	db, err = database.Open(ctx, database.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var doc struct {
		Version int `bson:"version"`
	}
	if err := db.Database.Collection("schema").FindOne(ctx, bson.M{"_id": "schema"}).Decode(&doc); err != nil || doc.Version != newer {
		t.Fatalf("the schema record after the refusal: %+v %v", doc, err)
	}
}
