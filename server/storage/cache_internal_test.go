package storage

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"conductportal/server/model"
)

// BenchmarkCacheMemory reports what a sole writer's kept sessions, users
// and progress cost for 100,000 people (one session each, progress on six
// lessons): go test -run '^$' -bench CacheMemory ./server/storage/
func BenchmarkCacheMemory(b *testing.B) {
	const people = 100_000
	slugs := []string{"attendance", "customer-reception", "professional-ethics", "grooming", "dress", "deportment"}
	for range b.N {
		var s Storage
		s.keepCaches(func(time.Time) bool { return true })
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		now := time.Now().UTC()
		for i := range people {
			id := fmt.Sprintf("%032x", i)
			s.users.set(id, &model.User{ID: id, Login: fmt.Sprintf("user.%06d", i), Name: "王小明", Roles: []string{model.RoleEmployee},
				Department: "客服部", Manager: "wang.qiang", Email: fmt.Sprintf("user.%06d@example.com", i), Active: true,
				PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$glgstpJvVmnHMwOJ1nNXMQ$dhsRKPStIx/SHkolVuPwv4rcPXcBFTb6ZqIaSpMAqg0",
				Hired:        now, Created: now})
			sid := fmt.Sprintf("%064x", i)
			s.sessions.set(sid, &model.Session{ID: sid, UserID: id, CSRF: fmt.Sprintf("%043x", i), Created: now, LastSeen: now,
				Expires: now, Client: "203.0.113.9"})
			p := &model.Progress{UserID: id, Updated: now, Head: id, Lessons: map[string]model.LessonProgress{}}
			for j, slug := range slugs {
				lp := model.LessonProgress{ReadVersion: 1, Attempts: j % 3, LastAttempt: now}
				if j%2 == 0 {
					lp.PassVersion, lp.AckVersion, lp.Acknowledged, lp.Receipt = 1, 1, now, id
				}
				if j%3 == 1 {
					lp.Fails, lp.LastFailed = map[string]int{model.FailKey(1): 1}, now
				}
				p.Lessons[slug] = lp
			}
			s.progs.set(id, p)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB/100k-people")
		s.progs.dropAll()
		runtime.GC()
		var noProgress runtime.MemStats
		runtime.ReadMemStats(&noProgress)
		b.ReportMetric(float64(after.HeapAlloc-noProgress.HeapAlloc)/(1<<20), "MB-progress")
		runtime.KeepAlive(&s)
	}
}

// A bulk load keeps what it read, but not what a write or drop touched
// while it ran (the write's state is newer), and nothing after a drop of
// many.
func TestCacheLoad(t *testing.T) {
	var c accessCache[int]
	c.keep(func(time.Time) bool { return true }, 0)
	at := time.Now()
	if !c.startLoad() {
		t.Fatal("a kept cache refuses a load")
	}
	c.drop("dropped")
	c.set("written", 3)
	if n := c.endLoad(map[string]int{"dropped": 1, "written": 1, "other": 1}, at); n != 1 {
		t.Errorf("kept %d of the load, want 1", n)
	}
	for id, want := range map[string]int{"written": 3, "other": 1} {
		if v, ok := c.get(id); !ok || v != want {
			t.Errorf("%s: %v %v, want %d", id, v, ok, want)
		}
	}
	if _, ok := c.get("dropped"); ok {
		t.Error("an id dropped during the load is kept from it")
	}
	c.startLoad()
	c.dropIf(func(int) bool { return false })
	if n := c.endLoad(map[string]int{"late": 1}, at); n != 0 {
		t.Errorf("kept %d after a drop of many during the load", n)
	}
	var ttl accessCache[int]
	if ttl.startLoad() {
		t.Error("a cache with a TTL takes a load")
	}
}
