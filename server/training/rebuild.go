package training

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"conductportal/server/model"
)

// Progress is a projection of the events (attempts, their graded results,
// receipts): these functions recompute it and compare. Reading state
// (opened, read_version) has no event; it is kept as stored.

// Drift is one field of one user's progress that differs from what the
// events imply.
type Drift struct {
	UserID   string
	Login    string
	Lesson   string
	Field    string
	Stored   string
	Expected string
}

func (d Drift) String() string {
	return fmt.Sprintf("user %s, lesson %s: %s is %s, the events give %s", d.Login, d.Lesson, d.Field, d.Stored, d.Expected)
}

// RebuildReport says what a rebuild or drift check did.
type RebuildReport struct {
	Users    int // users checked
	Drift    []Drift
	Repaired int // users whose progress was rewritten
}

// ExpectedProgress computes a user's progress from their events, keeping
// the reading state of stored.
func (s *Service) ExpectedProgress(stored *model.Progress, ev *model.Events) *model.Progress {
	out := &model.Progress{UserID: stored.UserID, Lessons: map[string]model.LessonProgress{}, Updated: s.Now()}
	for slug, lp := range stored.Lessons {
		if lp.ReadVersion > 0 {
			out.Lessons[slug] = model.LessonProgress{ReadVersion: lp.ReadVersion}
		}
	}
	for _, a := range ev.Attempts {
		lp := out.Lessons[a.Lesson]
		lp.Attempts++
		if a.Started.After(lp.LastAttempt) {
			lp.LastAttempt = a.Started
		}
		if a.Submitted && a.Passed {
			lp.PassVersion = max(lp.PassVersion, a.Version)
		}
		if a.Submitted && !a.Passed {
			if lp.Fails == nil {
				lp.Fails = map[string]int{}
			}
			lp.Fails[model.FailKey(a.Version)]++
			if a.At.After(lp.LastFailed) {
				lp.LastFailed = a.At
			}
		}
		out.Lessons[a.Lesson] = lp
	}
	for _, r := range ev.Receipts { // by seq: the last is the chain's head
		lp := out.Lessons[r.Lesson]
		if r.Version >= lp.AckVersion {
			lp.Receipt = r.ID
		}
		lp.AckVersion = max(lp.AckVersion, r.Version)
		if r.At.After(lp.Acknowledged) {
			lp.Acknowledged = r.At
		}
		out.Lessons[r.Lesson] = lp
		out.Head = r.ID
	}
	return out
}

// progressDrift lists the event-derived fields where stored and expected differ.
func progressDrift(stored, expected *model.Progress) []Drift {
	var out []Drift
	slugs := map[string]bool{}
	for s := range stored.Lessons {
		slugs[s] = true
	}
	for s := range expected.Lessons {
		slugs[s] = true
	}
	for slug := range slugs {
		a, b := stored.Lessons[slug], expected.Lessons[slug]
		field := func(name string, got, want any) {
			if fmt.Sprint(got) != fmt.Sprint(want) {
				out = append(out, Drift{UserID: stored.UserID, Lesson: slug, Field: name, Stored: fmt.Sprint(got), Expected: fmt.Sprint(want)})
			}
		}
		field("attempts", a.Attempts, b.Attempts)
		field("pass_version", a.PassVersion, b.PassVersion)
		field("ack_version", a.AckVersion, b.AckVersion)
		field("last_attempt", stamp(a.LastAttempt), stamp(b.LastAttempt))
		field("acknowledged", stamp(a.Acknowledged), stamp(b.Acknowledged))
		field("fails", a.Fails, b.Fails) // fmt prints maps sorted by key
		field("last_failed", stamp(a.LastFailed), stamp(b.LastFailed))
	}
	slices.SortFunc(out, func(x, y Drift) int {
		if x.Lesson != y.Lesson {
			return compare(x.Lesson, y.Lesson)
		}
		return compare(x.Field, y.Field)
	})
	return out
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// RebuildProgress recomputes the progress of the given users (every user
// when ids is nil) from their events, reports where it differed and, with
// repair, stores the recomputed projection. Repair while no portal serves
// these users: a live update racing the rewrite could be lost.
func (s *Service) RebuildProgress(ctx context.Context, ids []string, repair bool) (*RebuildReport, error) {
	if ids == nil {
		var err error
		if ids, err = s.store.UserIDs(ctx); err != nil {
			return nil, err
		}
	}
	mode := repairNone
	if repair {
		mode = repairReplace
	}
	return s.rebuild(ctx, ids, mode)
}

// How a rebuild repairs: not at all, by rewriting the projection (only
// while nothing else writes it), or by moving it forward only.
const (
	repairNone = iota
	repairReplace
	repairForward
	// repairForwardSettled is repairForward beside serving: see settleForward.
	repairForwardSettled
)

// settleWait is how long a repair beside serving waits before moving
// progress forward: longer than a request's deadline (web's 4 s).
const settleWait = 5 * time.Second

func (s *Service) rebuild(ctx context.Context, ids []string, mode int) (*RebuildReport, error) {
	rep := &RebuildReport{}
	// In batches: each reads every event collection once.
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		if err := s.rebuildBatch(ctx, batch, mode, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (s *Service) rebuildBatch(ctx context.Context, ids []string, mode int, rep *RebuildReport) error {
	progress, err := s.store.StoredProgressOf(ctx, ids)
	if err != nil {
		return err
	}
	events, err := s.store.EventsOf(ctx, ids)
	if err != nil {
		return err
	}
	var lagging []*model.Progress // for repairForwardSettled: what the events gave
	defer func() {
		if len(lagging) > 0 {
			rep.Repaired += s.settleForward(ctx, lagging)
		}
	}()
	for _, id := range ids {
		stored := progress[id]
		want := s.ExpectedProgress(stored, events[id])
		rep.Users++
		drift := progressDrift(stored, want)
		if len(drift) == 0 {
			continue
		}
		login := id
		if u, err := s.store.User(ctx, id); err == nil {
			login = u.Login
		} else if !errors.Is(err, model.ErrNotFound) {
			return err
		}
		for i := range drift {
			drift[i].Login = login
		}
		rep.Drift = append(rep.Drift, drift...)
		switch mode {
		case repairReplace:
			if err := s.store.ReplaceProgress(ctx, want); err != nil {
				return err
			}
			rep.Repaired++
		case repairForwardSettled:
			// $max fields at once (idempotent); the counts once settled.
			moved, err := s.moveForward(ctx, stored, withCounts(want, stored))
			if err != nil {
				return err
			}
			if moved {
				rep.Repaired++
			}
			lagging = append(lagging, want)
		case repairForward:
			moved, err := s.moveForward(ctx, stored, want)
			if err != nil {
				return err
			}
			if moved {
				rep.Repaired++
			}
		}
	}
	return nil
}

// moveForward raises each of stored's event fields that lag want, with
// $max: what a crash between storing an event and updating progress left
// behind. Fields ahead of the events are left for "portal rebuild".
func (s *Service) moveForward(ctx context.Context, stored, want *model.Progress) (bool, error) {
	moved := false
	for slug, w := range want.Lessons {
		g := stored.Lessons[slug]
		up, changed := forward(g, w)
		if !changed {
			continue
		}
		if err := s.store.UpdateLessonProgress(ctx, stored.UserID, slug, up); err != nil {
			return moved, err
		}
		moved = true
	}
	return moved, nil
}

// forward is the update that raises each of g's event fields lagging w's
// (storage applies it with $max), and whether there is any.
func forward(g, w model.LessonProgress) (model.ProgressUpdate, bool) {
	var up model.ProgressUpdate
	changed := false
	if w.Attempts > g.Attempts {
		up.Attempts, changed = w.Attempts, true
	}
	if w.PassVersion > g.PassVersion {
		up.PassVersion, changed = w.PassVersion, true
	}
	if w.AckVersion > g.AckVersion {
		up.AckVersion, changed = w.AckVersion, true
	}
	if w.LastAttempt.After(g.LastAttempt) {
		up.LastAttempt, changed = w.LastAttempt, true
	}
	if w.Acknowledged.After(g.Acknowledged) {
		up.Acknowledged, changed = w.Acknowledged, true
	}
	for k, n := range w.Fails {
		if n > g.Fails[k] {
			if up.Fails == nil {
				up.Fails = map[string]int{}
			}
			up.Fails[k], changed = n, true
		}
	}
	if w.LastFailed.After(g.LastFailed) {
		up.LastFailed, changed = w.LastFailed, true
	}
	return up, changed
}

// CatchUpProgressSample is CheckProgressSample for a portal that serves
// while it runs: it repairs only by moving lagging fields forward ($max),
// which is safe beside live updates, as they only move forward too, and
// only after settleWait (settleForward).
func (s *Service) CatchUpProgressSample(ctx context.Context, recent int64, random int) (*RebuildReport, error) {
	ids, err := s.sampleUsers(ctx, recent, random)
	if err != nil {
		return nil, err
	}
	return s.rebuild(ctx, ids, repairForwardSettled)
}

// withCounts is want with stored's counts (attempts, failures): the
// fields an event adds to rather than raises.
func withCounts(want, stored *model.Progress) *model.Progress {
	out := *want
	out.Lessons = make(map[string]model.LessonProgress, len(want.Lessons))
	for slug, w := range want.Lessons {
		g := stored.Lessons[slug]
		w.Attempts, w.Fails = g.Attempts, g.Fails
		out.Lessons[slug] = w
	}
	return &out
}

// settleForward moves the users' progress forward to want, what their
// events gave, once every request in flight when the events were read has
// ended, and only where progress still lags: an attempt stored but not yet
// counted when they were read counts itself (+1), and raising the count to
// include it first would count it twice. It returns how many moved; a
// failure is logged (the next start checks again).
func (s *Service) settleForward(ctx context.Context, want []*model.Progress) int {
	select {
	case <-ctx.Done():
		return 0
	case <-time.After(settleWait):
	}
	ids := make([]string, len(want))
	for i, w := range want {
		ids[i] = w.UserID
	}
	stored, err := s.store.StoredProgressOf(ctx, ids)
	if err != nil {
		s.log.WarnContext(ctx, "progress not moved forward", "err", err)
		return 0
	}
	moved := 0
	for _, w := range want {
		ok, err := s.moveForward(ctx, stored[w.UserID], w)
		if err != nil {
			s.log.WarnContext(ctx, "progress not moved forward", "user", w.UserID, "err", err)
			return moved
		}
		if ok {
			moved++
		}
	}
	return moved
}

// CheckProgressSample compares the progress of a sample of users with
// their events: the users of the latest events (those a crash may have
// caught between storing an event and updating progress) and a few more at
// random. With repair, drifted users are rebuilt.
func (s *Service) CheckProgressSample(ctx context.Context, recent int64, random int, repair bool) (*RebuildReport, error) {
	ids, err := s.sampleUsers(ctx, recent, random)
	if err != nil {
		return nil, err
	}
	return s.RebuildProgress(ctx, ids, repair)
}

// sampleUsers are the users of the latest events and a few at random.
func (s *Service) sampleUsers(ctx context.Context, recent int64, random int) ([]string, error) {
	ids, err := s.store.RecentEventUsers(ctx, recent)
	if err != nil {
		return nil, err
	}
	all, err := s.store.UserIDs(ctx)
	if err != nil {
		return nil, err
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for _, id := range all[:min(random, len(all))] {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// recoverMargin is how long before the marker's time an event may have
// been stamped whose progress change was held after it: a request's
// whole deadline, and more.
const recoverMargin = time.Minute

// RecoverProgress moves forward, from their events, the progress of every
// user with an event since the last process began holding progress in
// memory, when that process did not stop cleanly (storage's
// progress_behind.go), and then removes the marker. It reports the users
// checked and repaired (nil: nothing to recover). Run it before serving:
// it repairs by $max only, but must be done before requests read progress.
func (s *Service) RecoverProgress(ctx context.Context) (*RebuildReport, error) {
	since, pending, err := s.store.ProgressPending(ctx)
	if err != nil || !pending {
		return nil, err
	}
	ids, err := s.store.EventUsersSince(ctx, since.Add(-recoverMargin))
	if err != nil {
		return nil, err
	}
	rep, err := s.rebuild(ctx, ids, repairForward)
	if err != nil {
		return rep, err
	}
	return rep, s.store.SettleProgress(ctx)
}
