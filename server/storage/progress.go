package storage

import (
	"context"
	"hash/fnv"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Progress returns the user's progress; a user with none gets an empty one.
func (s *Storage) Progress(ctx context.Context, userID string) (*model.Progress, error) {
	p := model.Progress{UserID: userID}
	err := s.c(colProgress).FindOne(ctx, bson.M{"_id": userID}).Decode(&p)
	if err != nil && !isNotFound(err) {
		return nil, wrap("progress", err)
	}
	if p.Lessons == nil {
		p.Lessons = map[string]model.LessonProgress{}
	}
	return &p, nil
}

// UpdateLessonProgress applies fields (relative to the lesson's entry) to the
// user's progress with single-document atomic operators: $max for versions,
// so a late event never moves progress back; $set for times; $inc for counts.
func (s *Storage) UpdateLessonProgress(ctx context.Context, userID, slug string, max, set, inc bson.M) error {
	// FerretDB v1 applies an update as read, modify, write: two concurrent
	// updates of one user's document can lose one, so they take turns
	// (lockProgress), across instances too.
	unlock, err := s.lockProgress(ctx, userID)
	if err != nil {
		return err
	}
	defer unlock()
	prefix := "lessons." + slug + "."
	up := bson.M{"$set": bson.M{"updated": time.Now().UTC()}}
	if len(max) > 0 {
		m := bson.M{}
		for k, v := range max {
			m[prefix+k] = v
		}
		up["$max"] = m
	}
	for k, v := range set {
		up["$set"].(bson.M)[prefix+k] = v
	}
	if len(inc) > 0 {
		m := bson.M{}
		for k, v := range inc {
			m[prefix+k] = v
		}
		up["$inc"] = m
	}
	_, err = s.c(colProgress).UpdateOne(ctx, bson.M{"_id": userID}, up, options.UpdateOne().SetUpsert(true))
	s.progressChanged(userID)
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
	s.progressChanged(r.UserID)
	return wrap("record receipt", err)
}

func lockStripe(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id)) // hash.Hash writes never fail
	return int(h.Sum32() % uint32(len(Storage{}.progressLocks)))
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
	s.progressChanged(p.UserID)
	return wrap("replace progress", err)
}
