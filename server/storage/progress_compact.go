package storage

import (
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"conductportal/server/model"
)

// packed is one user's progress as the progress cache keeps it: one
// string of varints (see pack), about a third of model.Progress's size
// and half of the struct-per-lesson form before it (at 100,000 people
// with five lessons each, 58 MB kept became about 30: BenchmarkCacheMemory's
// MB-progress). A document the packed form would not give back exactly (a
// time not in UTC, an id not made by NewID) is kept whole instead.
type packed struct {
	whole *model.Progress
	b     string // the encoding, read only; unused when whole is set
}

// The encoding, in order: a flags uvarint (packLessons: Lessons not nil),
// Updated (a time), Head (an id), the number of lessons, then each lesson:
// its slug's number (see lessonSlugs), ReadVersion, PassVersion,
// AckVersion and Attempts (varints), LastAttempt, Acknowledged and
// LastFailed (times), Receipt (an id), and Fails (a uvarint 0 for nil,
// else 1 + the count, then each key's length, bytes and its varint). A
// time is uvarint 0 for the zero time, else 1 + the zig-zag of its bson
// milliseconds; an id a byte 0 for none, else 1 and its 16 bytes.
const packLessons = 1

// noTime stands for the zero time.Time.
const noTime = math.MinInt64

// lessonSlugs numbers the lessons' slugs for every packed progress of
// the process (there are a few lessons; 100,000 users name them all):
// numbers are never reused, so one packed under an old table stays true.
// Readers load the list without a lock (a decode reads it once).
var lessonSlugs struct {
	mu     sync.Mutex // held to add one
	number map[string]uint64
	list   atomic.Pointer[[]string] // by number; replaced, never changed
}

func slugNumber(slug string) uint64 {
	lessonSlugs.mu.Lock()
	defer lessonSlugs.mu.Unlock()
	if n, ok := lessonSlugs.number[slug]; ok {
		return n
	}
	if lessonSlugs.number == nil {
		lessonSlugs.number = map[string]uint64{}
	}
	var list []string
	if l := lessonSlugs.list.Load(); l != nil {
		list = *l
	}
	n := uint64(len(list))
	list = append(slices.Clip(list), slug)
	lessonSlugs.number[slug] = n
	lessonSlugs.list.Store(&list)
	return n
}

// slugList is the slugs by number.
func slugList() []string {
	if l := lessonSlugs.list.Load(); l != nil {
		return *l
	}
	return nil
}

func packTime(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMilli()
}

func unpackTime(ms int64) time.Time {
	if ms == noTime {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// packID is id as packed keeps it: the zero rawID for none; ok is false
// for an id not made by NewID (or NewID's all-zero one, which would read
// back as none).
func packID(id string) (r rawID, ok bool) {
	if id == "" {
		return r, true
	}
	r, ok = rawOf(id)
	return r, ok && r != rawID{}
}

func unpackID(r rawID) string {
	if r == (rawID{}) {
		return ""
	}
	return r.String()
}

// packer appends to b; ok turns false at an id it cannot hold.
type packer struct {
	b  []byte
	ok bool
}

func (w *packer) int(v int) { w.b = binary.AppendVarint(w.b, int64(v)) }

func (w *packer) time(t time.Time) {
	ms := packTime(t)
	if ms == noTime {
		w.b = append(w.b, 0)
		return
	}
	w.b = binary.AppendUvarint(w.b, uint64(ms<<1^ms>>63)+1) // #nosec G115 -- zig-zag; noTime is the only MaxUint64
}

func (w *packer) id(id string) {
	r, ok := packID(id)
	switch {
	case !ok:
		w.ok = false
	case r == rawID{}:
		w.b = append(w.b, 0)
	default:
		w.b = append(append(w.b, 1), r[:]...)
	}
}

// pack returns p's packed form, checked to unpack to p exactly.
func pack(p model.Progress) packed {
	w := packer{b: make([]byte, 0, 24+48*len(p.Lessons)), ok: true}
	flags := uint64(0)
	if p.Lessons != nil {
		flags |= packLessons
	}
	w.b = binary.AppendUvarint(w.b, flags)
	w.time(p.Updated)
	w.id(p.Head)
	w.b = binary.AppendUvarint(w.b, uint64(len(p.Lessons)))
	for slug, l := range p.Lessons {
		w.b = binary.AppendUvarint(w.b, slugNumber(slug))
		w.int(l.ReadVersion)
		w.int(l.PassVersion)
		w.int(l.AckVersion)
		w.int(l.Attempts)
		w.time(l.LastAttempt)
		w.time(l.Acknowledged)
		w.time(l.LastFailed)
		w.id(l.Receipt)
		if l.Fails == nil {
			w.b = append(w.b, 0)
		} else {
			w.b = binary.AppendUvarint(w.b, uint64(len(l.Fails))+1)
			for key, n := range l.Fails {
				w.b = binary.AppendUvarint(w.b, uint64(len(key)))
				w.b = append(w.b, key...)
				w.int(n)
			}
		}
	}
	if !w.ok {
		return packed{whole: &p}
	}
	k := packed{b: string(w.b)}
	if got, ok := k.decode(p.UserID); !ok || !reflect.DeepEqual(got, p) {
		return packed{whole: &p}
	}
	return k
}

// unpacker reads a packed encoding; ok turns false at anything amiss.
type unpacker struct {
	b  string
	ok bool
}

func (r *unpacker) uvarint() uint64 {
	if !r.ok {
		return 0
	}
	var v uint64
	for i := 0; i < len(r.b) && i < binary.MaxVarintLen64; i++ {
		c := r.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			r.b = r.b[i+1:]
			return v
		}
	}
	r.ok = false
	return 0
}

func (r *unpacker) int() int {
	u := r.uvarint()
	return int(int64(u>>1) ^ -int64(u&1)) // #nosec G115 -- zig-zag, as binary.AppendVarint wrote it
}

func (r *unpacker) time() time.Time {
	u := r.uvarint()
	if u == 0 {
		return time.Time{}
	}
	u--
	return unpackTime(int64(u>>1) ^ -int64(u&1)) // #nosec G115 -- zig-zag
}

func (r *unpacker) id() string {
	if !r.ok || len(r.b) == 0 {
		r.ok = false
		return ""
	}
	if r.b[0] == 0 {
		r.b = r.b[1:]
		return ""
	}
	if len(r.b) < 17 {
		r.ok = false
		return ""
	}
	var id rawID
	copy(id[:], r.b[1:17])
	r.b = r.b[17:]
	return unpackID(id)
}

func (r *unpacker) str(n uint64) string {
	if !r.ok || n > uint64(len(r.b)) {
		r.ok = false
		return ""
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// decode is the progress of user id from the encoding; ok is false for
// an encoding it cannot read (pack then keeps the document whole).
func (k packed) decode(id string) (model.Progress, bool) {
	r := unpacker{b: k.b, ok: true}
	slugs := slugList()
	flags := r.uvarint()
	p := model.Progress{UserID: id, Updated: r.time(), Head: r.id()}
	n := r.uvarint()
	if flags&packLessons != 0 {
		p.Lessons = make(map[string]model.LessonProgress, min(n, 64))
	}
	for range n {
		sn := r.uvarint()
		known := sn < uint64(len(slugs))
		slug := ""
		if known {
			slug = slugs[sn]
		}
		l := model.LessonProgress{ReadVersion: r.int(), PassVersion: r.int(), AckVersion: r.int(), Attempts: r.int(),
			LastAttempt: r.time(), Acknowledged: r.time(), LastFailed: r.time(), Receipt: r.id()}
		if f := r.uvarint(); f > 0 {
			l.Fails = make(map[string]int, min(f-1, 64))
			for range f - 1 {
				key := r.str(r.uvarint())
				l.Fails[key] = r.int()
			}
		}
		if !r.ok || !known || p.Lessons == nil {
			return model.Progress{}, false
		}
		p.Lessons[slug] = l
	}
	return p, r.ok && len(r.b) == 0
}

// unpack returns the progress of user id: read only (a whole document is
// the cache's own).
func (k packed) unpack(id string) model.Progress {
	if k.whole != nil {
		return *k.whole
	}
	p, _ := k.decode(id) // pack checked that it decodes
	return p
}

// own is the progress of user id as a copy the caller may change: built
// once, not unpacked and then copied (a lesson page read progress twice
// over, 2.8 KB a request, a third of its garbage with Standings'). A
// decode makes fresh maps.
func (k packed) own(id string) *model.Progress {
	if k.whole != nil {
		return copyProgress(k.whole)
	}
	p, _ := k.decode(id)
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	return &p
}

// updatedAt is when the progress was last written.
func (k packed) updatedAt() time.Time {
	if k.whole != nil {
		return k.whole.Updated
	}
	r := unpacker{b: k.b, ok: true}
	r.uvarint()
	return r.time()
}

func fits32(vs ...int) bool {
	for _, v := range vs {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return false
		}
	}
	return true
}
