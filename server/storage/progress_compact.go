package storage

import (
	"maps"
	"math"
	"reflect"
	"time"

	"conductportal/server/model"
)

// packed is one user's progress as the progress cache keeps it: about
// half of model.Progress's size (a slice instead of a map per user, one
// copy of each lesson's slug, times as bson's milliseconds, counts as
// int32, receipt ids as their 16 bytes in place of a 32-byte string
// each: 11 MB at 100,000 people). A document the packed form would not
// give back exactly (a count past int32, a time not in UTC, an id not
// made by NewID) is kept whole instead.
type packed struct {
	whole   *model.Progress
	updated int64
	head    rawID          // see packID
	lessons []packedLesson // nil: Lessons was nil
}

type packedLesson struct {
	slug                                  string
	receipt                               rawID          // see packID
	fails                                 map[string]int // shared with what unpack returns: read only
	lastAttempt, acknowledged, lastFailed int64
	read, pass, ack, attempts             int32
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

// noTime stands for the zero time.Time.
const noTime = math.MinInt64

// slugs interns lesson slugs: 100,000 users name the same few lessons.
type slugs map[string]string

func (in slugs) of(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
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

func fits32(vs ...int) bool {
	for _, v := range vs {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return false
		}
	}
	return true
}

// pack returns p's packed form, checked to unpack to p exactly.
func pack(p model.Progress, in slugs) packed {
	head, ok := packID(p.Head)
	if !ok {
		return packed{whole: &p}
	}
	k := packed{updated: packTime(p.Updated), head: head}
	if p.Lessons != nil {
		k.lessons = make([]packedLesson, 0, len(p.Lessons))
	}
	for slug, l := range p.Lessons {
		receipt, ok := packID(l.Receipt)
		if !ok || !fits32(l.ReadVersion, l.PassVersion, l.AckVersion, l.Attempts) {
			return packed{whole: &p}
		}
		k.lessons = append(k.lessons, packedLesson{slug: in.of(slug), receipt: receipt, fails: l.Fails,
			lastAttempt: packTime(l.LastAttempt), acknowledged: packTime(l.Acknowledged), lastFailed: packTime(l.LastFailed),
			read: int32(l.ReadVersion), pass: int32(l.PassVersion), ack: int32(l.AckVersion), attempts: int32(l.Attempts)}) // #nosec G115 -- fits32 checked
	}
	if !reflect.DeepEqual(k.unpack(p.UserID), p) {
		return packed{whole: &p}
	}
	return k
}

// unpack returns the progress of user id.
func (k packed) unpack(id string) model.Progress {
	if k.whole != nil {
		return *k.whole
	}
	p := model.Progress{UserID: id, Updated: unpackTime(k.updated), Head: unpackID(k.head)}
	if k.lessons != nil {
		p.Lessons = make(map[string]model.LessonProgress, len(k.lessons))
	}
	for _, l := range k.lessons {
		p.Lessons[l.slug] = model.LessonProgress{ReadVersion: int(l.read), PassVersion: int(l.pass), AckVersion: int(l.ack),
			Attempts: int(l.attempts), LastAttempt: unpackTime(l.lastAttempt), Acknowledged: unpackTime(l.acknowledged),
			Fails: l.fails, LastFailed: unpackTime(l.lastFailed), Receipt: unpackID(l.receipt)}
	}
	return p
}

// own is the progress of user id as a copy the caller may change (unpack's
// shares the failure counts, and a whole document, with the cache): built
// once, not unpacked and then copied (a lesson page read progress twice
// over, 2.8 KB a request, a third of its garbage with Standings').
func (k packed) own(id string) *model.Progress {
	if k.whole != nil {
		return copyProgress(k.whole)
	}
	p := k.unpack(id)
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	for slug, l := range p.Lessons {
		if l.Fails != nil {
			l.Fails = maps.Clone(l.Fails)
			p.Lessons[slug] = l
		}
	}
	return &p
}

// updatedAt is when the progress was last written.
func (k packed) updatedAt() time.Time {
	if k.whole != nil {
		return k.whole.Updated
	}
	return unpackTime(k.updated)
}
