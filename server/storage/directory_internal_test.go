package storage

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkDirectoryMemory reports what a sole writer's in-memory
// directory keeps a person, built as its load builds it from documents
// the driver decoded: people as make bench seeds them (no password: the
// bench's accounts sign in by session), and the same with a password hash
// and an email. go test -run '^$' -bench DirectoryMemory ./server/storage/
func BenchmarkDirectoryMemory(b *testing.B) {
	const people = 100_000
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, withHash := range []bool{false, true} {
		name := "bench-people"
		if withHash {
			name = "with-password"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				l := newDirLoad()
				for i := range people {
					u := model.User{ID: fmt.Sprintf("%032x", i), Login: fmt.Sprintf("user%06d", i), Name: fmt.Sprintf("员工%06d", i),
						Roles: []string{model.RoleEmployee}, Department: fmt.Sprintf("dept-%02d", i%50), Active: true,
						Manager: fmt.Sprintf("mgr%04d", i/30), Hired: now.AddDate(0, 0, -(i % 120)), Created: now}
					if withHash {
						u.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$glgstpJvVmnHMwOJ1nNXMQ$dhsRKPStIx/SHkolVuPwv4rcPXcBFTb6ZqIaSpMAqg0"
						u.Email = fmt.Sprintf("user%06d@example.com", i)
					}
					doc, err := bson.Marshal(&u)
					if err != nil {
						b.Fatal(err)
					}
					var d model.User
					if err := bson.Unmarshal(doc, &d); err != nil {
						b.Fatal(err)
					}
					l.add(&d, true)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/people, "B/person")
				runtime.KeepAlive(l)
			}
		})
	}
}
