package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Progress returns the user's progress; a user with none gets an empty one.
// Every learner's page asks for it: it is kept (see accessCache), and
// every write of it below drops the kept copy once the write is done.
func (s *Storage) Progress(ctx context.Context, userID string) (*model.Progress, error) {
	if p, ok := s.heldProgress(userID); ok { // not written yet (progress_behind.go)
		return p, nil
	}
	if p, ok := s.reportsProgress(userID); ok {
		return p, nil
	}
	if p, ok := s.progs.getSettled(ctx, userID); ok {
		return copyProgress(p), nil
	}
	at, drops := s.progs.begin()
	p := model.Progress{UserID: userID}
	err := s.c(colProgress).FindOne(ctx, bson.M{"_id": userID}).Decode(&p)
	if err != nil && !isNotFound(err) {
		return nil, wrap("progress", err)
	}
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	s.progs.put(userID, copyProgress(&p), at, drops)
	return &p, nil
}

// progressOps is u as update operators on the lesson's entry of a progress
// document.
func progressOps(u model.ProgressUpdate, slug string) bson.M {
	prefix := "lessons." + slug + "."
	maxOps, incOps := bson.M{}, bson.M{}
	raiseInt := func(field string, v int) {
		if v > 0 {
			maxOps[prefix+field] = v
		}
	}
	raiseTime := func(field string, t time.Time) {
		if !t.IsZero() {
			maxOps[prefix+field] = t
		}
	}
	raiseInt("read_version", u.ReadVersion)
	raiseInt("pass_version", u.PassVersion)
	raiseInt("ack_version", u.AckVersion)
	raiseInt("attempts", u.Attempts)
	raiseTime("last_attempt", u.LastAttempt)
	raiseTime("acknowledged", u.Acknowledged)
	raiseTime("last_failed", u.LastFailed)
	for k, n := range u.Fails {
		raiseInt("fails."+k, n)
	}
	if u.AddAttempts != 0 {
		incOps[prefix+"attempts"] = u.AddAttempts
	}
	if u.FailedVersion > 0 {
		incOps[prefix+"fails."+model.FailKey(u.FailedVersion)] = 1
	}
	up := bson.M{"$set": bson.M{"updated": time.Now().UTC()}}
	if len(maxOps) > 0 {
		up["$max"] = maxOps
	}
	if len(incOps) > 0 {
		up["$inc"] = incOps
	}
	return up
}

// UpdateLessonProgress applies u to the user's progress on the lesson with
// single-document atomic operators (see model.ProgressUpdate).
func (s *Storage) UpdateLessonProgress(ctx context.Context, userID, slug string, u model.ProgressUpdate) error {
	// FerretDB v1 applies an update as read, modify, write: two concurrent
	// updates of one user's document can lose one, so they take turns
	// (lockProgress), across instances too.
	unlock, err := s.lockProgress(ctx, userID)
	if err != nil {
		return err
	}
	defer unlock()
	stored, err := s.writeProgress(ctx, userID, progressOps(u, slug))
	if err == nil && s.changeHeld(userID, func(p *model.Progress) { applyProgress(p, slug, u) }) {
		return nil
	}
	s.progressWritten(ctx, userID, stored)
	return wrap("update progress", err)
}

// writeProgress applies up to the user's document (upserted) and returns
// the document as it stands after it, or nil when the write failed. The
// caller holds the user's turn (on a shared database a lease no other
// instance's write of it passes), so that is what the database holds
// until the turn is given back.
func (s *Storage) writeProgress(ctx context.Context, userID string, up bson.M) (*model.Progress, error) {
	p := &model.Progress{UserID: userID}
	err := s.c(colProgress).FindOneAndUpdate(ctx, bson.M{"_id": userID}, up,
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(p)
	if err != nil {
		return nil, err
	}
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	return p, nil
}

// progressWritten makes the caches answer p, what a write of this process
// left stored (writeProgress; the user's turn still held), so the user's
// next page reads nothing: before, every write marked the user dirty and
// that page read the document again, which after a burst of quiz answers
// and signatures on a shared database was the lesson page's p99. Other
// instances hear of it from the change log. A nil p (the write failed,
// its outcome unknown) drops what is kept, as before.
func (s *Storage) progressWritten(ctx context.Context, userID string, p *model.Progress) {
	if p == nil {
		s.progressChanged(ctx, userID)
		return
	}
	inCopy := false
	if pc := s.progress; pc != nil {
		pc.mu.Lock()
		switch _, reading := pc.pending[userID]; {
		case !pc.loaded || reading:
			// A load or a reload by _id running may have read the
			// document before this write: its next refresh reads it again.
			pc.dirty[userID] = struct{}{}
		default:
			pc.docs[userID] = pack(*p)
			delete(pc.dirty, userID) // this is newer than what named it
			inCopy = true
		}
		pc.mu.Unlock()
		s.progGen.Add(1)
	}
	if s.sole && inCopy {
		s.progs.drop(userID) // the reports' copy answers: held once (see reportsProgress)
	} else {
		s.progs.set(userID, copyProgress(p))
	}
	s.changed(ctx, changeProgress, userID)
}

// RecordReceipt moves a user's progress to a stored receipt: $max on the
// acknowledged version and time, so a late or repeated update never moves
// it back; the receipt's id as the lesson's and the chain's hint.
func (s *Storage) RecordReceipt(ctx context.Context, r *model.Receipt) error {
	unlock, err := s.lockProgress(ctx, r.UserID)
	if err != nil {
		return err
	}
	defer unlock()
	prefix := "lessons." + r.Lesson + "."
	up := bson.M{
		"$max": bson.M{prefix + "ack_version": r.Version, prefix + "acknowledged": r.At},
		"$set": bson.M{prefix + "receipt": r.ID, "head": r.ID, "updated": time.Now().UTC()},
	}
	stored, err := s.writeProgress(ctx, r.UserID, up)
	held := err == nil && s.changeHeld(r.UserID, func(p *model.Progress) {
		applyProgress(p, r.Lesson, model.ProgressUpdate{AckVersion: r.Version, Acknowledged: r.At})
		lp := p.Lessons[r.Lesson]
		lp.Receipt = r.ID
		p.Lessons[r.Lesson], p.Head = lp, r.ID
	})
	if !held {
		s.progressWritten(ctx, r.UserID, stored)
	}
	return wrap("record receipt", err)
}

// ReplaceProgress stores a rebuilt projection, in turn with the user's
// other progress updates (of every instance: see lockProgress).
func (s *Storage) ReplaceProgress(ctx context.Context, p *model.Progress) error {
	unlock, err := s.lockProgress(ctx, p.UserID)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = s.c(colProgress).ReplaceOne(ctx, bson.M{"_id": p.UserID}, p, options.Replace().SetUpsert(true))
	if err == nil {
		s.letGoHeld(p.UserID) // the stored document is whole now
	}
	s.progressChanged(ctx, p.UserID)
	return wrap("replace progress", err)
}
