package storage

import (
	"context"
	"time"

	"conductportal/server/model"
)

// PacksWhole reports whether the progress cache keeps p whole rather
// than packed.
func PacksWhole(p model.Progress) bool { return pack(p).whole != nil }

// ForgetKept forgets the kept documents only (the directory's copies of
// the users' secrets too, but not its index nor the remembered logins): for tests that change the database behind
// storage's back.
func (s *Storage) ForgetKept() {
	s.dropKept()
	if s.dir != nil {
		s.dir.forgetSecrets()
	}
}

// ReadChanges reads the change log now, as a shared instance does every
// sharedPoll.
func (s *Storage) ReadChanges(ctx context.Context) error { return s.readChanges(ctx) }

// StallChanges makes the change log's read late, as under load: the last
// complete read and every kept entry become age older, and the next read
// blocks until release. Readers then wait for it (settle) however long.
func (s *Storage) StallChanges(age time.Duration) (release func()) {
	f := s.feed
	f.read.Lock()
	f.mu.Lock()
	for f.reading { // a read that ended is still clearing its flag
		f.mu.Unlock()
		time.Sleep(time.Millisecond)
		f.mu.Lock()
	}
	f.polled = f.polled.Add(-age)
	f.settleFor = time.Hour
	f.mu.Unlock()
	s.sessions.age(age)
	s.users.age(age)
	s.progs.age(age)
	return f.read.Unlock
}

// ChangeWaiters is how many readers wait for the change log's read.
func (s *Storage) ChangeWaiters() int { return int(s.feed.waiters.Load()) }

func (c *accessCache[T]) age(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		e.at = e.at.Add(-d)
		c.entries[k] = e
	}
}

// CopyProgress is the copy a reader of progress gets of p.
func CopyProgress(p *model.Progress) *model.Progress { return copyProgress(p) }
