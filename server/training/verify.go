package training

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"conductportal/server/lesson"
	"conductportal/server/model"
)

// Kinds of problem Verify reports.
const (
	// ProblemEdited: a receipt's recorded fields no longer give its hash,
	// or its hash was rewritten (the next receipt still links to the old one).
	ProblemEdited = "edited"
	// ProblemMissing: a receipt is gone: a gap in a user's chain, or a
	// signed version that progress remembers but no receipt records.
	ProblemMissing = "missing"
	// ProblemReordered: a receipt links to another receipt of the chain
	// than the one now before it.
	ProblemReordered = "reordered"
	// ProblemHashMismatch: the text a receipt names differs from the stored
	// text of that lesson version, or that stored text was altered.
	ProblemHashMismatch = "hash mismatch"
)

// Problem is one thing Verify found wrong.
type Problem struct {
	Kind      string
	ReceiptID string // empty for a problem of a lesson version
	UserID    string
	Login     string
	Lesson    string
	Version   int
	Lang      string
	Seq       int
	Detail    string
}

func (p Problem) String() string {
	if p.ReceiptID == "" && p.Login == "" {
		return fmt.Sprintf("lesson version %s (%s): %s: %s", model.VersionID(p.Lesson, p.Version), p.Lang, p.Kind, p.Detail)
	}
	if p.ReceiptID == "" {
		return fmt.Sprintf("user %s (%s v%d): %s: %s", p.Login, p.Lesson, p.Version, p.Kind, p.Detail)
	}
	return fmt.Sprintf("receipt %s of user %s (%s v%d, seq %d): %s: %s",
		p.ReceiptID, p.Login, p.Lesson, p.Version, p.Seq, p.Kind, p.Detail)
}

// VerifyReport is what Verify checked and found.
type VerifyReport struct {
	Users    int // users with receipts
	Receipts int
	Versions int // lesson versions whose text was checked
	Problems []Problem
}

// Verify checks every receipt chain (each user's receipts numbered 1..n
// without gaps, each linking to the hash of the one before, each hash
// recomputed from its fields), every receipt's text hash against the stored
// text of its lesson version (and that text against its own hash), and that
// every acknowledgement progress remembers still has its receipt. It reads
// the database directly, never the service's caches.
func (s *Service) Verify(ctx context.Context) (*VerifyReport, error) {
	v := &verifier{s: s, rep: &VerifyReport{}, logins: map[string]string{}, former: map[string][]string{}, texts: map[string]*textCheck{}, signed: map[string]bool{}}
	var chain []model.Receipt
	err := s.store.EachReceipt(ctx, func(r *model.Receipt) error {
		if len(chain) > 0 && chain[0].UserID != r.UserID {
			if err := v.chain(ctx, chain); err != nil {
				return err
			}
			chain = chain[:0]
		}
		chain = append(chain, *r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(chain) > 0 {
		if err := v.chain(ctx, chain); err != nil {
			return nil, err
		}
	}
	// A deleted head of a chain leaves no gap; progress still remembers it.
	err = s.store.EachProgress(ctx, func(p *model.Progress) error {
		for slug, lp := range p.Lessons {
			if lp.AckVersion > 0 && !v.signed[signedKey(p.UserID, slug, lp.AckVersion)] {
				login, err := v.login(ctx, p.UserID, "")
				if err != nil {
					return err
				}
				v.add(Problem{Kind: ProblemMissing, UserID: p.UserID, Login: login, Lesson: slug, Version: lp.AckVersion,
					Detail: fmt.Sprintf("progress records an acknowledgement at %s but no receipt for it exists (deleted)",
						lp.Acknowledged.UTC().Format("2006-01-02 15:04:05Z"))})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.rep.Versions = len(v.texts)
	return v.rep, nil
}

type verifier struct {
	s      *Service
	rep    *VerifyReport
	logins map[string]string     // user id -> login
	former map[string][]string   // user id -> logins a sign-on rename replaced
	texts  map[string]*textCheck // version id + lang -> the stored text's state
	signed map[string]bool       // user, lesson and version of every receipt
}

// textCheck is the verdict on one stored lesson text.
type textCheck struct {
	hash    string // the stored hash of the text
	problem string // why it cannot be trusted, if so
}

func signedKey(user, slug string, version int) string {
	return fmt.Sprintf("%s\x00%s\x00%d", user, slug, version)
}

func (v *verifier) add(p Problem) { v.rep.Problems = append(v.rep.Problems, p) }

func (v *verifier) login(ctx context.Context, userID, fallback string) (string, error) {
	if l, ok := v.logins[userID]; ok {
		return l, nil
	}
	u, err := v.s.store.User(ctx, userID)
	switch {
	case err == nil:
		v.logins[userID] = u.Login
		v.former[userID] = u.FormerLogins
	case errors.Is(err, model.ErrNotFound):
		v.logins[userID] = fallback + " (no such user)"
	default:
		return "", err
	}
	return v.logins[userID], nil
}

// chain checks one user's receipts, sorted by seq.
func (v *verifier) chain(ctx context.Context, rs []model.Receipt) error {
	v.rep.Users++
	login, err := v.login(ctx, rs[0].UserID, rs[0].Login)
	if err != nil {
		return err
	}
	byHash := map[string]*model.Receipt{}
	for i := range rs {
		byHash[rs[i].Hash] = &rs[i]
	}
	problem := func(r *model.Receipt, kind, format string, args ...any) {
		v.add(Problem{Kind: kind, ReceiptID: r.ID, UserID: r.UserID, Login: login, Lesson: r.Lesson,
			Version: r.Version, Lang: r.Lang, Seq: r.Seq, Detail: fmt.Sprintf(format, args...)})
	}
	var prev *model.Receipt
	for i := range rs {
		r := &rs[i]
		v.rep.Receipts++
		v.signed[signedKey(r.UserID, r.Lesson, r.Version)] = true
		want := 1
		if prev != nil {
			want = prev.Seq + 1
		}
		selfConsistent := ReceiptHash(r) == r.Hash
		if !selfConsistent {
			problem(r, ProblemEdited, "its recorded fields no longer give its hash: it was changed after it was signed")
		}
		// A receipt names the login the person had when signing it.
		if r.Login != "" && r.Login != login && login != r.Login+" (no such user)" && !slices.Contains(v.former[r.UserID], r.Login) {
			problem(r, ProblemEdited, "it names login %q, but the user is %q", r.Login, login)
		}
		switch {
		case prev != nil && r.Seq == prev.Seq:
			problem(r, ProblemEdited, "a second receipt at seq %d (the other is %s)", r.Seq, prev.ID)
		case r.Seq > want:
			if r.Seq == want+1 {
				problem(r, ProblemMissing, "the receipt at seq %d before it is missing (deleted)", want)
			} else {
				problem(r, ProblemMissing, "the receipts at seq %d to %d before it are missing (deleted)", want, r.Seq-1)
			}
		case r.Seq < want:
			problem(r, ProblemReordered, "seq %d is out of order", r.Seq)
		default:
			prevHash := ""
			if prev != nil {
				prevHash = prev.Hash
			}
			if r.PrevHash == prevHash {
				break
			}
			if other, ok := byHash[r.PrevHash]; ok && other != r {
				problem(r, ProblemReordered, "it links to receipt %s (seq %d), not to the receipt before it (%s)",
					other.ID, other.Seq, idOrNone(prev))
			} else if prev != nil && ReceiptHash(prev) == prev.Hash {
				// The one before is consistent in itself, yet not what this
				// one linked to: it was rewritten along with its hash.
				problem(prev, ProblemEdited, "its content and hash were rewritten: the next receipt (%s) links to a different original", r.ID)
			} else if prev == nil {
				problem(r, ProblemMissing, "it links to a previous receipt that no longer exists (deleted)")
			} else if selfConsistent {
				problem(r, ProblemReordered, "it does not link to the receipt before it (%s)", prev.ID)
			}
		}
		if err := v.text(ctx, r, problem); err != nil {
			return err
		}
		prev = r
	}
	return nil
}

func idOrNone(r *model.Receipt) string {
	if r == nil {
		return "none: it is first"
	}
	return r.ID
}

// text checks the text hash a receipt names against the stored version.
func (v *verifier) text(ctx context.Context, r *model.Receipt, problem func(*model.Receipt, string, string, ...any)) error {
	key := model.VersionID(r.Lesson, r.Version) + " " + r.Lang
	tc, ok := v.texts[key]
	if !ok {
		tc = &textCheck{}
		ver, err := v.s.store.LessonVersion(ctx, r.Lesson, r.Version)
		switch {
		case errors.Is(err, model.ErrNotFound):
			tc.problem = "the lesson version is missing from the database"
		case err != nil:
			return err
		default:
			if t, ok := ver.Texts[r.Lang]; !ok {
				tc.problem = fmt.Sprintf("the stored version has no %s text", r.Lang)
			} else {
				tc.hash = t.Hash
				if got := lesson.TextHash(t.Title, t.Summary, t.Markdown); got != t.Hash {
					tc.problem = fmt.Sprintf("the stored text was edited: it hashes to %s, not %s", short(got), short(t.Hash))
					v.add(Problem{Kind: ProblemHashMismatch, Lesson: r.Lesson, Version: r.Version, Lang: r.Lang, Detail: tc.problem})
				}
			}
		}
		v.texts[key] = tc
	}
	switch {
	case tc.problem != "":
		problem(r, ProblemHashMismatch, "the text it signed cannot be shown as signed: %s", tc.problem)
	case tc.hash != r.TextHash:
		problem(r, ProblemHashMismatch, "its text hash %s differs from the stored text's %s", short(r.TextHash), short(tc.hash))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
