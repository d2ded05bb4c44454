package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"conductportal/server/model"
	"conductportal/server/training"
)

// Problem is one thing Verify found wrong: in the file (Line > 0, User
// empty) or in the database against a checkpoint.
type Problem struct {
	Line   int    // line of the file, for a problem of the file
	Seq    int    // the checkpoint concerned, 0 when unknown
	User   string // user id
	Login  string
	Detail string
}

func (p Problem) String() string {
	switch {
	case p.User != "":
		return fmt.Sprintf("user %s: checkpoint %d: %s", p.Login, p.Seq, p.Detail)
	case p.Seq > 0:
		return fmt.Sprintf("checkpoint %d (line %d): %s", p.Seq, p.Line, p.Detail)
	default:
		return fmt.Sprintf("line %d: %s", p.Line, p.Detail)
	}
}

// Report is what Verify checked and found.
type Report struct {
	Checkpoints int
	Keys        []string // the public keys that signed, in order of first use
	Users       int      // chains the checkpoints cover
	Receipts    int      // receipts they cover (the longest count of each chain)
	Problems    []Problem
}

// claim is one checkpoint's word on one chain.
type claim struct {
	seq   int
	count int
	hash  string
	login string
}

// Verify checks the checkpoint file in r: every line's signature (by
// wantKey, when set, else by the key each line names), seq 1, 2, ...,
// each line's prev the hash of the line before, and each digest that of
// the heads folded so far. Then it proves against the database that every
// receipt a checkpoint covers is still there, unchanged and in order: each
// user's chain, walked from seq 1 with every hash recomputed and every
// link followed, has at position count exactly the head a checkpoint
// signed. It reads the receipts once.
func Verify(ctx context.Context, store Store, r io.Reader, wantKey string) (*Report, error) {
	rep := &Report{}
	claims := map[string][]claim{}
	state := State{}
	prevHash, prevSeq := "", 0
	err := Lines(r, func(n int, line []byte) error {
		rep.Checkpoints++
		c, err := Parse(line)
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{Line: n, Detail: err.Error()})
			// The chain of lines goes on from this one, its heads folded as
			// far as they can be read (but not trusted as claims): a single
			// bad line is reported once, not with every line after it.
			var unsigned Checkpoint
			if json.Unmarshal(line, &unsigned) == nil {
				state.Apply(unsigned.Heads)
			}
			prevHash, prevSeq = LineHash(line), prevSeq+1
			return nil
		}
		bad := func(format string, a ...any) {
			rep.Problems = append(rep.Problems, Problem{Line: n, Seq: c.Seq, Detail: fmt.Sprintf(format, a...)})
		}
		if wantKey != "" && c.Key != wantKey {
			bad("signed by key %s, not the expected %s", c.Key, wantKey)
		}
		if len(rep.Keys) == 0 || rep.Keys[len(rep.Keys)-1] != c.Key {
			rep.Keys = append(rep.Keys, c.Key)
		}
		if c.Seq != prevSeq+1 {
			bad("follows checkpoint %d: one is missing or out of order", prevSeq)
		}
		if c.Prev != prevHash {
			bad("does not link to the line before it (a line was removed, inserted or changed)")
		}
		state.Apply(c.Heads)
		if d := state.Digest(); d != c.Digest {
			bad("its digest does not match the heads of the lines up to it")
		}
		for _, h := range c.Heads {
			claims[h.User] = append(claims[h.User], claim{seq: c.Seq, count: h.Count, hash: h.Hash, login: h.Login})
		}
		prevHash, prevSeq = LineHash(line), c.Seq
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := rep.checkDatabase(ctx, store, claims); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkDatabase walks every chain a claim names, in one pass over the
// receipts.
func (rep *Report) checkDatabase(ctx context.Context, store Store, claims map[string][]claim) error {
	seen := map[string]bool{}
	var user string
	var chain []model.Receipt
	flush := func() error {
		if user == "" {
			return nil
		}
		seen[user] = true
		return rep.checkChain(ctx, store, user, chain, claims[user])
	}
	err := store.EachReceipt(ctx, func(r *model.Receipt) error {
		if r.UserID != user {
			if err := flush(); err != nil {
				return err
			}
			user, chain = r.UserID, chain[:0]
		}
		if len(claims[r.UserID]) > 0 {
			chain = append(chain, *r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	// Chains a checkpoint covered that have no receipt left at all.
	var gone []string
	for id := range claims {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		if err := rep.checkChain(ctx, store, id, nil, claims[id]); err != nil {
			return err
		}
	}
	return nil
}

// checkChain holds one user's receipts (sorted by seq) against the
// checkpoints' claims about them, and reports the first checkpoint that
// no longer holds.
func (rep *Report) checkChain(ctx context.Context, store Store, userID string, rs []model.Receipt, cs []claim) error {
	longest := 0
	for _, c := range cs {
		longest = max(longest, c.count)
	}
	if longest == 0 {
		return nil
	}
	rep.Users++
	rep.Receipts += longest
	// valid is how long the chain is intact from seq 1; why, where it breaks.
	valid, why, prev := 0, "", ""
	for i := range rs {
		if i >= longest {
			break
		}
		r := &rs[i]
		switch {
		case r.Seq != i+1:
			why = fmt.Sprintf("the receipt at seq %d is missing (deleted or moved)", i+1)
		case r.PrevHash != prev:
			why = fmt.Sprintf("receipt %s (seq %d) does not link to the receipt before it", r.ID, r.Seq)
		case training.ReceiptHash(r) != r.Hash:
			why = fmt.Sprintf("receipt %s (seq %d) was changed after it was signed", r.ID, r.Seq)
		}
		if why != "" {
			break
		}
		valid, prev = i+1, r.Hash
	}
	if why == "" && valid < longest {
		why = fmt.Sprintf("the receipt at seq %d is missing (deleted)", valid+1)
	}
	for _, c := range cs {
		var detail string
		switch {
		case c.count == 0:
			continue
		case c.count > valid:
			detail = fmt.Sprintf("it covers %d receipts, but %s", c.count, why)
		case rs[c.count-1].Hash != c.hash:
			detail = fmt.Sprintf("the receipt at seq %d (%s, %s v%d) is not the one signed: the chain up to it was rewritten (hash %s, signed %s)",
				c.count, rs[c.count-1].ID, rs[c.count-1].Lesson, rs[c.count-1].Version, short(rs[c.count-1].Hash), short(c.hash))
		default:
			continue
		}
		login := c.login
		if u, err := store.User(ctx, userID); err == nil && u.Login != c.login {
			login = fmt.Sprintf("%s (now %s)", c.login, u.Login)
		} else if err != nil && !errors.Is(err, model.ErrNotFound) {
			return err
		}
		rep.Problems = append(rep.Problems, Problem{Seq: c.seq, User: userID, Login: login, Detail: detail})
		return nil // the first checkpoint that fails is the one to name
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
