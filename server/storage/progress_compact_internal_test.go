package storage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The packed encoding gives back every progress it keeps exactly, none
// kept whole, over random documents: nil and empty lessons and failure
// counts, zero and extreme times and counts, ids and none.
func TestPackRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	when := func() time.Time {
		switch rnd.IntN(4) {
		case 0:
			return time.Time{}
		case 1:
			return time.UnixMilli(-rnd.Int64N(1 << 45)).UTC()
		}
		return time.UnixMilli(rnd.Int64N(1 << 45)).UTC()
	}
	count := func() int {
		switch rnd.IntN(4) {
		case 0:
			return math.MaxInt
		case 1:
			return math.MinInt
		}
		return rnd.IntN(20) - 3
	}
	id := func() string {
		if rnd.IntN(3) == 0 {
			return ""
		}
		return model.NewID()
	}
	for i := range 2000 {
		p := model.Progress{UserID: model.NewID(), Updated: when(), Head: id()}
		if i%7 != 0 {
			p.Lessons = map[string]model.LessonProgress{}
		}
		for j := range rnd.IntN(8) {
			if p.Lessons == nil {
				break
			}
			l := model.LessonProgress{ReadVersion: count(), PassVersion: count(), AckVersion: count(), Attempts: count(),
				LastAttempt: when(), Acknowledged: when(), LastFailed: when(), Receipt: id()}
			if f := rnd.IntN(4); f > 0 {
				l.Fails = map[string]int{}
				for v := range f - 1 {
					l.Fails[model.FailKey(v)] = count()
				}
			}
			p.Lessons[fmt.Sprintf("lesson-%d", j+rnd.IntN(3))] = l
		}
		k := pack(p)
		if k.whole != nil {
			t.Fatalf("%+v kept whole", p)
		}
		if got := k.unpack(p.UserID); !reflect.DeepEqual(got, p) {
			t.Fatalf("unpacked %+v\nwant %+v", got, p)
		}
		if got := k.updatedAt(); !got.Equal(p.Updated) {
			t.Fatalf("updated %v, want %v", got, p.Updated)
		}
		own := k.own(p.UserID)
		for slug, l := range own.Lessons {
			for key := range l.Fails {
				l.Fails[key]++
			}
			l.Attempts++
			own.Lessons[slug] = l
		}
		if got := k.unpack(p.UserID); !reflect.DeepEqual(got, p) {
			t.Fatalf("after the owner changed its copy: %+v\nwant %+v", got, p)
		}
	}
}

// BenchmarkProgressMemory reports what the reports' packed copy of
// everyone's progress keeps a person (the map's entry included), for
// progress as make bench seeds it: six lessons, two fifths acknowledged
// (with a receipt), one fifth passed, one read, one not started.
// go test -run '^$' -bench ProgressMemory ./server/storage/
func BenchmarkProgressMemory(b *testing.B) {
	const people = 100_000
	lessons := []string{"attendance", "customer-reception", "professional-ethics", "grooming", "dress", "deportment"}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		docs := map[string]packed{}
		for i := range people {
			p := model.Progress{UserID: model.NewID(), Lessons: map[string]model.LessonProgress{}, Updated: now}
			for j, l := range lessons {
				switch (i + j) % 5 {
				case 0, 1:
					p.Head = model.NewID()
					p.Lessons[l] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, AckVersion: 1, Attempts: 1,
						Acknowledged: now.AddDate(0, 0, -(i % 60)), Receipt: p.Head}
				case 2:
					p.Lessons[l] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, Attempts: 2}
				case 3:
					p.Lessons[l] = model.LessonProgress{ReadVersion: 1}
				}
			}
			doc, err := bson.Marshal(&p)
			if err != nil {
				b.Fatal(err)
			}
			var d model.Progress
			if err := bson.Unmarshal(doc, &d); err != nil {
				b.Fatal(err)
			}
			docs[d.UserID] = pack(d)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/people, "B/person")
		runtime.KeepAlive(docs)
	}
}

// BenchmarkProgressOwn: a page's read of one person's progress from the
// packed copy (five lessons, two with a receipt, as the bench seeds).
func BenchmarkProgressOwn(b *testing.B) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	p := model.Progress{UserID: model.NewID(), Lessons: map[string]model.LessonProgress{}, Updated: now, Head: model.NewID()}
	for j, l := range []string{"attendance", "customer-reception", "professional-ethics", "grooming", "dress"} {
		p.Lessons[l] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, Attempts: j}
		if j < 2 {
			p.Lessons[l] = model.LessonProgress{ReadVersion: 1, PassVersion: 1, AckVersion: 1, Attempts: 1, Acknowledged: now, Receipt: model.NewID()}
		}
	}
	k := pack(p)
	b.ReportAllocs()
	for b.Loop() {
		_ = k.own(p.UserID)
	}
}
