package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"conductportal/server/checkpoint"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// BenchmarkCheckpoint signs the heads of 10,000 users' chains of 3
// receipts each on the embedded database (the full first line), again
// with nothing changed (no line), and verifies the file against the
// database: each is one pass over the receipts.
func BenchmarkCheckpoint(b *testing.B) {
	const users, per = 10000, 3
	ctx := context.Background()
	p := testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
	docs := make([]any, 0, 1000)
	flush := func() {
		if _, err := p.DB.Database.Collection("receipts").InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		docs = docs[:0]
	}
	for u := range users {
		prev := ""
		for s := 1; s <= per; s++ {
			r := &model.Receipt{ID: fmt.Sprintf("r%06d-%d", u, s), UserID: fmt.Sprintf("u%06d", u), Login: fmt.Sprintf("p%06d", u),
				Lesson: "dress", Version: s, Lang: model.LangZH, TextHash: "t", Signature: "员工", At: time.Now().UTC().Truncate(time.Millisecond),
				Seq: s, PrevHash: prev}
			r.Hash = training.ReceiptHash(r)
			prev = r.Hash
			docs = append(docs, r)
			if len(docs) == cap(docs) {
				flush()
			}
		}
	}
	if len(docs) > 0 {
		flush()
	}
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		start := time.Now()
		res, err := checkpoint.Write(ctx, p.Store, dir, key, time.Now())
		if err != nil || res.Checkpoint == nil || len(res.Checkpoint.Heads) != users {
			b.Fatalf("first checkpoint: %v", err)
		}
		first := time.Since(start)
		start = time.Now()
		if res, err := checkpoint.Write(ctx, p.Store, dir, key, time.Now()); err != nil || res.Checkpoint != nil {
			b.Fatalf("second checkpoint: %v", err)
		}
		again := time.Since(start)
		raw, err := os.ReadFile(filepath.Join(dir, checkpoint.File)) // #nosec G304 -- the benchmark's own file
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		rep, err := checkpoint.Verify(ctx, p.Store, bytes.NewReader(raw), "")
		if err != nil || len(rep.Problems) > 0 || rep.Receipts != users*per {
			b.Fatalf("verify: %v %+v", err, rep)
		}
		b.ReportMetric(first.Seconds()*1000, "ms/first")
		b.ReportMetric(again.Seconds()*1000, "ms/unchanged")
		b.ReportMetric(time.Since(start).Seconds()*1000, "ms/verify")
		b.ReportMetric(float64(len(raw)), "bytes/line")
	}
}
