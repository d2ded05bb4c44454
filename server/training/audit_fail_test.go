package training_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	portal "conductportal"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// A publish whose audit entry cannot be stored fails and says the version
// is published, instead of dropping the entry.
func TestPublishFailsWhenAuditFails(t *testing.T) {
	k := testkit.Store(t)
	ctx := context.Background()
	svc := training.New(k.Store, lesson.NewRenderer(), slog.New(slog.NewTextHandler(io.Discard, nil)), k.Clock.Now)
	b, probs := training.LoadBundle(portal.Assets)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := svc.Import(ctx, b, model.ChangeReack, "test", 14); err != nil {
		t.Fatal(err)
	}
	slug := b.Lessons[0].Slug
	before, err := k.Store.Lesson(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	testkit.RefuseAudit(t, k.DB)
	req := training.PublishRequest{Slug: slug, Docs: map[string]*lesson.Doc{}, QuizSource: b.Lessons[0].QuizSource, Kind: model.ChangeMinor, Author: "hr"}
	for lang, d := range b.Lessons[0].Docs {
		c := *d
		c.Body += "\n\nOne more sentence.\n"
		req.Docs[lang] = &c
	}
	_, err = svc.Publish(ctx, req)
	if err == nil || !strings.Contains(err.Error(), "is published but its audit entry is not stored") || !strings.Contains(err.Error(), "audit refused by the test") {
		t.Fatalf("publish with the audit log refusing: %v, want an error saying the version is published", err)
	}
	after, err := k.Store.Lesson(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	if after.Current != before.Current+1 {
		t.Fatalf("current version %d, want %d (the change happened; the error says so)", after.Current, before.Current+1)
	}
}
