package storage

import (
	"context"

	"conductportal/server/model"
)

// PacksWhole reports whether the progress cache keeps p whole rather
// than packed.
func PacksWhole(p model.Progress) bool { return pack(p, slugs{}).whole != nil }

// ForgetKept forgets the kept documents only (not the directory's index
// nor the remembered logins): for tests that change the database behind
// storage's back.
func (s *Storage) ForgetKept() { s.dropKept() }

// ReadChanges reads the change log now, as a shared instance does every
// sharedPoll.
func (s *Storage) ReadChanges(ctx context.Context) error { return s.readChanges(ctx) }
