package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Draft returns the draft of a lesson.
func (s *Storage) Draft(ctx context.Context, slug string) (*model.Draft, error) {
	var d model.Draft
	if err := s.c(colDrafts).FindOne(ctx, bson.M{"_id": slug}).Decode(&d); err != nil {
		return nil, wrap("draft", err)
	}
	return &d, nil
}

// Drafts returns every draft.
func (s *Storage) Drafts(ctx context.Context) ([]model.Draft, error) {
	cur, err := s.c(colDrafts).Find(ctx, bson.M{})
	if err != nil {
		return nil, wrap("drafts", err)
	}
	var out []model.Draft
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("drafts", err)
	}
	return out, nil
}

// SaveDraft stores a lesson's draft, replacing the one before.
func (s *Storage) SaveDraft(ctx context.Context, d *model.Draft) error {
	_, err := s.c(colDrafts).ReplaceOne(ctx, bson.M{"_id": d.Slug}, d, options.Replace().SetUpsert(true))
	return wrap("save draft", err)
}

// DeleteDraft removes a lesson's draft, if any.
func (s *Storage) DeleteDraft(ctx context.Context, slug string) error {
	_, err := s.c(colDrafts).DeleteOne(ctx, bson.M{"_id": slug})
	return wrap("delete draft", err)
}
