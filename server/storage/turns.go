package storage

import (
	"context"
	"fmt"
	"sync"
)

// turns serializes this process's writes per key: callers with one key take
// turns, callers with different keys never wait for each other. FerretDB v1
// applies an operator or conditional update as read, modify, write, so two
// updates of one document may not overlap (one would be lost, or a
// condition pass twice); a key names that document ("user/<id>"). Across
// instances, progress adds a lease (see lockProgress).
type turns struct {
	mu   sync.Mutex
	keys map[string]*turn
}

type turn struct {
	token chan struct{} // holds one value while the key is held
	refs  int           // holders and waiters; the entry goes at zero
}

// lock waits for key's turn, or until ctx ends. Call unlock once done
// (calling it again does nothing).
func (t *turns) lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: wait for %s: %w", key, err)
	}
	t.mu.Lock()
	if t.keys == nil {
		t.keys = map[string]*turn{}
	}
	k := t.keys[key]
	if k == nil {
		k = &turn{token: make(chan struct{}, 1)}
		t.keys[key] = k
	}
	k.refs++
	t.mu.Unlock()
	select {
	case k.token <- struct{}{}:
		var once sync.Once
		return func() {
			once.Do(func() {
				<-k.token
				t.leave(key, k)
			})
		}, nil
	case <-ctx.Done():
		t.leave(key, k)
		return nil, fmt.Errorf("storage: wait for %s: %w", key, ctx.Err())
	}
}

func (t *turns) leave(key string, k *turn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(t.keys, key)
	}
}

// waiting is how many callers hold or wait for key (for tests).
func (t *turns) waiting(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := t.keys[key]; k != nil {
		return k.refs
	}
	return 0
}

// userKey and progressKey name the documents whose writes take turns.
func userKey(id string) string     { return "user/" + id }
func progressKey(id string) string { return "progress/" + id }
