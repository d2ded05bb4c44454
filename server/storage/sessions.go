package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CreateSession stores a new session, and keeps it (the first page after
// signing in then reads nothing).
func (s *Storage) CreateSession(ctx context.Context, sess *model.Session) error {
	if _, err := s.c(colSessions).InsertOne(ctx, sess); err != nil {
		return wrap("create session", err)
	}
	s.sessions.set(sess.ID, copySession(sess))
	return nil
}

// Session returns the session with id (the hash of the cookie value),
// from memory when kept (see accessCache).
func (s *Storage) Session(ctx context.Context, id string) (*model.Session, error) {
	if sess, ok := s.sessions.getSettled(ctx, id); ok {
		return copySession(sess), nil
	}
	at, drops := s.sessions.begin()
	var sess model.Session
	if err := s.c(colSessions).FindOne(ctx, bson.M{"_id": id}).Decode(&sess); err != nil {
		return nil, wrap("session", err)
	}
	s.sessions.put(id, copySession(&sess), at, drops)
	return &sess, nil
}

// SessionCount is about how many sessions are stored: by the counter of
// SetCounter when given (FerretDB v1 reads every document to count, even
// for the estimated count a MongoDB takes from its metadata).
func (s *Storage) SessionCount(ctx context.Context) (int64, error) {
	if s.counter != nil {
		n, err := s.counter(ctx, colSessions)
		return n, wrap("count sessions", err)
	}
	n, err := s.c(colSessions).EstimatedDocumentCount(ctx)
	return n, wrap("count sessions", err)
}

// SetCounter gives storage a count of a collection's documents that reads
// none of them (database.DB.CountEmbedded).
func (s *Storage) SetCounter(fn func(ctx context.Context, collection string) (int64, error)) {
	s.counter = fn
}

// TouchSession records activity on a session. The kept copy takes the
// new time once the database has it, so the touch costs no read.
func (s *Storage) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.c(colSessions).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"last_seen": at}})
	if err != nil || res.MatchedCount == 0 {
		s.sessions.drop(id)
		return wrap("touch session", err)
	}
	s.sessions.change(id, func(sess *model.Session) *model.Session {
		c := copySession(sess)
		c.LastSeen = at
		return c
	})
	// No word to other instances: their copies only lag in last_seen,
	// which the idle timeout (hours) tolerates, and they reread within
	// sharedMaxAge anyway.
	return nil
}

// DeleteSession ends one session.
func (s *Storage) DeleteSession(ctx context.Context, id string) error {
	s.sessions.drop(id)
	_, err := s.c(colSessions).DeleteOne(ctx, bson.M{"_id": id})
	s.sessions.drop(id)
	s.changed(ctx, changeSession, id)
	return wrap("delete session", err)
}

// DeleteUserSessions ends every session of a user except keep.
func (s *Storage) DeleteUserSessions(ctx context.Context, userID, keep string) error {
	_, err := s.c(colSessions).DeleteMany(ctx, bson.M{"user_id": userID, "_id": bson.M{"$ne": keep}})
	s.sessions.dropIf(func(sess *model.Session) bool { return sess.UserID == userID && sess.ID != keep })
	s.changed(ctx, changeUserSessions, userID)
	return wrap("delete user sessions", err)
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleBefore. FerretDB has no TTL indexes, so the portal sweeps.
func (s *Storage) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	res, err := s.c(colSessions).DeleteMany(ctx, bson.M{"$or": bson.A{
		bson.M{"expires": bson.M{"$lt": now}},
		bson.M{"last_seen": bson.M{"$lt": idleBefore}},
	}})
	// Only the kept sessions the sweep matched: the others are still
	// stored (a kept copy is never newer than the database's). Other
	// instances need no word of it: auth refuses an expired or idle
	// session it holds by the same rule.
	s.sessions.dropIf(func(sess *model.Session) bool {
		return err != nil || sess.Expires.Before(now) || sess.LastSeen.Before(idleBefore)
	})
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return res.DeletedCount, nil
}
