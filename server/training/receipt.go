package training

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"conductportal/server/model"
)

// ReceiptHash is the chain hash of a receipt: SHA-256 over every recorded
// field, the previous receipt's hash included, so any edit, deletion or
// reordering of a user's receipts shows.
func ReceiptHash(r *model.Receipt) string {
	fields := []string{
		"conduct-portal-receipt-v1",
		r.ID, r.UserID, r.Login, r.Lesson, strconv.Itoa(r.Version), r.Lang, r.TextHash,
		r.Signature, r.At.UTC().Format(time.RFC3339Nano), r.Client, r.Agent,
		strconv.Itoa(r.Seq), r.PrevHash,
	}
	if r.Cycle > 0 {
		// Only renewals carry the cycle, so receipts made before renewals
		// existed keep their hashes.
		fields = append(fields, "cycle="+strconv.Itoa(r.Cycle))
	}
	h := sha256.New()
	for _, f := range fields {
		// Length-prefixed, so no two field lists hash alike.
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AckRequest is what the user signs.
type AckRequest struct {
	Slug      string
	Version   int
	Lang      string
	Signature string
	Client    string
	Agent     string
}

// acknowledged tells OnAcknowledged of r; its failure is logged, the
// receipt stands.
func (s *Service) acknowledged(ctx context.Context, u *model.User, r *model.Receipt) {
	if s.OnAcknowledged == nil {
		return
	}
	if err := s.OnAcknowledged(ctx, u); err != nil {
		s.log.WarnContext(ctx, "after acknowledgement", "user", u.ID, "lesson", r.Lesson, "err", err)
	}
}

// Acknowledge records the user's signed receipt for the current version of
// a lesson. It is safe to retry and to race: one receipt per user, lesson
// and version is ever stored, and every caller gets that one.
func (s *Service) Acknowledge(ctx context.Context, u *model.User, req AckRequest) (*model.Receipt, error) {
	l, err := s.assignedLesson(ctx, u, req.Slug)
	if err != nil {
		return nil, err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	// The signature is checked first, also for a repeat: a request that
	// would be refused the first time is refused every time, rather than
	// answered with the receipt an earlier, valid request made.
	if !SignatureMatches(u, req.Signature) {
		return nil, ErrSignature
	}
	existing, cycle, err := s.signedBefore(ctx, u, l, prog, req)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return s.answerWith(ctx, u, existing)
	}
	if err := signable(l, prog, req); err != nil {
		return nil, err
	}
	v, err := s.Version(ctx, req.Slug, req.Version)
	if err != nil {
		return nil, err
	}
	text, lang := v.Text(langOrDefault(req.Lang))
	r := &model.Receipt{
		UserID: u.ID, Login: u.Login, Lesson: req.Slug, Version: req.Version,
		Lang: lang, TextHash: text.Hash, Signature: strings.TrimSpace(req.Signature),
		Client: req.Client, Agent: truncate(req.Agent, 300), Cycle: cycle,
	}
	return s.appendReceipt(ctx, u, prog, r)
}

// signedBefore returns the user's valid receipt of the version asked, if
// there is one, and otherwise the cycle a new receipt starts: 0, or the
// next one when the last receipt of this version has aged out (a renewal).
func (s *Service) signedBefore(ctx context.Context, u *model.User, l *model.Lesson, prog *model.Progress, req AckRequest) (*model.Receipt, int, error) {
	existing, err := s.signed(ctx, u, prog, req.Slug, req.Version)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return nil, 0, nil
	case err != nil:
		return nil, 0, err
	case s.expired(l, existing):
		return nil, existing.Cycle + 1, nil
	}
	return existing, 0, nil
}

// signable checks that the version asked may be signed now.
func signable(l *model.Lesson, prog *model.Progress, req AckRequest) error {
	if req.Version != l.Current {
		return ErrNotCurrent
	}
	if prog.Lessons[req.Slug].PassVersion < max(l.QuizFrom, 1) {
		return ErrQuizNotPassed
	}
	return nil
}

// answerWith answers an acknowledgement with a receipt stored before (by an
// earlier or a racing request). Its progress update may be missing if that
// request stopped right after storing it (a crash, an outage): it is put in
// place.
func (s *Service) answerWith(ctx context.Context, u *model.User, existing *model.Receipt) (*model.Receipt, error) {
	if err := s.ensureAck(ctx, u, existing); err != nil {
		return nil, err
	}
	s.acknowledged(ctx, u, existing)
	return existing, nil
}

// ackTries bounds the tries at appending one receipt to a busy chain.
const ackTries = 20

// appendReceipt appends r (its content filled in) to the user's chain. A
// concurrent acknowledgement of another lesson may take the same seq first;
// then the unique (user, seq) key refuses ours and we link to the new head
// instead. A concurrent one of this very version makes its receipt the
// answer.
func (s *Service) appendReceipt(ctx context.Context, u *model.User, prog *model.Progress, r *model.Receipt) (*model.Receipt, error) {
	for try := 0; try < ackTries; try++ {
		// The first tries trust progress's hint of the head: a stale hint
		// only costs the unique key's refusal, and the request that took
		// the place moves the hint on at once; the last tries search.
		if err := s.link(ctx, u, prog, r, try < hintedTries); err != nil {
			return nil, err
		}
		err := s.store.CreateReceipt(ctx, r)
		if err == nil {
			return s.stored(ctx, u, r)
		}
		if !errors.Is(err, model.ErrDuplicate) {
			return nil, err
		}
		// Taken: by this very version's receipt (another request for it
		// won), or by another lesson's at the same place in the chain. The
		// winner moves progress on right after storing; the last tries
		// search the receipts, should it have stopped before that.
		var existing *model.Receipt
		if try < hintedTries {
			if err := pause(ctx, time.Duration(try+1)*5*time.Millisecond); err != nil {
				return nil, err
			}
			if prog, err = s.store.Progress(ctx, u.ID); err != nil {
				return nil, err
			}
			existing, err = s.signed(ctx, u, prog, r.Lesson, r.Version)
		} else {
			existing, err = s.store.ReceiptFor(ctx, u.ID, r.Lesson, r.Version)
		}
		if err == nil && existing.Cycle >= r.Cycle {
			return s.answerWith(ctx, u, existing)
		}
	}
	return nil, fmt.Errorf("training: acknowledge %s: the receipt chain stayed busy", r.Lesson)
}

// link makes r a new receipt at the end of the user's chain as it reads
// now: a fresh id and time, the next seq and the head's hash, and r's hash.
func (s *Service) link(ctx context.Context, u *model.User, prog *model.Progress, r *model.Receipt, hint bool) error {
	r.ID, r.At, r.Seq, r.PrevHash = model.NewID(), s.Now(), 1, ""
	head, err := s.chainHead(ctx, u, prog, hint)
	switch {
	case err == nil:
		r.Seq, r.PrevHash = head.Seq+1, head.Hash
	case !errors.Is(err, model.ErrNotFound):
		return err
	}
	r.Hash = ReceiptHash(r)
	return nil
}

// stored finishes an acknowledgement whose receipt this request stored:
// progress moves to it, and the signature that completes the programme
// issues the certificate (it is not asked of a page view).
func (s *Service) stored(ctx context.Context, u *model.User, r *model.Receipt) (*model.Receipt, error) {
	s.metrics.Receipt()
	if err := s.recordAck(ctx, u, r); err != nil {
		return nil, err
	}
	if _, err := s.Certificate(ctx, u); err != nil && !errors.Is(err, ErrNotComplete) {
		s.log.WarnContext(ctx, "certificate not issued", "user", u.ID, "err", err)
	}
	s.acknowledged(ctx, u, r)
	return r, nil
}

// pause waits d, or until ctx ends (then its error).
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("training: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// signed returns the user's latest receipt for a lesson version, or
// ErrNotFound. Progress names the receipt behind its acknowledged version,
// read by _id; without that hint (or when it does not match) the receipts
// are searched. Progress that shows no signature of the version is
// believed: should a receipt exist all the same (a crash between storing
// it and updating progress), storing another hits its unique key, and
// Acknowledge then returns it.
func (s *Service) signed(ctx context.Context, u *model.User, prog *model.Progress, slug string, version int) (*model.Receipt, error) {
	lp := prog.Lessons[slug]
	if lp.AckVersion < version {
		return nil, fmt.Errorf("training: receipt of %s: %w", slug, model.ErrNotFound)
	}
	if lp.AckVersion == version && lp.Receipt != "" {
		r, err := s.store.Receipt(ctx, lp.Receipt)
		if err == nil && r.UserID == u.ID && r.Lesson == slug && r.Version == version {
			return r, nil
		}
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, err
		}
	}
	return s.store.ReceiptFor(ctx, u.ID, slug, version)
}

// chainHead returns the user's latest receipt, or ErrNotFound when there
// is none. With hint, progress's head is read by _id, and a user whose
// progress shows no signature at all is taken to have none; otherwise
// (and without a hint) the receipts are searched.
func (s *Service) chainHead(ctx context.Context, u *model.User, prog *model.Progress, hint bool) (*model.Receipt, error) {
	if hint && prog.Head != "" {
		r, err := s.store.Receipt(ctx, prog.Head)
		if err == nil && r.UserID == u.ID {
			return r, nil
		}
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, err
		}
	}
	if hint && prog.Head == "" {
		signedAny := false
		for _, lp := range prog.Lessons {
			signedAny = signedAny || lp.AckVersion > 0
		}
		if !signedAny {
			return nil, fmt.Errorf("training: chain head: %w", model.ErrNotFound)
		}
	}
	return s.store.LastReceipt(ctx, u.ID)
}

// hintedTries is how many tries at appending a receipt trust progress's
// hints before searching the receipts.
const hintedTries = 4

// expired reports whether a receipt has aged past the lesson's validity.
func (s *Service) expired(l *model.Lesson, r *model.Receipt) bool {
	return l.ValidMonths > 0 && !s.Now().Before(r.At.AddDate(0, l.ValidMonths, 0))
}

// recordAck moves progress to a receipt. $max on both fields: a late or
// repeated update never moves progress back.
func (s *Service) recordAck(ctx context.Context, u *model.User, r *model.Receipt) error {
	return s.store.RecordReceipt(ctx, r)
}

// ensureAck is recordAck when progress does not show the receipt yet.
func (s *Service) ensureAck(ctx context.Context, u *model.User, r *model.Receipt) error {
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return err
	}
	if lp := prog.Lessons[r.Lesson]; lp.AckVersion >= r.Version && !lp.Acknowledged.Before(r.At) && (lp.AckVersion > r.Version || lp.Receipt != "") {
		return nil
	}
	return s.recordAck(ctx, u, r)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
