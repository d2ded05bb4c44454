package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// exceptionBatch is how many updates one write of SetExceptions sends.
// Measured on FerretDB v1.24 (2 loaded cores): a batch of 10 to 50
// updates by _id costs 1.5-5 ms an update, about what one update a
// command costs, while a batch of 100 did not finish within the client's
// 10 s timeout; a real MongoDB takes 40 as gladly as 1,000.
const exceptionBatch = 40

// SetExceptions stores HR's exceptions for many people and one lesson in
// batched writes, each update by _id; a nil exception clears it. The
// directory hears of them once, after the last batch.
func (s *Storage) SetExceptions(ctx context.Context, slug string, exs map[string]*model.Exception) error {
	if len(exs) == 0 {
		return nil
	}
	defer s.usersChanged(ctx) // the reports' directory holds exceptions
	models := make([]mongo.WriteModel, 0, len(exs))
	for id, ex := range exs {
		up := bson.M{"$unset": bson.M{"exceptions." + slug: ""}}
		if ex != nil {
			up = bson.M{"$set": bson.M{"exceptions." + slug: ex}}
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": id}).SetUpdate(up))
	}
	defer func() {
		for id := range exs {
			s.userWritten(ctx, id)
		}
	}()
	return s.writeUser(func() error {
		for i := 0; i < len(models); i += exceptionBatch {
			if _, err := s.c(colUsers).BulkWrite(ctx, models[i:min(i+exceptionBatch, len(models))], options.BulkWrite().SetOrdered(false)); err != nil {
				return wrap("set exceptions", err)
			}
		}
		return nil
	}, false, func(w indexWriter) {
		for id, ex := range exs {
			w.change(id, func(u *model.User) { setException(u, slug, ex) })
		}
	})
}

// AddBulkAction records a bulk action with its changes.
func (s *Storage) AddBulkAction(ctx context.Context, a *model.BulkAction) error {
	if a.ID == "" {
		a.ID = model.NewID()
	}
	_, err := s.c(colBulkActions).InsertOne(ctx, a)
	return wrap("add bulk action", err)
}

// BulkAction returns one bulk action, changes included, by _id.
func (s *Storage) BulkAction(ctx context.Context, id string) (*model.BulkAction, error) {
	var a model.BulkAction
	if err := s.c(colBulkActions).FindOne(ctx, bson.M{"_id": id}).Decode(&a); err != nil {
		return nil, wrap("bulk action", err)
	}
	if a.Kind == bulkUndoKind {
		return nil, wrap("bulk action", model.ErrNotFound)
	}
	return &a, nil
}

// BulkActions returns the latest bulk actions, newest first, without
// their changes. The collection holds HR's actions, a few a day, so the
// scan FerretDB makes of it stays small.
func (s *Storage) BulkActions(ctx context.Context, limit int64) ([]model.BulkAction, error) {
	cur, err := s.c(colBulkActions).Find(ctx, bson.M{"kind": bson.M{"$ne": bulkUndoKind}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(limit).SetProjection(bson.M{"changes": 0}))
	if err != nil {
		return nil, wrap("bulk actions", err)
	}
	out := []model.BulkAction{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("bulk actions", err)
	}
	return out, nil
}

// bulkUndoKind marks the documents that claim an undo.
const bulkUndoKind = "undo"

// ClaimBulkUndo claims the undo of action id once: a unique insert, since
// a conditional update is not atomic on FerretDB. A second claim, by this
// instance or another, is model.ErrDuplicate.
func (s *Storage) ClaimBulkUndo(ctx context.Context, id, by string, at time.Time) error {
	_, err := s.c(colBulkActions).InsertOne(ctx, model.BulkAction{ID: id + "/undo", Kind: bulkUndoKind, Actor: by, At: at})
	return wrap("claim bulk undo", err)
}

// MarkBulkUndone records on action id who undid it and when, for the list.
func (s *Storage) MarkBulkUndone(ctx context.Context, id, by string, at time.Time) error {
	_, err := s.c(colBulkActions).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"undone": at, "undone_by": by}})
	return wrap("mark bulk undone", err)
}
