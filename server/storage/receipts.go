package storage

import (
	"context"
	"errors"
	"fmt"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateReceipt inserts a receipt. The unique indexes on (user, lesson,
// version) and (user, seq) make a duplicate or a forked chain model.ErrDuplicate.
// A stored receipt is recorded in the user's progress next (RecordReceipt),
// before anyone is told: that write's change log entry names the user for
// both, so this one writes none (a crash between the two leaves other
// instances to sharedMaxAge, as any lost entry). On a shared instance a
// duplicate doubts the user too: another instance stored a receipt the
// index may not hold yet.
func (s *Storage) CreateReceipt(ctx context.Context, r *model.Receipt) error {
	s.rcpts.inserting(r.UserID, 1)
	defer s.rcpts.inserting(r.UserID, -1)
	_, err := s.c(colReceipts).InsertOne(ctx, r)
	s.chains.drop(r.UserID) // whatever the outcome: the list is read again
	if err != nil {
		err = wrap("create receipt", err)
		if !errors.Is(err, model.ErrDuplicate) || s.feed != nil { // stored or not: unknown
			s.rcpts.doubt(r.UserID)
		}
		return err
	}
	s.rcpts.add(r.UserID, r.ID, r.Lesson, r.Version, r.Cycle, r.Seq)
	c := *r
	s.receipts.set(r.ID, &c)
	return nil
}

// Receipt returns the receipt with id. A receipt never changes, so one
// read is kept.
func (s *Storage) Receipt(ctx context.Context, id string) (*model.Receipt, error) {
	if r, ok := s.receipts.getSettled(ctx, id); ok {
		c := *r
		return &c, nil
	}
	at, drops := s.receipts.begin()
	var r model.Receipt
	if err := s.c(colReceipts).FindOne(ctx, bson.M{"_id": id}).Decode(&r); err != nil {
		return nil, wrap("receipt", err)
	}
	c := r
	s.receipts.put(id, &c, at, drops)
	return &r, nil
}

// ReceiptFor returns the user's latest receipt for one lesson version (the
// last renewal, if any).
func (s *Storage) ReceiptFor(ctx context.Context, userID, slug string, version int) (*model.Receipt, error) {
	if id, found, known := s.ReceiptID(userID, slug, version); known {
		if !found {
			return nil, fmt.Errorf("storage: receipt for: %w", model.ErrNotFound)
		}
		return s.Receipt(ctx, id)
	}
	var r model.Receipt
	err := s.c(colReceipts).FindOne(ctx, bson.M{"user_id": userID, "lesson": slug, "version": version},
		options.FindOne().SetSort(bson.D{{Key: "cycle", Value: -1}})).Decode(&r)
	if err != nil {
		return nil, wrap("receipt for", err)
	}
	return &r, nil
}

// LastReceipt returns the head of the user's receipt chain.
func (s *Storage) LastReceipt(ctx context.Context, userID string) (*model.Receipt, error) {
	if id, found, known := s.lastReceiptID(userID); known {
		if !found {
			return nil, fmt.Errorf("storage: last receipt: %w", model.ErrNotFound)
		}
		return s.Receipt(ctx, id)
	}
	var r model.Receipt
	err := s.c(colReceipts).FindOne(ctx, bson.M{"user_id": userID},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: -1}})).Decode(&r)
	if err != nil {
		return nil, wrap("last receipt", err)
	}
	return &r, nil
}

// UserReceipts returns the user's receipts, oldest first. On FerretDB the
// query scans every receipt, so the list is kept until the user signs
// again (CreateReceipt drops it).
func (s *Storage) UserReceipts(ctx context.Context, userID string) ([]model.Receipt, error) {
	if rs, ok := s.chains.getSettled(ctx, userID); ok {
		return copyReceipts(rs), nil
	}
	at, drops := s.chains.begin()
	cur, err := s.c(colReceipts).Find(ctx, bson.M{"user_id": userID},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, wrap("user receipts", err)
	}
	var out []model.Receipt
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("user receipts", err)
	}
	s.chains.put(userID, copyReceipts(out), at, drops)
	return out, nil
}
