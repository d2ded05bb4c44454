package authoring_test

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/testkit"
	"conductportal/server/training"
)

// portal is one running portal shared by the tests of this file (each
// test uses its own lesson), to keep the suite fast.
func start(t *testing.T) *testkit.Portal {
	t.Helper()
	return testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
}

func TestFileRoundTripsEveryShippedLesson(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	ls, err := p.Store.Lessons(ctx)
	if err != nil || len(ls) == 0 {
		t.Fatal(ls, err)
	}
	for _, l := range ls {
		v, err := p.Training.Version(ctx, l.Slug, l.Current)
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range model.Languages {
			f, err := authoring.File(&l, v, lang)
			if err != nil {
				t.Fatal(err)
			}
			d, probs := lesson.Parse(lang, lang, []byte(f))
			if len(probs) > 0 {
				t.Fatalf("%s/%s: %v\n%s", l.Slug, lang, probs, f)
			}
			text := v.Texts[lang]
			if d.Body != text.Markdown || d.Title != text.Title || d.Summary != text.Summary ||
				d.Order != l.Order || d.DueDays != l.DueDays || d.Audience != l.Audience {
				t.Errorf("%s/%s does not round-trip", l.Slug, lang)
			}
			if lesson.TextHash(d.Title, d.Summary, d.Body) != text.Hash {
				t.Errorf("%s/%s: hash differs after the round trip", l.Slug, lang)
			}
		}
	}
}

// draftFiles returns the current files of slug with edit applied to each.
func draftFiles(t *testing.T, p *testkit.Portal, slug string, edit func(lang, file string) string) (map[string]string, string) {
	t.Helper()
	_, d, _, err := p.Authoring.Draft(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for lang, f := range d.Files {
		files[lang] = edit(lang, f)
	}
	return files, d.Quiz
}

func appendSentence(zh, en string) func(lang, file string) string {
	return func(lang, file string) string {
		if lang == model.LangZH {
			return strings.TrimRight(file, "\n") + "\n\n" + zh + "\n"
		}
		if en == "" {
			return file
		}
		return strings.TrimRight(file, "\n") + "\n\n" + en + "\n"
	}
}

func TestCheckFindsProblemsWithLines(t *testing.T) {
	p := start(t)
	files, quizSrc := draftFiles(t, p, "dress", func(_, f string) string { return f })
	if _, probs := authoring.Check("dress", files, quizSrc); len(probs) > 0 {
		t.Fatalf("the shipped lesson has problems: %v", probs)
	}
	cases := map[string]struct {
		edit func(lang, f string) string
		part string
		want string
		line int
	}{
		"duplicate clause id": {func(lang, f string) string {
			return strings.Replace(f, "{#work-attire}", "{#principles}", 1)
		}, model.LangZH, `clause id "principles" is used twice`, 0},
		"bad front matter": {func(lang, f string) string {
			if lang != model.LangEN {
				return f
			}
			return strings.Replace(f, "due_days: 7", "due_days: [", 1)
		}, model.LangEN, "front matter", -1},
		"removed clause a question names": {func(lang, f string) string {
			i := strings.Index(f, "## ")
			j := strings.Index(f[i+3:], "## ")
			return f[:i] + f[i+3+j:] // drops the first clause, "principles"
		}, model.LangZH, `clause "principles" is gone but quiz questions dress-q01`, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			files, quizSrc := draftFiles(t, p, "dress", tc.edit)
			docs, probs := authoring.Check("dress", files, quizSrc)
			if docs != nil {
				t.Fatal("a draft with problems gave docs")
			}
			var found *lesson.Problem
			for i, pr := range probs[tc.part] {
				if strings.Contains(pr.Msg, tc.want) {
					found = &probs[tc.part][i]
				}
			}
			if found == nil {
				t.Fatalf("no problem %q in %s: %v", tc.want, tc.part, probs)
			}
			if found.Line < 2 {
				t.Errorf("problem on line %d, want the line of the mistake", found.Line)
			}
		})
	}
}

func TestSavingADraftChangesNothingReadersSee(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	before, err := p.Store.Lesson(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	files, quizSrc := draftFiles(t, p, "dress", appendSentence("草稿里的新句子。", ""))
	if _, probs, err := p.Authoring.SaveDraft(ctx, "hr", "dress", model.LangZH, files[model.LangZH], quizSrc); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	after, _ := p.Store.Lesson(ctx, "dress")
	if after.Current != before.Current || after.Required != before.Required {
		t.Errorf("saving a draft moved the lesson: %+v -> %+v", before, after)
	}
	v, _ := p.Training.Version(ctx, "dress", after.Current)
	if strings.Contains(v.Texts[model.LangZH].Markdown, "草稿里的新句子") {
		t.Error("the draft's text reached the published version")
	}
	_, d, stored, err := p.Authoring.Draft(ctx, "dress")
	if err != nil || !stored || !strings.Contains(d.Files[model.LangZH], "草稿里的新句子") {
		t.Fatalf("draft not stored: %v %v", stored, err)
	}
}

// TestPublishReackAsksExactlyTheSigners: after a re-acknowledge publish,
// exactly the people who had signed the old version need to sign again;
// the others stay as they were. A minor change asks nobody.
func TestPublishReackAsksExactlyTheSigners(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	mk := func(login string) *model.User {
		u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	signed, reading, untouched, otherLesson := mk("signed"), mk("reading"), mk("untouched"), mk("other")
	testkit.Complete(t, p.Training, signed, "dress")
	if _, err := p.Training.MarkRead(ctx, reading, "dress"); err != nil {
		t.Fatal(err)
	}
	testkit.Complete(t, p.Training, otherLesson, "grooming")
	codes := func() map[string]string {
		out := map[string]string{}
		for _, u := range []*model.User{signed, reading, untouched, otherLesson} {
			for _, slug := range []string{"dress", "grooming"} {
				st, err := p.Training.Standing(ctx, u, slug)
				if err != nil {
					t.Fatal(err)
				}
				out[u.Login+"/"+slug] = st.Code
			}
		}
		return out
	}
	publish := func(kind, zh, en string) *training.PublishResult {
		t.Helper()
		files, quizSrc := draftFiles(t, p, "dress", appendSentence(zh, en))
		if _, probs, err := p.Authoring.SaveFiles(ctx, "hr", "dress", files, quizSrc); err != nil || len(probs) > 0 {
			t.Fatal(probs, err)
		}
		res, probs, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "dress", Kind: kind, Note: "test " + kind, GraceDays: 10, Actor: "hr"})
		if err != nil || len(probs) > 0 || !res.Created {
			t.Fatalf("publish %s: %+v %v %v", kind, res, probs, err)
		}
		return res
	}

	// A minor change: nobody's status moves.
	before := codes()
	if res := publish(model.ChangeMinor, "小改动。", "A small change."); res.SignAgain != 0 {
		t.Errorf("a minor change counts %d people to sign again", res.SignAgain)
	}
	if after := codes(); !equal(before, after) {
		t.Errorf("a minor change moved statuses:\n before %v\n after  %v", before, after)
	}

	// Re-acknowledge: exactly the signer of dress moves to needs_reack.
	before = codes()
	res := publish(model.ChangeReack, "工牌应端正佩戴在左胸前。", "Wear the badge straight on the left of your chest.")
	after := codes()
	if res.SignAgain != 1 {
		t.Errorf("the publish counts %d people to sign again, want the 1 signer", res.SignAgain)
	}
	for k, was := range before {
		want := was
		if k == "signed/dress" {
			want = training.StatusNeedsReack
		}
		if after[k] != want {
			t.Errorf("%s: %s -> %s, want %s", k, was, after[k], want)
		}
	}
	if before["signed/dress"] != training.StatusDone {
		t.Fatalf("the signer was %s before", before["signed/dress"])
	}
	st, _ := p.Training.Standing(ctx, signed, "dress")
	if want := st.Lesson.RequiredAt.AddDate(0, 0, 10); !st.Due.Equal(want) {
		t.Errorf("due %v, want publish date plus 10 grace days %v", st.Due, want)
	}
	// The change note, kind and author are in the history and the audit log.
	_, vs, err := p.Authoring.History(ctx, "dress")
	if err != nil || vs[0].Version != res.Version || vs[0].Kind != model.ChangeReack || vs[0].Note != "test reack" || vs[0].Author != "hr" {
		t.Fatalf("history: %+v %v", vs[0], err)
	}
	entries, _ := p.Audit.Search(ctx, model.AuditFilter{Actor: "hr", Action: "lesson."}, 10)
	if len(entries) != 2 || !strings.Contains(entries[0].Detail, "kind=reack") || !strings.Contains(entries[0].Detail, `note="test reack"`) {
		t.Errorf("audit entries: %+v", entries)
	}
	// The draft is gone once published.
	if _, _, stored, _ := p.Authoring.Draft(ctx, "dress"); stored {
		t.Error("the draft survived publishing")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPublishedVersionsNeverChange: a version cannot be stored twice, and
// restoring an old text publishes a new version, leaving the old ones as
// they were.
func TestPublishedVersionsNeverChange(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	v1, err := p.Training.Version(ctx, "grooming", 1)
	if err != nil {
		t.Fatal(err)
	}
	hash1 := v1.Texts[model.LangZH].Hash
	// Storage refuses a second version 1.
	forged := *v1
	forged.Note = "rewritten"
	if err := p.Store.CreateLessonVersion(ctx, &forged); !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("storing version 1 again: %v, want ErrDuplicate", err)
	}
	// Publish a change in zh only: en is marked out of date.
	files, quizSrc := draftFiles(t, p, "grooming", appendSentence("只改中文。", ""))
	if _, _, err := p.Authoring.SaveFiles(ctx, "hr", "grooming", files, quizSrc); err != nil {
		t.Fatal(err)
	}
	res, _, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "grooming", Kind: model.ChangeMinor, Note: "zh only", Actor: "hr"})
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := p.Store.LessonVersion(ctx, "grooming", res.Version)
	if !slices.Equal(v2.Outdated, []string{model.LangEN}) {
		t.Errorf("outdated %v after a zh-only change, want [en]", v2.Outdated)
	}
	// Restore version 1 and publish it: version 3, with version 1's text.
	if _, err := p.Authoring.Restore(ctx, "hr", "grooming", 1); err != nil {
		t.Fatal(err)
	}
	res3, _, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "grooming", Kind: model.ChangeMinor, Note: "restore 1", Actor: "hr"})
	if err != nil || res3.Version != 3 {
		t.Fatalf("publish the restored text: %+v %v", res3, err)
	}
	v3, _ := p.Store.LessonVersion(ctx, "grooming", 3)
	if v3.Texts[model.LangZH].Hash != hash1 || len(v3.Outdated) != 0 {
		t.Errorf("version 3 should carry version 1's text, in step: %v", v3.Outdated)
	}
	stored1, _ := p.Store.LessonVersion(ctx, "grooming", 1)
	if stored1.Texts[model.LangZH].Hash != hash1 || stored1.Note != v1.Note {
		t.Error("version 1 changed")
	}
	// Publishing needs a note and a known kind.
	if _, _, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "grooming", Kind: model.ChangeInitial, Note: "x", Actor: "hr"}); !errors.Is(err, authoring.ErrKind) {
		t.Errorf("kind initial: %v", err)
	}
	if _, _, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "grooming", Kind: model.ChangeMinor, Actor: "hr"}); !errors.Is(err, authoring.ErrNote) {
		t.Errorf("no note: %v", err)
	}
}

// TestAnalytics: miss rates per question and clause, and attempts to pass,
// from real graded attempts.
func TestAnalytics(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	if a, err := p.Authoring.Analytics(ctx, "dress", model.LangZH); err != nil || a.Attempts != 0 || len(a.Questions) != 0 {
		t.Fatalf("before any attempt: %+v %v", a, err)
	}
	q, _ := p.Training.Quiz(ctx, "dress", 1)
	take := func(u *model.User, right bool) *model.Attempt {
		t.Helper()
		a, err := p.Training.StartAttempt(ctx, u, "dress", model.LangZH)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := p.Training.Submit(ctx, u, a.ID, testkit.Answers(q, a.Questions, right))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	newUser := func(login string) *model.User {
		u, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Password: "analytics password"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	a, b, c := newUser("a"), newUser("b"), newUser("c")
	var all []*model.Attempt
	all = append(all, take(a, false), take(a, false), take(a, true)) // passes on the 3rd
	all = append(all, take(b, true))                                 // on the 1st
	all = append(all, take(c, false))                                // not yet
	asked, missed := map[string]int{}, map[string]int{}
	clauseAsked, clauseMissed := map[string]int{}, map[string]int{}
	for _, at := range all {
		for _, ans := range at.Answers {
			qq, _ := q.Question(ans.ID)
			asked[ans.ID]++
			clauseAsked[qq.Clause]++
			if !ans.Correct {
				missed[ans.ID]++
				clauseMissed[qq.Clause]++
			}
		}
	}
	got, err := p.Authoring.Analytics(ctx, "dress", model.LangEN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 5 || got.People != 3 || got.Passed != 2 || got.AvgToPass != 2 {
		t.Fatalf("summary: %+v", got)
	}
	for _, qs := range got.Questions {
		if qs.Asked != asked[qs.ID] || qs.Missed != missed[qs.ID] || qs.MissRate != missed[qs.ID]*100/asked[qs.ID] || qs.Prompt == "" {
			t.Fatalf("question %+v, want asked %d missed %d", qs, asked[qs.ID], missed[qs.ID])
		}
	}
	for i, cs := range got.Clauses {
		if cs.Asked != clauseAsked[cs.ID] || cs.Missed != clauseMissed[cs.ID] || cs.Title == "" {
			t.Fatalf("clause %+v, want asked %d missed %d", cs, clauseAsked[cs.ID], clauseMissed[cs.ID])
		}
		if i > 0 && cs.MissRate > got.Clauses[i-1].MissRate {
			t.Fatal("clauses must be listed most missed first")
		}
	}
	if len(got.Questions) != len(asked) || len(got.Clauses) != len(clauseAsked) {
		t.Fatalf("%d questions and %d clauses, want %d and %d", len(got.Questions), len(got.Clauses), len(asked), len(clauseAsked))
	}
}

// TestItemStatistics: facility, point-biserial discrimination, distractor
// counts and flags from real graded attempts, checked against a direct
// computation over the stored attempts; the streaming rebuild gives the
// same; no flags below 30 answers.
func TestItemStatistics(t *testing.T) {
	p := start(t)
	ctx := context.Background()
	seed := testkit.SeedItemAttempts(t, p, "dress", 40)
	got, err := p.Authoring.Analytics(ctx, "dress", model.LangEN)
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 40 || got.People != 40 || len(got.Questions) != len(seed.Quiz.Questions) {
		t.Fatalf("summary: %d attempts, %d people, %d questions", got.Attempts, got.People, len(got.Questions))
	}
	// The same statistics, computed directly from the attempts.
	type pair struct{ x, y float64 }
	pairs := map[string][]pair{}
	chosen := map[string]map[string]int{}
	blank := map[string]int{}
	for _, a := range seed.Attempts {
		right := 0
		for _, g := range a.Answers {
			if g.Correct {
				right++
			}
		}
		for _, g := range a.Answers {
			x := 0.0
			if g.Correct {
				x = 1
			}
			pairs[g.ID] = append(pairs[g.ID], pair{x, (float64(right) - x) / float64(len(a.Answers)-1)})
			if chosen[g.ID] == nil {
				chosen[g.ID] = map[string]int{}
			}
			for _, c := range g.Chosen {
				chosen[g.ID][c]++
			}
			if len(g.Chosen) == 0 {
				blank[g.ID]++
			}
		}
	}
	pearson := func(ps []pair) float64 {
		var mx, my float64
		for _, p := range ps {
			mx += p.x / float64(len(ps))
			my += p.y / float64(len(ps))
		}
		var sxy, sxx, syy float64
		for _, p := range ps {
			sxy += (p.x - mx) * (p.y - my)
			sxx += (p.x - mx) * (p.x - mx)
			syy += (p.y - my) * (p.y - my)
		}
		return sxy / math.Sqrt(sxx*syy)
	}
	byID := map[string]authoring.QuestionStat{}
	discriminating := 0
	for _, qs := range got.Questions {
		byID[qs.ID] = qs
		ps := pairs[qs.ID]
		right := 0
		for _, p := range ps {
			right += int(p.x)
		}
		if qs.Asked != len(ps) || qs.Facility != right*100/len(ps) || qs.Blank != blank[qs.ID] || !qs.Flagged {
			t.Errorf("%s: asked %d facility %d blank %d flagged %v; want %d, %d, %d, true", qs.ID, qs.Asked, qs.Facility, qs.Blank, qs.Flagged, len(ps), right*100/len(ps), blank[qs.ID])
		}
		if right > 0 && right < len(ps) {
			if want := pearson(ps); !qs.HasDiscrimination || math.Abs(qs.Discrimination-want) > 1e-9 {
				t.Errorf("%s: discrimination %v (%v), want %v", qs.ID, qs.Discrimination, qs.HasDiscrimination, want)
			}
		}
		for _, o := range qs.Options {
			if o.Chosen != chosen[qs.ID][o.ID] || o.Text == "" {
				t.Errorf("%s option %s: chosen %d, want %d", qs.ID, o.ID, o.Chosen, chosen[qs.ID][o.ID])
			}
		}
		if qs.ID != seed.Reverse && qs.Discrimination >= authoring.MinDiscrimination && !qs.Weak {
			discriminating++
		}
	}
	if e := byID[seed.Easy]; !e.Easy || e.Facility != 100 || e.HasDiscrimination {
		t.Errorf("the easy item is not flagged: %+v", e)
	}
	if r := byID[seed.Reverse]; !r.Weak || r.Discrimination >= 0 || r.Easy {
		t.Errorf("the item only weak learners get right is not flagged: %+v", r)
	}
	if discriminating == 0 {
		t.Error("no item discriminates, though learners answer by ability")
	}
	// The streaming rebuild gives the projection the submits built.
	if _, err := p.Authoring.RebuildItemStats(ctx, "dress"); err != nil {
		t.Fatal(err)
	}
	again, err := p.Authoring.Analytics(ctx, "dress", model.LangEN)
	if err != nil {
		t.Fatal(err)
	}
	if again.Attempts != got.Attempts || len(again.Questions) != len(got.Questions) {
		t.Fatalf("after rebuild: %d attempts, %d questions", again.Attempts, len(again.Questions))
	}
	for i := range got.Questions {
		a, b := got.Questions[i], again.Questions[i]
		if a.ID != b.ID || a.Asked != b.Asked || a.Facility != b.Facility || math.Abs(a.Discrimination-b.Discrimination) > 1e-9 || a.Blank != b.Blank {
			t.Errorf("rebuilt %+v, live %+v", b, a)
		}
	}
	// Below 30 answers nothing is flagged, even an item everyone gets right.
	testkit.SeedItemAttempts(t, p, "grooming", 10)
	few, err := p.Authoring.Analytics(ctx, "grooming", model.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	for _, qs := range few.Questions {
		if qs.Flagged || qs.Easy || qs.Weak {
			t.Errorf("%s flagged with %d answers", qs.ID, qs.Asked)
		}
	}
}
