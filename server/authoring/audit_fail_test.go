package authoring_test

import (
	"context"
	"strings"
	"testing"

	"conductportal/server/model"
	"conductportal/server/testkit"
)

// Saving and discarding a draft fail, saying the change is made, when
// their audit entry cannot be stored.
func TestDraftChangesFailWhenAuditFails(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	files, quizSrc := draftFiles(t, p, "dress", appendSentence("草稿里的新句子。", ""))
	testkit.RefuseAudit(t, p.DB)
	_, _, err := p.Authoring.SaveDraft(ctx, "hr", "dress", model.LangZH, files[model.LangZH], quizSrc)
	if err == nil || !strings.Contains(err.Error(), "draft.save dress is done but its audit entry is not stored") {
		t.Fatalf("save with the audit log refusing: %v", err)
	}
	if _, _, stored, err := p.Authoring.Draft(ctx, "dress"); err != nil || !stored {
		t.Fatalf("the draft should be stored as the error says: %v %v", stored, err)
	}
	if err := p.Authoring.Discard(ctx, "hr", "dress"); err == nil || !strings.Contains(err.Error(), "draft.discard dress is done") {
		t.Fatalf("discard with the audit log refusing: %v", err)
	}
}
