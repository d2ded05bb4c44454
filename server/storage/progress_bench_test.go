package storage_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// BenchmarkUpdateLessonProgress is one progress update ($inc and $max, as
// a quiz start makes) on the embedded database with this process its only
// writer (a mutex orders a user's updates), and on a database that
// instances share (a lease in the locks collection orders them: an insert
// and a delete by _id more per update).
func BenchmarkUpdateLessonProgress(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"embedded", "shared"} {
		b.Run(mode, func(b *testing.B) {
			var p *testkit.Portal
			if mode == "embedded" {
				p = testkit.Start(b, filepath.Join(b.TempDir(), "data"), io.Discard)
			} else {
				p = testkit.StartShared(b, 1, io.Discard)[0]
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := p.Store.UpdateLessonProgress(ctx, "bench-user", "dress",
					model.ProgressUpdate{LastAttempt: time.Now(), AddAttempts: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
