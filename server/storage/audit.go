package storage

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Audit appends an entry to the audit log.
func (s *Storage) Audit(ctx context.Context, e *model.AuditEntry) error {
	if e.ID == "" {
		e.ID = model.NewID()
	}
	_, err := s.c(colAudit).InsertOne(ctx, e)
	s.auditWritten(e, err)
	return wrap("audit", err)
}

// auditCounts coalesces this process's counts of one row: while one
// write of a row is under way, further tries add to its pending count, and
// the writer writes them next. FerretDB does not apply an upsert with $inc
// atomically, so concurrent writes of one row could lose counts; this way
// there is one at a time per row in each process (instances sharing a
// database may still overlap, rarely: each writes at most once per write
// round trip).
type auditCounts struct {
	mu   sync.Mutex
	rows map[string]*pendingCount
}

type pendingCount struct {
	n       int
	at      time.Time
	writing bool
}

// AuditCount adds one to the counted entry id, made from e on first use:
// refused sign-ins are one row per key and window, not one per try.
func (s *Storage) AuditCount(ctx context.Context, id string, e *model.AuditEntry) error {
	ac := &s.counted
	ac.mu.Lock()
	if ac.rows == nil {
		ac.rows = map[string]*pendingCount{}
	}
	p := ac.rows[id]
	if p == nil {
		p = &pendingCount{}
		ac.rows[id] = p
	}
	p.n++
	p.at = e.At
	if p.writing {
		ac.mu.Unlock()
		return nil // the writer under way writes it next
	}
	p.writing = true
	for {
		n, at := p.n, p.at
		p.n = 0
		ac.mu.Unlock()
		err := s.auditAdd(ctx, id, e, n, at)
		ac.mu.Lock()
		if err != nil || p.n == 0 {
			delete(ac.rows, id)
			ac.mu.Unlock()
			return err
		}
	}
}

// auditAdd adds n to the row id. Two first uses at once race to insert;
// the loser's upsert is retried as an update.
func (s *Storage) auditAdd(ctx context.Context, id string, e *model.AuditEntry, n int, at time.Time) error {
	upd := bson.M{
		"$setOnInsert": bson.M{"actor": e.Actor, "action": e.Action, "target": e.Target, "detail": e.Detail, "client": e.Client},
		"$set":         bson.M{"at": at}, // the latest try: the row sorts where its last try happened
		"$inc":         bson.M{"count": n},
	}
	var err error
	for range 3 {
		_, err = s.c(colAudit).UpdateOne(ctx, bson.M{"_id": id}, upd, options.UpdateOne().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	s.auditWritten(&model.AuditEntry{ID: id, At: at, Actor: e.Actor, Action: e.Action, Target: e.Target}, err)
	return wrap("audit count", err)
}

// AuditEntries returns the newest entries first, at most limit.
func (s *Storage) AuditEntries(ctx context.Context, limit int64) ([]model.AuditEntry, error) {
	cur, err := s.c(colAudit).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(limit))
	if err != nil {
		return nil, wrap("audit entries", err)
	}
	var out []model.AuditEntry
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("audit entries", err)
	}
	return out, nil
}

// AuditSearch returns the entries matching f, newest first, at most limit.
// The audit log is read by HR only, so a scan of it is acceptable.
func (s *Storage) AuditSearch(ctx context.Context, f model.AuditFilter, limit int64) ([]model.AuditEntry, error) {
	cur, err := s.c(colAudit).Find(ctx, auditQuery(f), options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, wrap("audit search", err)
	}
	var out []model.AuditEntry
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("audit search", err)
	}
	return out, nil
}

func auditQuery(f model.AuditFilter) bson.M {
	q := bson.M{}
	if f.Actor != "" {
		q["actor"] = f.Actor
	}
	if f.Target != "" {
		// The subject, as auditMatches: the target itself or "target/...".
		q["$or"] = bson.A{bson.M{"target": f.Target}, bson.M{"target": bson.M{"$regex": "^" + regexp.QuoteMeta(f.Target+"/")}}}
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			q["action"] = bson.M{"$regex": "^" + regexp.QuoteMeta(f.Action)}
		} else {
			q["action"] = f.Action
		}
	}
	at := bson.M{}
	if !f.From.IsZero() {
		at["$gte"] = f.From
	}
	if !f.To.IsZero() {
		at["$lt"] = f.To
	}
	if len(at) > 0 {
		q["at"] = at
	}
	return q
}

func isNotFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
