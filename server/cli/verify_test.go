package cli_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"conductportal/server/cli"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestVerifyCatchesTampering alters, deletes and reorders receipts (and a
// lesson text) directly in the database, and expects verify to name each
// problem: which receipt, which user, what kind.
func TestVerifyCatchesTampering(t *testing.T) {
	dir := t.TempDir()
	p := startPortal(t, dir, io.Discard)
	ctx := context.Background()
	lessons := []string{"dress", "grooming", "attendance"}
	chains := map[string][]*model.Receipt{}
	for _, login := range []string{"edited", "gap", "head", "swapped", "texthash", "clean"} {
		u := createUser(t, p, login, "用户"+login, false)
		for _, slug := range lessons {
			chains[login] = append(chains[login], testkit.Complete(t, p.Training, u, slug))
		}
	}
	// A lesson only the user "versiontext" signed, in English.
	vt := createUser(t, p, "versiontext", "Vera Text", false)
	passQuiz(t, p, vt, "deportment")
	vtReceipt, err := p.Training.Acknowledge(ctx, vt, training.AckRequest{Slug: "deportment", Version: 1, Lang: model.LangEN, Signature: "Vera Text"})
	if err != nil {
		t.Fatal(err)
	}

	if rep, err := p.Training.Verify(ctx); err != nil || len(rep.Problems) > 0 || rep.Receipts != 19 || rep.Users != 7 {
		t.Fatalf("untouched database: %v %+v", err, rep)
	}

	receipts := p.DB.Database.Collection("receipts")
	set := func(id string, fields bson.M) {
		t.Helper()
		if res, err := receipts.UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": fields}); err != nil || res.MatchedCount != 1 {
			t.Fatalf("tamper with %s: %v", id, err)
		}
	}
	del := func(id string) {
		t.Helper()
		if res, err := receipts.DeleteOne(ctx, bson.M{"_id": id}); err != nil || res.DeletedCount != 1 {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	// edited: the signature of the second receipt is changed.
	set(chains["edited"][1].ID, bson.M{"signature": "someone else"})
	// gap: the second receipt of three is deleted.
	del(chains["gap"][1].ID)
	// head: the last receipt is deleted; nothing after it shows a gap.
	del(chains["head"][2].ID)
	// swapped: the second and third receipts trade places in the chain
	// (their seq is swapped; the unique index needs a detour).
	sw := chains["swapped"]
	set(sw[1].ID, bson.M{"seq": 99})
	set(sw[2].ID, bson.M{"seq": 2})
	set(sw[1].ID, bson.M{"seq": 3})
	// texthash: the last receipt names another text, and its hash is
	// recomputed to match, so only the text check can see it.
	th := *chains["texthash"][2]
	th.TextHash = strings.Repeat("ab", 32)
	set(th.ID, bson.M{"text_hash": th.TextHash, "hash": training.ReceiptHash(&th)})
	// versiontext: the stored English text of deportment@1 is edited.
	if _, err := p.DB.Database.Collection("lesson_versions").UpdateOne(ctx, bson.M{"_id": "deportment@1"},
		bson.M{"$set": bson.M{"texts.en.markdown": "Anything goes."}}); err != nil {
		t.Fatal(err)
	}

	rep, err := p.Training.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, pr := range rep.Problems {
		lines = append(lines, pr.String())
	}
	all := strings.Join(lines, "\n")
	t.Logf("problems:\n%s", all)
	want := []struct{ login, receipt, kind, detail string }{
		{"edited", chains["edited"][1].ID, training.ProblemEdited, "changed after it was signed"},
		{"gap", chains["gap"][2].ID, training.ProblemMissing, "seq 2 before it is missing"},
		{"head", "", training.ProblemMissing, "no receipt for it exists"},
		{"swapped", sw[2].ID, training.ProblemReordered, "links to receipt " + sw[1].ID},
		{"swapped", sw[1].ID, training.ProblemReordered, "links to receipt " + sw[0].ID},
		{"texthash", th.ID, training.ProblemHashMismatch, "differs from the stored text"},
		{"versiontext", vtReceipt.ID, training.ProblemHashMismatch, "the stored text was edited"},
		{"", "", training.ProblemHashMismatch, "lesson version deportment@1 (en)"},
	}
	for _, w := range want {
		found := false
		for _, pr := range rep.Problems {
			s := pr.String()
			if (w.login == "" || pr.Login == w.login) && pr.ReceiptID == w.receipt && pr.Kind == w.kind && strings.Contains(s, w.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("verify did not report %s %q for %s (receipt %q)", w.kind, w.detail, w.login, w.receipt)
		}
	}
	for _, pr := range rep.Problems {
		if pr.Login == "clean" {
			t.Errorf("an untouched chain reported: %s", pr)
		}
	}

	// The command prints the same and exits 1.
	p.Stop()
	t.Setenv("PORTAL_DATA", dir)
	t.Setenv("MONGODB_URI", "")
	var out, errb bytes.Buffer
	code := cli.Run(ctx, []string{"verify"}, strings.NewReader(""), &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "receipt "+chains["edited"][1].ID+" of user edited (grooming v1, seq 2): edited:") ||
		!strings.Contains(out.String(), "problem(s)") {
		t.Fatalf("portal verify: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
