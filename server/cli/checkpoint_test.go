package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/backup"
	"conductportal/server/checkpoint"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// readLines returns the lines of a checkpoint file.
func readLines(t *testing.T, file string) []string {
	t.Helper()
	raw, err := os.ReadFile(file) // #nosec G304 -- a test's own file
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

func parseLine(t *testing.T, line string) *checkpoint.Checkpoint {
	t.Helper()
	var c checkpoint.Checkpoint
	if err := json.Unmarshal([]byte(line), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// firstCovering is the seq of the first checkpoint of lines that names login.
func firstCovering(t *testing.T, lines []string, login string) int {
	t.Helper()
	for _, l := range lines {
		c := parseLine(t, l)
		for _, h := range c.Heads {
			if h.Login == login {
				return c.Seq
			}
		}
	}
	t.Fatalf("no checkpoint covers %s", login)
	return 0
}

func writeLines(t *testing.T, lines []string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestCheckpointsCatchAConsistentRewrite: checkpoints signed by `portal
// checkpoint` grow only with activity and verify clean; then bob's chain is
// rewritten in the database with every hash recomputed, so plain verify
// finds nothing, and verify --checkpoints names bob and the first
// checkpoint that covered the rewritten receipt. A changed line, a removed
// line, and a file re-signed with another key are refused too.
func TestCheckpointsCatchAConsistentRewrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	for login, lessons := range map[string][]string{"alice": {"dress", "grooming"}, "bob": {"dress", "grooming"}, "carol": {"dress"}} {
		u := createUser(t, p, login, "用户"+login, false)
		for _, slug := range lessons {
			testkit.Complete(t, p.Training, u, slug)
		}
	}
	p.Stop()

	file := filepath.Join(dir, checkpoint.File)
	code, out, errs := runCLI(t, dir, "checkpoint")
	if code != 0 || !strings.Contains(out, "signed") || !strings.Contains(out, "public key ") {
		t.Fatalf("checkpoint: %d %s %s", code, out, errs)
	}
	for _, f := range []string{file, filepath.Join(dir, checkpoint.KeyFile)} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s is not private: %v %v", f, st, err)
		}
	}
	key, err := checkpoint.ReadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub := checkpoint.PublicKey(key)
	lines := readLines(t, file)
	last := parseLine(t, lines[len(lines)-1])
	if last.Key != pub {
		t.Fatalf("signed by %s, the key file's public key is %s", last.Key, pub)
	}

	// Nothing changed: no line.
	if code, out, _ := runCLI(t, dir, "checkpoint"); code != 0 || !strings.Contains(out, "nothing written") || len(readLines(t, file)) != len(lines) {
		t.Fatalf("a checkpoint without changes: %d %s", code, out)
	}
	// One more receipt: a line with that one chain only.
	p = startPortal(t, dir, io.Discard)
	alice, err := p.Store.UserByLogin(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Complete(t, p.Training, alice, "attendance")
	p.Stop()
	if code, out, errs := runCLI(t, dir, "checkpoint"); code != 0 || !strings.Contains(out, "1 chain(s) changed") {
		t.Fatalf("checkpoint after alice signed: %d %s %s", code, out, errs)
	}
	lines = readLines(t, file)
	last = parseLine(t, lines[len(lines)-1])
	if len(last.Heads) != 1 || last.Heads[0].Login != "alice" || last.Heads[0].Count != 3 {
		t.Fatalf("the last checkpoint should hold alice's head only: %+v", last.Heads)
	}

	// The copy kept away from the portal verifies clean.
	kept := writeLines(t, lines)
	if code, out, errs := runCLI(t, dir, "verify", "--checkpoints", kept, "--public-key", pub); code != 0 ||
		!strings.Contains(out, fmt.Sprintf("%d checkpoints covering 6 receipts of 3 users: 0 problem(s)", len(lines))) {
		t.Fatalf("verify --checkpoints of an untouched database: %d\n%s\n%s", code, out, errs)
	}

	// bob's chain rewritten consistently: his first signature is changed and
	// every hash from there on recomputed.
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	receipts := db.Database.Collection("receipts")
	cur, err := receipts.Find(ctx, bson.M{"login": "bob"})
	if err != nil {
		t.Fatal(err)
	}
	var chain []model.Receipt
	if err := cur.All(ctx, &chain); err != nil || len(chain) != 2 {
		t.Fatalf("bob's receipts: %v %d", err, len(chain))
	}
	if chain[0].Seq > chain[1].Seq {
		chain[0], chain[1] = chain[1], chain[0]
	}
	chain[0].Signature = "Mallory"
	prev := ""
	for i := range chain {
		chain[i].PrevHash = prev
		chain[i].Hash = training.ReceiptHash(&chain[i])
		prev = chain[i].Hash
		if _, err := receipts.UpdateOne(ctx, bson.M{"_id": chain[i].ID}, bson.M{"$set": bson.M{
			"signature": chain[i].Signature, "prev_hash": chain[i].PrevHash, "hash": chain[i].Hash}}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close(ctx)

	if code, out, errs := runCLI(t, dir, "verify"); code != 0 {
		t.Fatalf("the rewrite should be consistent enough for plain verify: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, dir, "verify", "--checkpoints", kept, "--public-key", pub)
	t.Logf("verify --checkpoints after the rewrite:\n%s", out)
	want := fmt.Sprintf("user bob: checkpoint %d: ", firstCovering(t, lines, "bob"))
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "rewritten") ||
		strings.Contains(out, "user alice") || strings.Contains(out, "user carol") {
		t.Fatalf("verify --checkpoints after bob's chain was rewritten: want %q\n%d\n%s\n%s", want, code, out, errs)
	}
	// The portal's next checkpoint notices the chain changed without growing.
	if code, out, errs := runCLI(t, dir, "checkpoint"); code != 0 || !strings.Contains(out, "the chain of user bob changed without growing") {
		t.Fatalf("checkpoint after the rewrite: %d %s %s", code, out, errs)
	}

	// A changed head in a line breaks its signature.
	first := parseLine(t, lines[0])
	forged := strings.Replace(lines[0], first.Heads[0].Hash, strings.Repeat("0", 64), 1)
	if forged == lines[0] {
		t.Fatal("the head was not replaced")
	}
	code, out, _ = runCLI(t, dir, "verify", "--checkpoints", writeLines(t, append([]string{forged}, lines[1:]...)))
	if code != 1 || !strings.Contains(out, "line 1: checkpoint: the signature does not match") {
		t.Fatalf("verify --checkpoints with a changed head: %d\n%s", code, out)
	}
	// A removed first line breaks the chain of lines.
	code, out, _ = runCLI(t, dir, "verify", "--checkpoints", writeLines(t, lines[1:]))
	if code != 1 || !strings.Contains(out, fmt.Sprintf("checkpoint %d (line 1): does not link to the line before it", parseLine(t, lines[1]).Seq)) {
		t.Fatalf("verify --checkpoints without its first line: %d\n%s", code, out)
	}
	// Whoever rewrote the chain re-signs a whole file with a key of their
	// own: it holds together, but not under the public key kept apart.
	_, other, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	cur2 := t.TempDir()
	res, err := resign(ctx, t, dir, cur2, other)
	if err != nil || res.Checkpoint == nil {
		t.Fatalf("re-sign: %v %+v", err, res)
	}
	resigned := filepath.Join(cur2, checkpoint.File)
	if code, out, _ := runCLI(t, dir, "verify", "--checkpoints", resigned); code != 0 {
		t.Fatalf("a file re-signed over the rewritten chains holds together without the key: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, dir, "verify", "--checkpoints", resigned, "--public-key", pub)
	if code != 1 || !strings.Contains(out, "signed by key "+checkpoint.PublicKey(other)+", not the expected "+pub) {
		t.Fatalf("verify --checkpoints --public-key of a re-signed file: %d\n%s", code, out)
	}
}

// resign writes a fresh checkpoint file for the database in dir into
// into, signed by k: what an attacker with the database could do.
func resign(ctx context.Context, t *testing.T, dir, into string, k ed25519.PrivateKey) (*checkpoint.Result, error) {
	t.Helper()
	p := startPortal(t, dir, io.Discard)
	defer p.Stop()
	return checkpoint.Write(ctx, p.Store, into, k, time.Now())
}

// TestBackupCarriesTheSigningKeyOnlyWhenAsked: a plain backup leaves the
// checkpoints' signing key out; --with-signing-key carries it, and restore
// puts it back as signing.key (mode 0600); a different PORTAL_SIGNING_KEY
// is refused without restoring anything.
func TestBackupCarriesTheSigningKeyOnlyWhenAsked(t *testing.T) {
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	u := createUser(t, p, "dana", "Dana", false)
	testkit.Complete(t, p.Training, u, "dress")
	p.Stop()
	key, err := checkpoint.ReadKey(dir)
	if err != nil {
		t.Fatalf("the first start made no signing key: %v", err)
	}
	carried := func(file string) []byte {
		t.Helper()
		f, err := os.Open(file) // #nosec G304 -- a test's own file
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sum, err := backup.Check(f, database.SchemaVersion())
		if err != nil {
			t.Fatal(err)
		}
		return sum.SigningKey
	}

	plain := filepath.Join(t.TempDir(), "plain.jsonl.gz")
	if code, out, errs := runCLI(t, dir, "backup", plain); code != 0 || strings.Contains(out, "signing key") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	if carried(plain) != nil {
		t.Fatal("a plain backup carries the signing key")
	}
	into := t.TempDir()
	if code, out, errs := runCLI(t, into, "restore", plain); code != 0 {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(into, checkpoint.KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a plain restore left a signing key: %v", err)
	}
	// PORTAL_SIGNING_KEY signs there and no key file is made; a malformed
	// one is refused before anything is signed.
	t.Setenv("PORTAL_SIGNING_KEY", "not a key")
	if code, out, errs := runCLI(t, into, "checkpoint"); code != 1 || !strings.Contains(errs, "PORTAL_SIGNING_KEY") {
		t.Fatalf("checkpoint with a malformed PORTAL_SIGNING_KEY: %d %s %s", code, out, errs)
	}
	envKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32))
	t.Setenv("PORTAL_SIGNING_KEY", checkpoint.EncodeKey(envKey))
	if code, out, errs := runCLI(t, into, "checkpoint"); code != 0 || !strings.Contains(out, "public key "+checkpoint.PublicKey(envKey)) {
		t.Fatalf("checkpoint with PORTAL_SIGNING_KEY: %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(into, checkpoint.KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("PORTAL_SIGNING_KEY set, yet a key file was made: %v", err)
	}
	t.Setenv("PORTAL_SIGNING_KEY", "")

	with := filepath.Join(t.TempDir(), "with.jsonl.gz")
	if code, out, errs := runCLI(t, dir, "backup", "--with-signing-key", with); code != 0 || !strings.Contains(out, "signing key") {
		t.Fatalf("backup --with-signing-key: %d %s %s", code, out, errs)
	}
	if !bytes.Equal(carried(with), key.Seed()) {
		t.Fatal("backup --with-signing-key does not carry the key")
	}

	// A different PORTAL_SIGNING_KEY is refused, and nothing is restored.
	refused := t.TempDir()
	t.Setenv("PORTAL_SIGNING_KEY", checkpoint.EncodeKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))))
	code, out, errs := runCLI(t, refused, "restore", with)
	if code != 1 || !strings.Contains(errs, "another checkpoint signing key") {
		t.Fatalf("restore with another PORTAL_SIGNING_KEY: %d %s %s", code, out, errs)
	}
	if left, _ := os.ReadDir(refused); len(left) != 0 {
		t.Fatalf("the refused restore left %d files", len(left))
	}
	t.Setenv("PORTAL_SIGNING_KEY", "")

	into = t.TempDir()
	if code, out, errs := runCLI(t, into, "restore", with); code != 0 || !strings.Contains(out, "signing key is in") {
		t.Fatalf("restore --with-signing-key backup: %d %s %s", code, out, errs)
	}
	got, err := checkpoint.ReadKey(into)
	if err != nil || !got.Equal(key) {
		t.Fatalf("the restored signing key: %v", err)
	}
	if st, err := os.Stat(filepath.Join(into, checkpoint.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the restored key is not private: %v", err)
	}
}

// TestCheckpointsDownload: the daily job's work (Server.Checkpoint) signs
// a line; HR downloads the file from GET /api/v1/checkpoints byte for byte
// (an employee may not), and the download verifies against the database.
func TestCheckpointsDownload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	emp := createUser(t, p, "erin", "Erin", false)
	receipt := testkit.Complete(t, p.Training, emp, "dress")
	b := newBrowser(t, p.Base)
	expect(t, b.post("/login", "/login", url.Values{"login": {"erin"}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
	if page := b.get("/receipts/" + receipt.ID); page.status != http.StatusOK || !strings.Contains(page.body, "尚无：检查点每日签署一次") {
		t.Fatalf("the receipt before any checkpoint: %d %.2000s", page.status, page.body)
	}
	hr, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	p.Checkpoint(ctx)
	lines := readLines(t, filepath.Join(dir, checkpoint.File))
	if len(lines) != 1 || parseLine(t, lines[0]).Heads[0].Login != "erin" {
		t.Fatalf("the job's checkpoint: %q", lines)
	}
	// The printable receipt names it, with the head it signed.
	page := b.get("/receipts/" + receipt.ID)
	if page.status != http.StatusOK || !strings.Contains(page.body, receipt.Hash) ||
		!regexp.MustCompile(`第 1 号，签署于 [^<]+；当时签署的链头：<br><code class="hash">`+receipt.Hash).MatchString(page.body) {
		t.Fatalf("the receipt after the checkpoint: %d %.3000s", page.status, page.body)
	}
	get := func(tok string) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.Base+"/api/v1/checkpoints", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("Content-Type"), body
	}
	if code, _, body := get(tokenFor(t, p, emp)); code != http.StatusForbidden {
		t.Fatalf("an employee downloads the checkpoints: %d %s", code, body)
	}
	code, ctype, body := get(tokenFor(t, p, hr))
	if code != http.StatusOK || ctype != "application/x-ndjson" || string(body) != lines[0]+"\n" {
		t.Fatalf("HR's download: %d %s %q", code, ctype, body)
	}
	p.Stop()
	file := filepath.Join(t.TempDir(), "downloaded.jsonl")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := runCLI(t, dir, "verify", "--checkpoints", file); code != 0 || !strings.Contains(out, "1 checkpoints covering 1 receipts of 1 users: 0 problem(s)") {
		t.Fatalf("verify --checkpoints of the download: %d\n%s\n%s", code, out, errs)
	}

	// A crash cut the next append short: the next checkpoint drops the
	// torn bytes and carries on, and the file verifies.
	local := filepath.Join(dir, checkpoint.File)
	f, err := os.OpenFile(local, os.O_WRONLY|os.O_APPEND, 0o600) // #nosec G304 -- a test's own file
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"seq":2,"time":"2026-`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	p = startPortal(t, dir, io.Discard)
	testkit.Complete(t, p.Training, emp, "grooming")
	p.Stop()
	if code, out, errs := runCLI(t, dir, "checkpoint"); code != 0 || !strings.Contains(out, "cut short (22 bytes") || !strings.Contains(out, "checkpoint: 2 signed") {
		t.Fatalf("checkpoint after a torn append: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, dir, "verify", "--checkpoints", local); code != 0 || !strings.Contains(out, "2 checkpoints covering 2 receipts of 1 users: 0 problem(s)") {
		t.Fatalf("verify --checkpoints after a torn append: %d\n%s\n%s", code, out, errs)
	}
}
