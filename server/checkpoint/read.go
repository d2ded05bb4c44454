package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Open returns <dir>/checkpoints.jsonl as it stands: the lines complete
// when it was opened (a checkpoint being appended meanwhile is not cut in
// half), and their length. No file yet: an empty reader.
func Open(dir string) (io.ReadCloser, int64, error) {
	path := filepath.Join(dir, File)
	f, err := os.Open(path) // #nosec G304 -- the portal's own data folder
	if errors.Is(err, os.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	// Write appends under an exclusive lock: with a shared one the size
	// read ends at a line's end.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil { // #nosec G115 -- a file descriptor fits an int
		_ = f.Close()
		return nil, 0, fmt.Errorf("checkpoint: lock %s: %w", path, err)
	}
	st, err := f.Stat()
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) // #nosec G115 -- as above
	if err != nil {
		_ = f.Close()
		return nil, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, st.Size()), f}, st.Size(), nil
}

// Covering is the first checkpoint that covers a receipt, and the head it
// signed for that receipt's chain.
type Covering struct {
	Seq  int
	At   time.Time // when it was signed
	Head Head
}

// FirstCovering finds the first checkpoint in <dir>/checkpoints.jsonl
// whose head of the user's chain counts at least seq receipts; nil when
// none does yet. It reads the file once; a damaged line is skipped.
func FirstCovering(dir, userID string, seq int) (*Covering, error) {
	r, _, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var found *Covering
	errFound := errors.New("found")
	err = Lines(r, func(_ int, line []byte) error {
		if !strings.Contains(string(line), `"user":"`+userID+`"`) {
			return nil
		}
		c, err := Parse(line)
		if err != nil {
			return nil
		}
		for _, h := range c.Heads {
			if h.User == userID && h.Count >= seq {
				at, _ := time.Parse(time.RFC3339, c.Time)
				found = &Covering{Seq: c.Seq, At: at, Head: h}
				return errFound
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	return found, nil
}

// LastSigned is when the last checkpoint of <dir>/checkpoints.jsonl was
// signed; zero when there is none (or the last line is damaged), so the
// caller signs at once.
func LastSigned(dir string) (time.Time, error) {
	r, _, err := Open(dir)
	if err != nil {
		return time.Time{}, err
	}
	defer r.Close()
	var last time.Time
	err = Lines(r, func(_ int, line []byte) error {
		var c Checkpoint
		last = time.Time{}
		if json.Unmarshal(line, &c) == nil {
			last, _ = time.Parse(time.RFC3339, c.Time)
		}
		return nil
	})
	return last, err
}
