package storage

import (
	"context"
	"errors"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Audit appends an entry to the audit log.
func (s *Storage) Audit(ctx context.Context, e *model.AuditEntry) error {
	if e.ID == "" {
		e.ID = NewID()
	}
	_, err := s.c(colAudit).InsertOne(ctx, e)
	return wrap("audit", err)
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

func isNotFound(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
