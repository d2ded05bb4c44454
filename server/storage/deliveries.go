package storage

import (
	"context"
	"strconv"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// QueueDelivery stores d unless a delivery with its _id (message|channel)
// exists, and reports whether this call stored it: the unique key queues
// each message for each channel once, even when instances race.
func (s *Storage) QueueDelivery(ctx context.Context, d *model.Delivery) (bool, error) {
	_, err := s.c(colDeliveries).InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, wrap("queue delivery", err)
}

// DueDeliveries returns pending deliveries whose next attempt is due at
// now, oldest first, at most limit.
func (s *Storage) DueDeliveries(ctx context.Context, now time.Time, limit int64) ([]model.Delivery, error) {
	cur, err := s.c(colDeliveries).Find(ctx, bson.M{"status": model.DeliveryPending, "next": bson.M{"$lte": now}},
		options.Find().SetSort(bson.D{{Key: "next", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, wrap("due deliveries", err)
	}
	var out []model.Delivery
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("due deliveries", err)
	}
	return out, nil
}

// Deliveries returns the newest deliveries, at most limit; channelID and
// status, when set, keep one channel's and those in that state.
func (s *Storage) Deliveries(ctx context.Context, channelID, status string, limit int64) ([]model.Delivery, error) {
	filter := bson.M{}
	if channelID != "" {
		filter["channel_id"] = channelID
	}
	if status != "" {
		filter["status"] = status
	}
	cur, err := s.c(colDeliveries).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "updated", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, wrap("deliveries", err)
	}
	var out []model.Delivery
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("deliveries", err)
	}
	return out, nil
}

// DeliveriesPage returns at most limit deliveries, newest change first
// (updated down, _id up), after the cursor, and whether more follow;
// channelID and status, when set, keep one channel's and those in that
// state. The log holds KeepLog's worth of finished deliveries (pruned
// daily), so the scan FerretDB makes of it is bounded by that, not by the
// company's history. A delivery retried while HR pages moves to the top:
// a later page neither shows it again nor misses an older one.
func (s *Storage) DeliveriesPage(ctx context.Context, channelID, status string, after model.Cursor, limit int) ([]model.Delivery, bool, error) {
	filter := bson.M{}
	if channelID != "" {
		filter["channel_id"] = channelID
	}
	if status != "" {
		filter["status"] = status
	}
	if after.ID != "" {
		filter["$or"] = bson.A{
			bson.M{"updated": bson.M{"$lt": after.At}},
			bson.M{"updated": after.At, "_id": bson.M{"$gt": after.ID}},
		}
	}
	cur, err := s.c(colDeliveries).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "updated", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)+1))
	if err != nil {
		return nil, false, wrap("deliveries page", err)
	}
	var out []model.Delivery
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, wrap("deliveries page", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// ClaimAttempt inserts the claim of attempt n of a delivery and reports
// whether this call made it: the instance that did makes the attempt.
func (s *Storage) ClaimAttempt(ctx context.Context, deliveryID string, n int, at time.Time) (bool, error) {
	_, err := s.c(colAttemptClaims).InsertOne(ctx, model.DeliveryAttempt{ID: attemptKey(deliveryID, n), Delivery: deliveryID, At: at})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, wrap("claim attempt", err)
}

// attemptKey is the _id of attempt n of a delivery.
func attemptKey(deliveryID string, n int) string {
	return deliveryID + "#" + strconv.Itoa(n)
}

// SetDeliveryOutcome records what attempt d.Attempts did: status, next
// time, error. Only the claimant of the attempt calls it.
func (s *Storage) SetDeliveryOutcome(ctx context.Context, d *model.Delivery) error {
	_, err := s.c(colDeliveries).UpdateOne(ctx, bson.M{"_id": d.ID}, bson.M{"$set": bson.M{
		"status": d.Status, "attempts": d.Attempts, "next": d.Next, "err_code": d.ErrCode, "error": d.Error,
		"sent": d.Sent, "updated": d.Updated,
	}})
	return wrap("set delivery outcome", err)
}

// AttemptClaimed returns when attempt n of a delivery was claimed.
func (s *Storage) AttemptClaimed(ctx context.Context, deliveryID string, n int) (time.Time, error) {
	var a model.DeliveryAttempt
	if err := s.c(colAttemptClaims).FindOne(ctx, bson.M{"_id": attemptKey(deliveryID, n)}).Decode(&a); err != nil {
		return time.Time{}, wrap("attempt claimed", err)
	}
	return a.At, nil
}

// PruneDeliveries removes finished deliveries last updated before cutoff,
// and attempt claims made before it: the log keeps recent history, and
// the worker's scan of the queue stays short (FerretDB scans).
func (s *Storage) PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.c(colDeliveries).DeleteMany(ctx, bson.M{"status": bson.M{"$ne": model.DeliveryPending}, "updated": bson.M{"$lt": cutoff}})
	if err != nil {
		return 0, wrap("prune deliveries", err)
	}
	if _, err := s.c(colAttemptClaims).DeleteMany(ctx, bson.M{"at": bson.M{"$lt": cutoff}}); err != nil {
		return res.DeletedCount, wrap("prune delivery attempts", err)
	}
	return res.DeletedCount, nil
}
