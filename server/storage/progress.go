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
	_, err = s.c(colProgress).UpdateOne(ctx, bson.M{"_id": userID}, progressOps(u, slug), options.UpdateOne().SetUpsert(true))
	if err != nil || !s.changeHeld(userID, func(p *model.Progress) { applyProgress(p, slug, u) }) {
		s.progressChanged(ctx, userID)
	}
	return wrap("update progress", err)
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
	_, err = s.c(colProgress).UpdateOne(ctx, bson.M{"_id": r.UserID}, up, options.UpdateOne().SetUpsert(true))
	held := err == nil && s.changeHeld(r.UserID, func(p *model.Progress) {
		applyProgress(p, r.Lesson, model.ProgressUpdate{AckVersion: r.Version, Acknowledged: r.At})
		lp := p.Lessons[r.Lesson]
		lp.Receipt = r.ID
		p.Lessons[r.Lesson], p.Head = lp, r.ID
	})
	if !held {
		s.progressChanged(ctx, r.UserID)
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
