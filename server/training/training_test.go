package training_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	portal "conductportal"
	"conductportal/server/auth"
	"conductportal/server/database"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/training"
)

type env struct {
	store *storage.Storage
	svc   *training.Service
	auth  *auth.Service
	now   time.Time
	mu    sync.Mutex
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// newEnv opens a fresh embedded database with the shipped content imported.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	e := &env{store: storage.New(db.Database), now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	e.svc = training.New(e.store, lesson.NewRenderer(), log, e.clock)
	e.auth = auth.New(e.store, e.clock)
	b, probs := training.LoadBundle(portal.Assets)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := e.svc.Import(ctx, b, model.ChangeReack, "test", 14); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) user(t *testing.T, login, name string) *model.User {
	t.Helper()
	u, err := e.auth.CreateUser(context.Background(), auth.NewUser{Login: login, Name: name, Password: "long enough pw", Hired: e.now})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// pass takes and passes the current quiz of slug.
func (e *env) pass(t *testing.T, u *model.User, slug string) *model.Attempt {
	t.Helper()
	ctx := context.Background()
	a, err := e.svc.StartAttempt(ctx, u, slug, model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := e.svc.Quiz(ctx, slug, a.Version)
	ans := map[string][]string{}
	for _, d := range a.Questions {
		qq, _ := q.Question(d.ID)
		ans[d.ID] = qq.Answer
	}
	got, _, err := e.svc.Submit(ctx, u, a.ID, ans)
	if err != nil || !got.Passed {
		t.Fatalf("pass %s: %+v %v", slug, got, err)
	}
	return got
}

func (e *env) ack(t *testing.T, u *model.User, slug string, version int) *model.Receipt {
	t.Helper()
	r, err := e.svc.Acknowledge(context.Background(), u, training.AckRequest{Slug: slug, Version: version, Lang: model.LangZH, Signature: u.Name})
	if err != nil {
		t.Fatalf("acknowledge %s v%d: %v", slug, version, err)
	}
	return r
}

func (e *env) status(t *testing.T, u *model.User, slug string) *training.Standing {
	t.Helper()
	st, err := e.svc.Standing(context.Background(), u, slug)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStatusFlowAndDueDates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "li", "李雷")
	st := e.status(t, u, "dress")
	if st.Code != training.StatusNotStarted || st.Overdue || !st.Due.Equal(e.now.AddDate(0, 0, st.Lesson.DueDays)) {
		t.Fatalf("fresh: %+v", st)
	}
	if _, _, err := e.svc.Open(ctx, u, "dress"); err != nil {
		t.Fatal(err)
	}
	if st := e.status(t, u, "dress"); st.Code != training.StatusNotStarted {
		t.Fatalf("opening (a GET) changed the status to %s", st.Code)
	}
	if _, err := e.svc.MarkRead(ctx, u, "dress"); err != nil {
		t.Fatal(err)
	}
	if st := e.status(t, u, "dress"); st.Code != training.StatusReading {
		t.Fatalf("after reading: %s", st.Code)
	}
	e.advance(8 * 24 * time.Hour)
	if st := e.status(t, u, "dress"); !st.Overdue {
		t.Fatalf("8 days after hire with 7 due days: not overdue")
	}
	if _, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: "李雷"}); !errors.Is(err, training.ErrQuizNotPassed) {
		t.Fatalf("ack before quiz: %v", err)
	}
	e.pass(t, u, "dress")
	if st := e.status(t, u, "dress"); st.Code != training.StatusQuizPassed {
		t.Fatalf("after quiz: %s", st.Code)
	}
	if _, err := e.svc.StartAttempt(ctx, u, "dress", model.LangZH); !errors.Is(err, training.ErrAlreadyDone) {
		t.Fatalf("another attempt after passing: %v", err)
	}
	if _, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: "韩梅梅"}); !errors.Is(err, training.ErrSignature) {
		t.Fatalf("wrong signature: %v", err)
	}
	e.ack(t, u, "dress", 1)
	if st := e.status(t, u, "dress"); st.Code != training.StatusDone || st.Overdue {
		t.Fatalf("after ack: %+v", st)
	}
}

// republish changes one clause of dress and publishes it with kind.
func republish(t *testing.T, e *env, kind, note string) *training.PublishResult {
	t.Helper()
	b, _ := training.LoadBundle(portal.Assets)
	for _, bl := range b.Lessons {
		if bl.Slug != "dress" {
			continue
		}
		docs := map[string]*lesson.Doc{}
		for lang, d := range bl.Docs {
			c := *d
			last := d.Clauses[len(d.Clauses)-1]
			c.Body = strings.Replace(d.Body, last.Source, last.Source+"\n"+note+"\n", 1)
			parsed, probs := lesson.Parse(d.File, lang, []byte(fmt.Sprintf("---\nslug: %s\ntitle: %s\norder: %d\naudience: %s\ndue_days: %d\nsummary: %s\n---\n%s",
				c.Slug, c.Title, c.Order, c.Audience, c.DueDays, c.Summary, c.Body)))
			if len(probs) > 0 {
				t.Fatal(probs)
			}
			docs[lang] = parsed
		}
		res, err := e.svc.Publish(context.Background(), training.PublishRequest{Slug: "dress", Docs: docs, QuizSource: bl.QuizSource, Kind: kind, GraceDays: 10, Author: "hr"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Fatal("no dress lesson")
	return nil
}

func TestReacknowledgementAndRequiz(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "han", "韩梅梅")
	e.pass(t, u, "dress")
	first := e.ack(t, u, "dress", 1)

	// Publishing the same text again stores nothing.
	b, _ := training.LoadBundle(portal.Assets)
	res, err := e.svc.Import(ctx, b, model.ChangeReack, "test", 14)
	if err != nil || slices.ContainsFunc(res, func(r training.PublishResult) bool { return r.Created }) {
		t.Fatalf("re-import of unchanged content: %+v %v", res, err)
	}

	minor := republish(t, e, model.ChangeMinor, "补充说明一。")
	if !minor.Created || minor.Version != 2 || len(minor.Changed) != 1 {
		t.Fatalf("minor publish: %+v", minor)
	}
	if st := e.status(t, u, "dress"); st.Code != training.StatusDone {
		t.Fatalf("after a minor change: %s", st.Code)
	}

	e.advance(time.Hour)
	reack := republish(t, e, model.ChangeRequiz, "补充说明二。")
	if reack.Version != 3 {
		t.Fatalf("requiz publish: %+v", reack)
	}
	st := e.status(t, u, "dress")
	if st.Code != training.StatusNeedsReack || st.QuizDone || !st.Due.Equal(e.now.AddDate(0, 0, 10)) {
		t.Fatalf("after a requiz change: %+v", st)
	}
	// The re-quiz asks only the questions on the changed clause.
	a, err := e.svc.StartAttempt(ctx, u, "dress", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := e.svc.Quiz(ctx, "dress", 3)
	want := q.IDs(reack.Changed)
	for _, d := range a.Questions {
		if !slices.Contains(want, d.ID) {
			t.Fatalf("re-quiz asked %s, not on changed clauses %v", d.ID, reack.Changed)
		}
	}
	if _, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: u.Name}); err != nil {
		t.Fatalf("re-acknowledging v1 returns the stored receipt: %v", err)
	}
	if _, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 2, Signature: u.Name}); !errors.Is(err, training.ErrNotCurrent) {
		t.Fatalf("acknowledging an old version: %v", err)
	}
	ans := map[string][]string{}
	for _, d := range a.Questions {
		qq, _ := q.Question(d.ID)
		ans[d.ID] = qq.Answer
	}
	if got, _, err := e.svc.Submit(ctx, u, a.ID, ans); err != nil || !got.Passed {
		t.Fatalf("re-quiz: %+v %v", got, err)
	}
	second := e.ack(t, u, "dress", 3)
	if second.PrevHash != first.Hash || second.Seq != 2 || st.Lesson.Required != 3 {
		t.Fatalf("chain: %+v after %+v", second, first)
	}
	if st := e.status(t, u, "dress"); st.Code != training.StatusDone {
		t.Fatalf("after re-acknowledging: %s", st.Code)
	}
}

// TestExactlyOnce races acknowledgements and submits.
func TestExactlyOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "zhou", "周杰")
	for _, slug := range []string{"dress", "grooming", "attendance", "deportment"} {
		e.pass(t, u, slug)
	}
	// 20 concurrent acknowledgements of one version: one receipt, every
	// caller told about that one.
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: u.Name})
			errs[i] = err
			if r != nil {
				ids[i] = r.ID
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("call %d: %v %q vs %q", i, errs[i], ids[i], ids[0])
		}
	}
	// Three lessons acknowledged at once by the same user: the chain stays a chain.
	for _, slug := range []string{"grooming", "attendance", "deportment"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: slug, Version: 1, Signature: u.Name}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rs, _ := e.store.UserReceipts(ctx, u.ID)
	if len(rs) != 4 {
		t.Fatalf("%d receipts, want 4", len(rs))
	}
	prev := ""
	for i, r := range rs {
		if r.Seq != i+1 || r.PrevHash != prev || r.Hash != training.ReceiptHash(&r) {
			t.Fatalf("receipt %d breaks the chain: %+v", i, r)
		}
		prev = r.Hash
	}

	// 20 concurrent submits of one attempt: graded once.
	a, err := e.svc.StartAttempt(ctx, u, "ethics-missing-ok", model.LangZH)
	if !errors.Is(err, training.ErrNotFound) {
		t.Fatalf("unknown lesson: %v", err)
	}
	a, err = e.svc.StartAttempt(ctx, u, "professional-ethics", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := e.svc.Quiz(ctx, "professional-ethics", 1)
	results := make([]*model.Attempt, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ans := map[string][]string{}
			for _, d := range a.Questions {
				qq, _ := q.Question(d.ID)
				if i%2 == 0 {
					ans[d.ID] = qq.Answer
				}
			}
			got, _, err := e.svc.Submit(ctx, u, a.ID, ans)
			if err != nil {
				t.Error(err)
			}
			results[i] = got
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r == nil || r.Score != results[0].Score || r.Passed != results[0].Passed || !r.At.Equal(results[0].At) {
			t.Fatalf("concurrent submits disagree: %+v vs %+v", r, results[0])
		}
	}
	prog, _ := e.store.Progress(ctx, u.ID)
	if p := prog.Lessons["professional-ethics"]; p.Attempts != 1 || (p.PassVersion == 1) != results[0].Passed {
		t.Fatalf("progress after the race: %+v", p)
	}
}

func TestAttemptsArePrivate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.user(t, "a", "甲")
	b := e.user(t, "b", "乙")
	at, err := e.svc.StartAttempt(ctx, a, "dress", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Submit(ctx, b, at.ID, nil); !errors.Is(err, training.ErrNotFound) {
		t.Fatalf("someone else's attempt: %v", err)
	}
	if _, err := e.svc.Receipt(ctx, b, "nope"); !errors.Is(err, training.ErrNotFound) {
		t.Fatalf("missing receipt: %v", err)
	}
	e.pass(t, a, "dress")
	r := e.ack(t, a, "dress", 1)
	if _, err := e.svc.Receipt(ctx, b, r.ID); !errors.Is(err, training.ErrNotFound) {
		t.Fatalf("someone else's receipt: %v", err)
	}
}

func TestChangesSinceSigned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "wu", "吴敏")
	e.pass(t, u, "dress")
	e.ack(t, u, "dress", 1)
	st := e.status(t, u, "dress")
	if from, ops, err := e.svc.Changes(ctx, st, model.LangZH); err != nil || from != 0 || ops != nil {
		t.Fatalf("nothing changed yet: %d %v %v", from, ops, err)
	}
	republish(t, e, model.ChangeReack, "新增规定：工牌须端正。")
	st = e.status(t, u, "dress")
	from, ops, err := e.svc.Changes(ctx, st, model.LangZH)
	if err != nil || from != 1 {
		t.Fatalf("changes: %d %v", from, err)
	}
	html := lesson.HTML(ops)
	if !strings.Contains(html, "<ins>\n新增规定：工牌须端正。\n</ins>") || strings.Contains(html, "<del>") {
		t.Fatalf("diff: %s", html)
	}
}

func TestCertificate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.user(t, "zheng", "郑爽")
	if _, err := e.svc.Certificate(ctx, u); !errors.Is(err, training.ErrNotComplete) {
		t.Fatalf("certificate before anything is done: %v", err)
	}
	sts, _ := e.svc.Standings(ctx, u)
	for i, st := range sts {
		e.pass(t, u, st.Lesson.Slug)
		e.ack(t, u, st.Lesson.Slug, 1)
		if i == len(sts)-2 {
			if _, err := e.svc.Certificate(ctx, u); !errors.Is(err, training.ErrNotComplete) {
				t.Fatalf("certificate with one lesson left: %v", err)
			}
		}
	}
	c, err := e.svc.Certificate(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "郑爽" || len(c.Lessons) != 6 || len(c.Code) != 14 || c.Lessons[0].Version != 1 {
		t.Fatalf("certificate: %+v", c)
	}
	again, _ := e.svc.Certificate(ctx, u)
	if again.Code != c.Code {
		t.Fatalf("a second request issued another certificate: %s vs %s", again.Code, c.Code)
	}
	typed := strings.ToLower(strings.ReplaceAll(c.Code, "-", " "))
	if got, err := e.svc.VerifyCertificate(ctx, typed); err != nil || got.Code != c.Code {
		t.Fatalf("verify %q: %v %v", typed, got, err)
	}
	for _, bad := range []string{"", "AAAA-BBBB-CCCC", "{\"$ne\": 1}", strings.Repeat("A", 500)} {
		if _, err := e.svc.VerifyCertificate(ctx, bad); !errors.Is(err, training.ErrNotFound) {
			t.Fatalf("verify %q: %v", bad, err)
		}
	}
	// A re-acknowledgement makes a new set: a new certificate once done,
	// and the old one stays verifiable.
	republish(t, e, model.ChangeReack, "补充。")
	if _, err := e.svc.Certificate(ctx, u); !errors.Is(err, training.ErrNotComplete) {
		t.Fatalf("certificate while a lesson needs re-acknowledging: %v", err)
	}
	e.ack(t, u, "dress", 2)
	renewed, err := e.svc.Certificate(ctx, u)
	if err != nil || renewed.Code == c.Code {
		t.Fatalf("renewed: %+v %v", renewed, err)
	}
	if _, err := e.svc.VerifyCertificate(ctx, c.Code); err != nil {
		t.Fatalf("the old certificate: %v", err)
	}
}

func TestCooldownAndAttemptLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, _ := training.LoadBundle(portal.Assets)
	bl := b.Lessons[0]
	src := strings.Replace(strings.Replace(bl.QuizSource, "cooldown_minutes: 0", "cooldown_minutes: 10", 1), "max_attempts: 0", "max_attempts: 2", 1)
	if _, err := e.svc.Publish(ctx, training.PublishRequest{Slug: bl.Slug, Docs: bl.Docs, QuizSource: src, Kind: model.ChangeMinor, Author: "hr"}); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "qian", "钱多")
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); !errors.Is(err, training.ErrCooldown) {
		t.Fatalf("second attempt within the cool-down: %v", err)
	}
	e.advance(11 * time.Minute)
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); err != nil {
		t.Fatalf("after the cool-down: %v", err)
	}
	e.advance(11 * time.Minute)
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); !errors.Is(err, training.ErrNoAttemptsRemaining) {
		t.Fatalf("third attempt with a limit of 2: %v", err)
	}
}

// TestRenewal: with a 12-month validity, a signature 11 months old still
// counts, one 13 months old is due again ("renewal", not "changed");
// signing again clears it and keeps the old receipt and certificate.
func TestRenewal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, _ := training.LoadBundle(portal.Assets)
	var dress training.BundleLesson
	for _, bl := range b.Lessons {
		if bl.Slug == "dress" {
			dress = bl
		}
	}
	docs := map[string]*lesson.Doc{}
	for lang, d := range dress.Docs {
		c := *d
		c.ValidMonths = 12
		docs[lang] = &c
	}
	res, err := e.svc.Publish(ctx, training.PublishRequest{Slug: "dress", Docs: docs, QuizSource: dress.QuizSource, Kind: model.ChangeMinor, GraceDays: 30, Author: "hr"})
	if err != nil || res.Created {
		t.Fatalf("a settings-only change must not make a version: %+v %v", res, err)
	}
	u := e.user(t, "sun", "孙悟")
	sts, _ := e.svc.Standings(ctx, u)
	for _, st := range sts {
		e.pass(t, u, st.Lesson.Slug)
		e.ack(t, u, st.Lesson.Slug, 1)
	}
	signed := e.now
	cert1, err := e.svc.Certificate(ctx, u)
	if err != nil || !cert1.Expires.Equal(signed.AddDate(1, 0, 0)) {
		t.Fatalf("certificate: %+v %v", cert1, err)
	}
	first, _ := e.svc.ReceiptFor(ctx, u, "dress", 1)

	e.advance(time.Until(time.Now().AddDate(0, 11, 0)))
	if st := e.status(t, u, "dress"); st.Code != training.StatusDone || st.Renewal || !st.Expires.Equal(signed.AddDate(1, 0, 0)) {
		t.Fatalf("at 11 months: %+v", st)
	}
	if again, _ := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: u.Name}); again.ID != first.ID {
		t.Fatal("signing again before the expiry must return the same receipt")
	}
	e.advance(time.Until(time.Now().AddDate(0, 2, 0)))
	st := e.status(t, u, "dress")
	if st.Code != training.StatusNeedsReack || !st.Renewal || !st.Due.Equal(signed.AddDate(1, 0, 14)) {
		t.Fatalf("at 13 months: %+v", st)
	}
	if st := e.status(t, u, "grooming"); st.Code != training.StatusDone {
		t.Fatalf("a lesson without validity: %s", st.Code)
	}
	if !e.svc.CertificateExpired(cert1) {
		t.Fatal("the certificate must say it expired")
	}
	// Ten racing renewals store one receipt, the next in the chain.
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.svc.Acknowledge(ctx, u, training.AckRequest{Slug: "dress", Version: 1, Signature: u.Name})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = r.ID
		}()
	}
	wg.Wait()
	renewed, _ := e.svc.ReceiptFor(ctx, u, "dress", 1)
	for _, id := range ids {
		if id != renewed.ID {
			t.Fatalf("racing renewals got %s, stored %s", id, renewed.ID)
		}
	}
	rs, _ := e.store.UserReceipts(ctx, u.ID)
	if renewed.Cycle != 1 || renewed.ID == first.ID || len(rs) != 7 || rs[6].ID != renewed.ID || renewed.PrevHash != rs[5].Hash || renewed.Hash != training.ReceiptHash(renewed) {
		t.Fatalf("renewal receipt %+v among %d", renewed, len(rs))
	}
	if rs[4].ID != first.ID || rs[4].Hash != first.Hash {
		t.Fatal("the first receipt must stay as it was")
	}
	if st := e.status(t, u, "dress"); st.Code != training.StatusDone || st.Renewal {
		t.Fatalf("after renewing: %+v", st)
	}
	cert2, err := e.svc.Certificate(ctx, u)
	if err != nil || cert2.Code == cert1.Code || e.svc.CertificateExpired(cert2) {
		t.Fatalf("renewed certificate: %+v %v", cert2, err)
	}
	if old, err := e.svc.VerifyCertificate(ctx, cert1.Code); err != nil || !e.svc.CertificateExpired(old) {
		t.Fatalf("the old certificate stays verifiable, as expired: %v", err)
	}
	if rep, err := e.svc.Verify(ctx); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify after a renewal: %+v %v", rep, err)
	}
}

// TestExceptions: HR exempts a person from a lesson (it leaves their list,
// and the programme completes without it) or extends their due date.
func TestExceptions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hr := e.user(t, "hr", "人事")
	u := e.user(t, "yang", "杨帆")
	e.advance(20 * 24 * time.Hour) // every lesson is overdue now
	if st := e.status(t, u, "dress"); !st.Overdue {
		t.Fatal("dress must be overdue before the extension")
	}
	if err := e.svc.SetException(ctx, hr, u, "dress", "extend", e.now.AddDate(0, 0, 10), ""); !errors.Is(err, training.ErrExceptionReason) {
		t.Fatalf("an exception without a reason: %v", err)
	}
	if err := e.svc.SetException(ctx, hr, u, "dress", "extend", e.now.AddDate(0, 0, -1), "病假"); !errors.Is(err, training.ErrExceptionUntil) {
		t.Fatalf("an extension into the past: %v", err)
	}
	if err := e.svc.SetException(ctx, hr, u, "dress", "extend", e.now.AddDate(0, 0, 10), "病假两周"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetException(ctx, hr, u, "grooming", "exempt", time.Time{}, "外包岗位，不接待客户"); err != nil {
		t.Fatal(err)
	}
	u, _ = e.store.User(ctx, u.ID)
	st, err := e.svc.Standing(ctx, u, "dress")
	if err != nil || st.Overdue || !st.Due.Equal(e.now.AddDate(0, 0, 10)) {
		t.Fatalf("extended: %+v %v", st, err)
	}
	if _, err := e.svc.Standing(ctx, u, "grooming"); !errors.Is(err, training.ErrNotAssigned) {
		t.Fatalf("exempt lesson: %v", err)
	}
	sts, _ := e.svc.Standings(ctx, u)
	for _, s := range sts {
		if s.Lesson.Slug == "grooming" {
			t.Fatal("the exempt lesson is still listed")
		}
		e.pass(t, u, s.Lesson.Slug)
		e.ack(t, u, s.Lesson.Slug, 1)
	}
	if c, err := e.svc.Certificate(ctx, u); err != nil || len(c.Lessons) != 5 {
		t.Fatalf("certificate without the exempt lesson: %+v %v", c, err)
	}
	// Back to normal: the lesson is asked again.
	if err := e.svc.SetException(ctx, hr, u, "grooming", "", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	u, _ = e.store.User(ctx, u.ID)
	if st, err := e.svc.Standing(ctx, u, "grooming"); err != nil || st.Code != training.StatusNotStarted {
		t.Fatalf("after clearing: %+v %v", st, err)
	}
	entries, _ := e.store.AuditEntries(ctx, 50)
	n := 0
	for _, a := range entries {
		if a.Action == "person.exception" && a.Actor == "hr" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d audited exceptions, want 3", n)
	}
}

// TestCooldownAfterFailedAttempts: HR's cool-down after every N failed
// attempts, enforced at start and at submit, ending at the time it names;
// the fail counts are part of the rebuildable projection.
func TestCooldownAfterFailedAttempts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, _ := training.LoadBundle(portal.Assets)
	bl := b.Lessons[0]
	src := strings.TrimRight(bl.QuizSource, "\n") + "\ncooldown: {after: 2, wait: 24h}\n"
	if _, err := e.svc.Publish(ctx, training.PublishRequest{Slug: bl.Slug, Docs: bl.Docs, QuizSource: src, Kind: model.ChangeMinor, Author: "hr"}); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "sun", "孙莉")
	q, err := e.svc.Quiz(ctx, bl.Slug, 2)
	if err != nil || q.Cooldown.After != 2 || q.Cooldown.Wait != 24*time.Hour {
		t.Fatalf("quiz: %+v %v", q, err)
	}
	wrong := func(a *model.Attempt) map[string][]string {
		out := map[string][]string{}
		for _, d := range a.Questions {
			qq, _ := q.Question(d.ID)
			for _, o := range d.Options {
				if !slices.Contains(qq.Answer, o) {
					out[d.ID] = []string{o}
					break
				}
			}
		}
		return out
	}
	fail := func() time.Time {
		t.Helper()
		a, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		e.advance(3 * time.Minute)
		got, _, err := e.svc.Submit(ctx, u, a.ID, wrong(a))
		if err != nil || got.Passed {
			t.Fatalf("fail: %+v %v", got, err)
		}
		return got.At
	}
	fail()
	// An attempt drawn before the second failure, kept open.
	open, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	second := fail()
	var ce *training.CooldownError
	_, err = e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH)
	if !errors.As(err, &ce) || !errors.Is(err, training.ErrCooldown) || !ce.Until.Equal(second.Add(24*time.Hour)) {
		t.Fatalf("third start after 2 failures: %v, want a cool-down until %s", err, second.Add(24*time.Hour))
	}
	if until, err := e.svc.Cooldown(ctx, e.status(t, u, bl.Slug)); err != nil || !until.Equal(ce.Until) {
		t.Fatalf("Cooldown = %s %v, want %s", until, err, ce.Until)
	}
	// The open attempt is not graded during the cool-down, and stays open.
	if _, _, err := e.svc.Submit(ctx, u, open.ID, wrong(open)); !errors.Is(err, training.ErrCooldown) {
		t.Fatalf("submit during the cool-down: %v", err)
	}
	if a, _, _ := e.svc.Attempt(ctx, u, open.ID); a.Submitted {
		t.Fatal("an attempt was graded during the cool-down")
	}
	e.advance(24*time.Hour - 5*time.Minute)
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); !errors.Is(err, training.ErrCooldown) {
		t.Fatalf("a minute before the end: %v", err)
	}
	e.advance(6 * time.Minute)
	if until, _ := e.svc.Cooldown(ctx, e.status(t, u, bl.Slug)); !until.IsZero() {
		t.Fatalf("cool-down still on after its end: %s", until)
	}
	// The third failure starts no wait; the fourth does again.
	fail()
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); err != nil {
		t.Fatalf("after 3 failures (every 2nd waits): %v", err)
	}
	fourth := fail()
	if _, err := e.svc.StartAttempt(ctx, u, bl.Slug, model.LangZH); !errors.As(err, &ce) || !ce.Until.Equal(fourth.Add(24*time.Hour)) {
		t.Fatalf("after 4 failures: %v", err)
	}
	p := e.status(t, u, bl.Slug).Progress
	if p.Fails[model.FailKey(2)] != 4 || p.FailRun() != 4 || !p.LastFailed.Equal(fourth) {
		t.Fatalf("progress: %+v", p)
	}
	rep, err := e.svc.RebuildProgress(ctx, []string{u.ID}, false)
	if err != nil || len(rep.Drift) != 0 {
		t.Fatalf("rebuild check: %+v %v", rep, err)
	}
	// A pass ends the run: failures at versions up to the passed one do not count.
	e.advance(25 * time.Hour)
	e.pass(t, u, bl.Slug)
	if run := e.status(t, u, bl.Slug).Progress.FailRun(); run != 0 {
		t.Fatalf("fail run after a pass: %d", run)
	}
}
