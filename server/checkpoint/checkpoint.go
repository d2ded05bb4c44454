package checkpoint

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"conductportal/server/model"
)

// Store is what checkpoints read of the database: the chains' heads, every
// receipt and an account (storage.Storage is one; cli hands it in).
type Store interface {
	EachReceipt(ctx context.Context, fn func(*model.Receipt) error) error
	ReceiptHeads(ctx context.Context) (map[string]model.ReceiptHead, error)
	User(ctx context.Context, id string) (*model.User, error)
}

// File is the checkpoint file in the data folder: one signed JSON line
// per checkpoint, appended, never rewritten.
const File = "checkpoints.jsonl"

// Head is one user's receipt chain as a checkpoint saw it: Count receipts,
// the last of them with hash Hash. Count 0 says the chain is gone.
type Head struct {
	User  string `json:"user"`
	Login string `json:"login"`
	Count int    `json:"count"`
	Hash  string `json:"head"`
}

// Checkpoint is one line of the file. Heads are the chains changed since
// the previous line; Digest commits to every chain's head after them, so
// each line commits to the whole state while the file grows only with
// activity. Sig is Ed25519, by Key, over the line's bytes without the
// sig field (see Line).
type Checkpoint struct {
	Seq    int    `json:"seq"`
	Time   string `json:"time"`
	Prev   string `json:"prev"` // SHA-256 (hex) of the previous line, "" for the first
	Heads  []Head `json:"heads"`
	Digest string `json:"digest"`
	Key    string `json:"key"` // base64 Ed25519 public key
	Sig    string `json:"sig,omitempty"`
}

// sigField is what ends every line: the signature comes last, so the
// signed bytes are the line with it cut off, which any language can
// reproduce without re-encoding JSON.
const sigField = `,"sig":"`

// encode is the JSON of c without its signature.
func (c *Checkpoint) encode() ([]byte, error) {
	unsigned := *c
	unsigned.Sig = ""
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&unsigned); err != nil {
		return nil, fmt.Errorf("checkpoint: encode: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Sign sets c.Key and c.Sig and returns the line (without newline).
func (c *Checkpoint) Sign(k ed25519.PrivateKey) ([]byte, error) {
	c.Key = PublicKey(k)
	msg, err := c.encode()
	if err != nil {
		return nil, err
	}
	c.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg))
	line := append(msg[:len(msg)-1:len(msg)-1], sigField...)
	return append(append(line, c.Sig...), `"}`...), nil
}

// Parse reads one line and checks its signature against the key it
// names; the caller decides whether that key is the right one.
func Parse(line []byte) (*Checkpoint, error) {
	i := bytes.LastIndex(line, []byte(sigField))
	if i < 0 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return nil, errors.New("checkpoint: the line has no signature at its end")
	}
	msg := append(bytes.Clone(line[:i]), '}')
	var c Checkpoint
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("checkpoint: not a checkpoint: %w", err)
	}
	// What was read must be what was signed: the same bytes again.
	if again, err := c.encode(); err != nil || !bytes.Equal(again, msg) {
		return nil, errors.New("checkpoint: the line is not in the form the portal signs")
	}
	pub, err := base64.StdEncoding.DecodeString(c.Key)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("checkpoint: the public key is damaged")
	}
	sig, err := base64.StdEncoding.DecodeString(c.Sig)
	if err != nil || !ed25519.Verify(pub, msg, sig) {
		return nil, errors.New("checkpoint: the signature does not match the line (it was changed after it was signed)")
	}
	return &c, nil
}

// LineHash is what the next line names as prev.
func LineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// State is every chain's head as the checkpoints so far say, by user id.
type State map[string]Head

// Apply folds a line's heads into s.
func (s State) Apply(heads []Head) {
	for _, h := range heads {
		if h.Count == 0 {
			delete(s, h.User)
		} else {
			s[h.User] = h
		}
	}
}

// Digest is SHA-256 (hex) over "user count head\n" of every chain, in
// order of user id; logins are left out (they may change).
func (s State) Digest() string {
	ids := make([]string, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	h := sha256.New()
	for _, id := range ids {
		hd := s[id]
		_, _ = io.WriteString(h, id+" "+strconv.Itoa(hd.Count)+" "+hd.Hash+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Heads reads the head of every receipt chain in one pass over the
// receipts: each user's count, and the hash and login of the latest.
func Heads(ctx context.Context, store Store) (State, error) {
	heads, err := store.ReceiptHeads(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	s := make(State, len(heads))
	for id, h := range heads {
		s[id] = Head{User: id, Login: h.Login, Count: h.Count, Hash: h.Hash}
	}
	return s, nil
}

// Result is what Write did.
type Result struct {
	Checkpoint *Checkpoint // nil: nothing changed since the last one
	// Rewritten are chains that did not grow since the last checkpoint but
	// changed all the same: receipts edited or deleted in the database.
	Rewritten []Head
	// Torn is the length of a last line cut short (a crash while it was
	// appended, before it was synced) that was removed first; 0: none.
	Torn int64
}

// Write signs the heads changed since the last checkpoint in
// <dir>/checkpoints.jsonl and appends them as one line (synced), under a
// lock on the file against another process of the same folder. Nothing
// changed: no line.
func Write(ctx context.Context, store Store, dir string, k ed25519.PrivateKey, now time.Time) (*Result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	path := filepath.Join(dir, File)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600) // #nosec G304 -- the portal's own data folder
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil { // #nosec G115 -- a file descriptor fits an int
		return nil, fmt.Errorf("checkpoint: lock %s: %w", path, err)
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }() // #nosec G115 -- as above
	torn, err := dropTornLine(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	last, state, err := fold(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	current, err := Heads(ctx, store)
	if err != nil {
		return nil, err
	}
	res := &Result{Torn: torn}
	var changed []Head
	for id, h := range current {
		was, ok := state[id]
		if ok && was.Count == h.Count && was.Hash == h.Hash {
			continue
		}
		if ok && h.Count <= was.Count {
			res.Rewritten = append(res.Rewritten, h)
		}
		changed = append(changed, h)
	}
	for id, was := range state {
		if _, ok := current[id]; !ok {
			gone := Head{User: id, Login: was.Login}
			res.Rewritten = append(res.Rewritten, gone)
			changed = append(changed, gone)
		}
	}
	if len(changed) == 0 {
		return res, nil
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i].User < changed[j].User })
	state.Apply(changed)
	c := &Checkpoint{Seq: 1, Time: now.UTC().Format(time.RFC3339), Heads: changed, Digest: state.Digest()}
	if last != nil {
		c.Seq, c.Prev = last.Seq+1, last.hash
	}
	line, err := c.Sign(k)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("checkpoint: append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("checkpoint: sync %s: %w", path, err)
	}
	res.Checkpoint = c
	return res, nil
}

// dropTornLine truncates f after its last newline: an append is one
// write of a whole line ending in a newline, so bytes after the last one
// are an append a crash cut short, never acknowledged. It returns how
// many bytes it dropped.
func dropTornLine(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	end := st.Size()
	for pos := end; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep := pos + int64(i) + 1
			if keep == end {
				return 0, nil
			}
			return end - keep, f.Truncate(keep)
		}
	}
	return end, f.Truncate(0)
}

// tail is the last line read: its seq and hash.
type tail struct {
	Seq  int
	hash string
}

// fold reads the file's lines (their form, not their signatures: that is
// verify's work) into the state they record.
func fold(r io.Reader) (*tail, State, error) {
	state := State{}
	var last *tail
	err := Lines(r, func(n int, line []byte) error {
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return fmt.Errorf("line %d is damaged: %w", n, err)
		}
		state.Apply(c.Heads)
		last = &tail{Seq: c.Seq, hash: LineHash(line)}
		return nil
	})
	return last, state, err
}

// Lines calls fn with every non-empty line of r, numbered from 1.
func Lines(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(n, sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("checkpoint: read: %w", err)
	}
	return nil
}
