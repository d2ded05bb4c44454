package storage

import (
	"context"
	"errors"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// ClaimSlot takes the attempt slot id (key|window|n) by inserting it: the
// unique _id makes the claim atomic on MongoDB and FerretDB alike, across
// requests and instances. claimed is false when another try holds it.
func (s *Storage) ClaimSlot(ctx context.Context, id string, expires time.Time) (claimed bool, err error) {
	_, err = s.c(colThrottles).InsertOne(ctx, model.ThrottleSlot{ID: id, Expires: expires})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap("claim slot", err)
	}
	return true, nil
}

// SlotTaken says whether the slot id is held.
func (s *Storage) SlotTaken(ctx context.Context, id string) (bool, error) {
	err := s.c(colThrottles).FindOne(ctx, bson.M{"_id": id}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, wrap("slot", err)
	}
	return true, nil
}

// ReleaseSlots gives slots back (a try that was not checked, or that
// succeeded).
func (s *Storage) ReleaseSlots(ctx context.Context, ids ...string) error {
	for _, id := range ids {
		if _, err := s.c(colThrottles).DeleteOne(ctx, bson.M{"_id": id}); err != nil {
			return wrap("release slot", err)
		}
	}
	return nil
}

// DeleteExpiredSlots removes the slots of windows that have ended (no TTL
// index on FerretDB: expiry is the portal's). Slots of an older shape,
// without expires, go too.
func (s *Storage) DeleteExpiredSlots(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.c(colThrottles).DeleteMany(ctx, bson.M{"$or": bson.A{
		bson.M{"expires": bson.M{"$lt": now}}, bson.M{"expires": bson.M{"$exists": false}},
	}})
	if err != nil {
		return 0, wrap("delete expired slots", err)
	}
	return res.DeletedCount, nil
}
