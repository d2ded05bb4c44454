package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// exportBatch is how many documents a streamed export holds at a time.
const exportBatch = 500

// ReceiptFilter is model.ReceiptFilter, under its old name for api until
// it stops importing storage (issue 19 part 2).
type ReceiptFilter = model.ReceiptFilter

// ExportReceipts calls fn with every receipt matching f, oldest first, one
// batch of the cursor in memory at a time, so an export of any size runs
// in constant memory. fn's error stops the walk and is returned.
func (s *Storage) ExportReceipts(ctx context.Context, f model.ReceiptFilter, fn func(*model.Receipt) error) error {
	q := bson.M{}
	if !f.Since.IsZero() {
		q["at"] = bson.M{"$gte": f.Since}
	}
	if f.Lesson != "" {
		q["lesson"] = f.Lesson
	}
	cur, err := s.c(colReceipts).Find(ctx, q, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetBatchSize(exportBatch))
	if err != nil {
		return wrap("each receipt", err)
	}
	return each(ctx, cur, "each receipt", fn)
}

// ExportAudit calls fn with every audit entry matching f, oldest first,
// in constant memory (see ExportReceipts).
func (s *Storage) ExportAudit(ctx context.Context, f model.AuditFilter, fn func(*model.AuditEntry) error) error {
	q := auditQuery(f)
	cur, err := s.c(colAudit).Find(ctx, q, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}).SetBatchSize(exportBatch))
	if err != nil {
		return wrap("each audit entry", err)
	}
	return each(ctx, cur, "each audit entry", fn)
}
