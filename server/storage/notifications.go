package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateNotification stores n unless a notification with its _id exists,
// and reports whether this call stored it. The _id is the unique key that
// makes a reminder go out once, even when two instances race: FerretDB v1
// never stores two documents with one _id. The recipient's unread count
// goes up with each stored notification.
func (s *Storage) CreateNotification(ctx context.Context, n *model.Notification) (bool, error) {
	_, err := s.c(colNotifications).InsertOne(ctx, n)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap("create notification", err)
	}
	// The count is a convenience for the bell; the inbox recounts it.
	unlock, err := s.turns.lock(ctx, userKey(n.UserID))
	if err != nil {
		return true, err
	}
	defer unlock()
	_, err = s.c(colUsers).UpdateOne(ctx, bson.M{"_id": n.UserID}, bson.M{"$inc": bson.M{"unread": 1}})
	s.userWritten(ctx, n.UserID)
	return true, wrap("count notification", err)
}

// ExistingNotifications returns which of ids are stored, in one read.
func (s *Storage) ExistingNotifications(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.c(colNotifications).Find(ctx, bson.M{"_id": bson.M{"$in": ids}},
		options.Find().SetProjection(bson.M{"_id": 1}))
	if err != nil {
		return nil, wrap("existing notifications", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d struct {
			ID string `bson:"_id"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, wrap("existing notifications", err)
		}
		out[d.ID] = true
	}
	return out, wrap("existing notifications", cur.Err())
}

// Notifications returns a user's notifications, newest first, at most limit.
func (s *Storage) Notifications(ctx context.Context, userID string, limit int64) ([]model.Notification, error) {
	return s.notificationsWhere(ctx, bson.M{"user_id": userID}, limit)
}

// NotificationsAbout returns the notifications sent about a person, newest
// first, at most limit: reminders to them and escalations to their manager.
func (s *Storage) NotificationsAbout(ctx context.Context, userID string, limit int64) ([]model.Notification, error) {
	return s.notificationsWhere(ctx, bson.M{"about": userID}, limit)
}

func (s *Storage) notificationsWhere(ctx context.Context, filter bson.M, limit int64) ([]model.Notification, error) {
	cur, err := s.c(colNotifications).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, wrap("notifications", err)
	}
	var out []model.Notification
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("notifications", err)
	}
	return out, nil
}

// MarkNotificationsRead marks every notification of a user read and resets
// the user's unread count.
func (s *Storage) MarkNotificationsRead(ctx context.Context, userID string) error {
	unlock, err := s.turns.lock(ctx, userKey(userID))
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.c(colNotifications).UpdateMany(ctx, bson.M{"user_id": userID, "read": false},
		bson.M{"$set": bson.M{"read": true}}); err != nil {
		return wrap("mark notifications read", err)
	}
	_, err = s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID}, bson.M{"$set": bson.M{"unread": 0}})
	s.userWritten(ctx, userID)
	return wrap("mark notifications read", err)
}

// ResolveNotifications marks the notifications ids of a user read (their
// lessons are done) and takes them off the user's unread count.
func (s *Storage) ResolveNotifications(ctx context.Context, userID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	unlock, err := s.turns.lock(ctx, userKey(userID))
	if err != nil {
		return err
	}
	defer unlock()
	res, err := s.c(colNotifications).UpdateMany(ctx, bson.M{"_id": bson.M{"$in": ids}, "user_id": userID, "read": false},
		bson.M{"$set": bson.M{"read": true}})
	if err != nil {
		return wrap("resolve notifications", err)
	}
	defer s.userWritten(ctx, userID)
	if res.ModifiedCount == 0 {
		return nil
	}
	if _, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID}, bson.M{"$inc": bson.M{"unread": -res.ModifiedCount}}); err != nil {
		return wrap("resolve notifications", err)
	}
	// The count is a convenience (the inbox recounts); never below zero.
	_, err = s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID, "unread": bson.M{"$lt": 0}}, bson.M{"$set": bson.M{"unread": 0}})
	return wrap("resolve notifications", err)
}

// SetNotificationEmailed records the outcome of mailing a notification.
func (s *Storage) SetNotificationEmailed(ctx context.Context, id string, at time.Time, errText string) error {
	set := bson.M{"email_error": errText}
	if errText == "" {
		set = bson.M{"emailed": at}
	}
	_, err := s.c(colNotifications).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": set})
	return wrap("set notification emailed", err)
}
