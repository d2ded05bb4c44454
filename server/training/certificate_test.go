package training_test

import (
	"context"
	"errors"
	"testing"

	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// TestEarnedCertificateStays: while new versions wait for a person's
// signature, the certificate they earned stays theirs, with the lessons
// to sign named; also when they have signed one new version while another
// still waits (a set of versions never all signed at once, so no
// certificate has its fingerprint).
func TestEarnedCertificateStays(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "qin", "秦岚")
	sts, _ := e.svc.Standings(ctx, u)
	for _, st := range sts {
		e.pass(t, u, st.Lesson.Slug)
		e.ack(t, u, st.Lesson.Slug, 1)
	}
	c, err := e.svc.Certificate(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	pendingOf := func(want ...string) {
		t.Helper()
		got, err := e.svc.EarnedCertificate(ctx, u)
		if err != nil {
			t.Fatalf("earned certificate: %v", err)
		}
		if got.Cert.Code != c.Code {
			t.Errorf("the certificate shown is %s, want the one earned, %s", got.Cert.Code, c.Code)
		}
		var slugs []string
		for _, st := range got.Pending {
			slugs = append(slugs, st.Lesson.Slug)
		}
		if len(slugs) != len(want) || (len(want) > 0 && slugs[0] != want[0]) {
			t.Errorf("pending %v, want %v", slugs, want)
		}
		sts, _ := e.svc.Standings(ctx, u)
		if earned, pending := training.CertificateStanding(sts); !earned || len(pending) != len(want) {
			t.Errorf("from the standings: earned %t, %d pending, want %d", earned, len(pending), len(want))
		}
	}
	pendingOf()
	testkit.PublishChange(t, e.svc, "dress", model.ChangeReack, map[string]string{model.LangZH: "新增一句。", model.LangEN: "One more sentence."})
	pendingOf("dress")
	testkit.PublishChange(t, e.svc, "grooming", model.ChangeReack, map[string]string{model.LangZH: "新增一句。", model.LangEN: "One more sentence."})
	e.ack(t, u, "dress", 2)
	pendingOf("grooming")

	// Someone who has not finished holds none.
	v := e.user(t, "new", "新人")
	if _, err := e.svc.EarnedCertificate(ctx, v); !errors.Is(err, training.ErrNotComplete) {
		t.Errorf("a new person's certificate: %v", err)
	}
	sts, _ = e.svc.Standings(ctx, v)
	if earned, _ := training.CertificateStanding(sts); earned {
		t.Error("a new person holds a certificate by their standings")
	}
}
