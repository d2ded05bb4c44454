package audit

import (
	"context"
	"fmt"
	"time"

	"conductportal/server/model"
)

// Store is what the log needs of storage (storage.Storage has it).
type Store interface {
	Audit(ctx context.Context, e *model.AuditEntry) error
	AuditCount(ctx context.Context, id string, e *model.AuditEntry) error
	AuditSearch(ctx context.Context, f model.AuditFilter, limit int64) ([]model.AuditEntry, error)
	AuditActors(ctx context.Context) ([]string, error)
	AuditPage(ctx context.Context, f model.AuditFilter, after model.Cursor, limit int) ([]model.AuditEntry, bool, error)
	ExportAudit(ctx context.Context, f model.AuditFilter, fn func(*model.AuditEntry) error) error
	AuditSubjects(ctx context.Context) ([]string, error)
	UsersByLogin(ctx context.Context, logins []string) (map[string]*model.User, error)
}

// Log reads the audit log for HR's page and the API, and writes the
// entries no service owns: refused sign-ins, exports. The services that
// change something write their own entries.
type Log struct {
	store Store
	now   func() time.Time
}

// NewLog is the log in store, entries stamped by now (the portal's clock).
func NewLog(store Store, now func() time.Time) *Log { return &Log{store: store, now: now} }

// Write appends e, stamped now.
func (l *Log) Write(ctx context.Context, e *model.AuditEntry) error {
	e.At = l.now()
	return l.store.Audit(ctx, e)
}

// Count counts e in the row named key (one per key and window).
func (l *Log) Count(ctx context.Context, key string, e *model.AuditEntry) error {
	e.At = l.now()
	return l.store.AuditCount(ctx, key, e)
}

// Exported records that by hands out an export (receipts, the audit log,
// checkpoints). It is written before the data goes: when it cannot be
// stored, the caller sends nothing.
func (l *Log) Exported(ctx context.Context, by model.Actor, action, target string, d Detail) error {
	if err := l.Write(ctx, Entry(by, action, target, d)); err != nil {
		return fmt.Errorf("audit: %s is refused: its audit entry is not stored: %w", action, err)
	}
	return nil
}

// Search returns the entries matching f, newest first.
func (l *Log) Search(ctx context.Context, f model.AuditFilter, limit int64) ([]model.AuditEntry, error) {
	return l.store.AuditSearch(ctx, f, limit)
}

// Actors returns everyone who appears as an actor in the log.
func (l *Log) Actors(ctx context.Context) ([]string, error) { return l.store.AuditActors(ctx) }

// People returns the people the log names as acted on (a target that is
// a login, or "login/lesson"), by login, for its filter to offer; a login
// no one has any more is left out.
func (l *Log) People(ctx context.Context) ([]model.User, error) {
	subjects, err := l.store.AuditSubjects(ctx)
	if err != nil {
		return nil, err
	}
	byLogin, err := l.store.UsersByLogin(ctx, subjects)
	if err != nil {
		return nil, err
	}
	out := make([]model.User, 0, len(byLogin))
	for _, login := range subjects {
		if u := byLogin[login]; u != nil {
			out = append(out, *u)
		}
	}
	return out, nil
}

// Page returns a page of the entries matching f, newest first, after the
// cursor, and whether more follow.
func (l *Log) Page(ctx context.Context, f model.AuditFilter, after model.Cursor, limit int) ([]model.AuditEntry, bool, error) {
	return l.store.AuditPage(ctx, f, after, limit)
}

// Export streams every entry matching f, oldest first, to fn.
func (l *Log) Export(ctx context.Context, f model.AuditFilter, fn func(*model.AuditEntry) error) error {
	return l.store.ExportAudit(ctx, f, fn)
}
