// Package storage holds every MongoDB query of the portal: one file per
// collection, methods named for what they return.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"conductportal/server/fault"
	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collection names.
const (
	colUsers          = "users"
	colSessions       = "sessions"
	colLessons        = "lessons"
	colLessonVersions = "lesson_versions"
	colAttempts       = "attempts"
	colAttemptResults = "attempt_results"
	colReceipts       = "receipts"
	colProgress       = "progress"
	colAudit          = "audit"
	colAPITokens      = "api_tokens"
	colCertificates   = "certificates"
	colThrottles      = "login_throttles"
	colNotifications  = "notifications"
	colDrafts         = "drafts"
	colChannels       = "channels"
	colDeliveries     = "deliveries"
	colAttemptClaims  = "delivery_attempts"
	colMeta           = "meta" // small documents that instances share, by _id
	colItemStats      = "item_stats"
	colInvitations    = "invitations"
	colExternalIDs    = "external_ids" // SCIM externalId -> user id, _id = the externalId
	colSSOLinks       = "sso_links"    // sign-on (issuer, sub) <-> user id, see sso_links.go
	colLocks          = "locks"        // leases between instances, see locks.go
	colBulkActions    = "bulk_actions" // HR's bulk actions and their undo markers, see bulk_actions.go
	colChanges        = "changes"      // what instances sharing the database changed, see changes.go
)

// Collections names every collection the portal writes: the embedded
// database makes them all at start, so each gets its _id index then and
// not only at the first start after its first write.
func Collections() []string {
	return []string{colUsers, colSessions, colLessons, colLessonVersions, colAttempts, colAttemptResults,
		colReceipts, colProgress, colAudit, colAPITokens, colCertificates, colThrottles, colNotifications,
		colDrafts, colChannels, colDeliveries, colAttemptClaims, colMeta, colItemStats, colInvitations, colExternalIDs, colSSOLinks, colLocks, colBulkActions, colChanges}
}

// Storage is the portal's access to its database.
type Storage struct {
	db       *mongo.Database
	turns    turns          // writes of one document take turns (turns.go)
	usersGen atomic.Uint64  // see UsersGeneration
	progress *progressCache // see SetSoleWriter and SetShared
	progGen  atomic.Uint64  // see ProgressGeneration
	sole     bool           // see SetSoleWriter
	sessions accessCache[*model.Session]
	users    accessCache[*model.User]
	progs    accessCache[*model.Progress] // one user's progress, by user id (the reports' is s.progress)
	receipts accessCache[*model.Receipt]  // receipts by _id: they never change
	chains   accessCache[[]model.Receipt] // a user's receipts, oldest first, by user id
	rcpts    *receiptIndex                // every user's receipts' keys, for a sole writer (receipt_index.go)
	tokens   accessCache[*model.APIToken] // API tokens by _id (the token's hash)
	attempts accessCache[*model.Attempt]  // attempts by _id, with their result
	feed     *changeFeed                  // other instances' writes, when shared (changes.go)
	// loginIDs maps a login to its user's _id (neither ever changes), so a
	// lookup by login reads by _id instead of scanning the users.
	loginIDs sync.Map
	dir      *dirIndex                   // every user's directory fields, for a sole writer (see directory.go)
	lessons  accessCache[[]model.Lesson] // one entry: the list
	counted  auditCounts                 // see AuditCount
	auditIdx *auditIndex                 // the audit log's keys, for a sole writer (see audit_page.go)
	// Inserts of concurrent requests sent as one command (group_insert.go).
	attemptsIns, resultsIns *inserter
	items                   *itemBuffer                                                 // item statistics not yet written, for a sole writer (item_stats.go)
	behind                  *progressBehind                                             // progress not yet written, for a sole writer (progress_behind.go)
	writesWaiting           func() int                                                  // see SetWritesWaiting
	counter                 func(ctx context.Context, collection string) (int64, error) // see SetCounter
	scanner                 Scanner                                                     // see SetScanner
	log                     *slog.Logger                                                // see SetLogger
	later                   laterJobs                                                   // the buffers' timed flushes (later.go)
}

// New returns a Storage over db.
func New(db *mongo.Database) *Storage {
	return &Storage{db: db, attemptsIns: newInserter(db.Collection(colAttempts)),
		resultsIns: newInserter(db.Collection(colAttemptResults))}
}

func (s *Storage) c(name string) *mongo.Collection { return s.db.Collection(name) }

// wrap turns driver errors into the package's errors, keeping the cause:
// a database out of reach becomes a fault.Unavailable, so the layers above
// answer 503 without knowing the driver.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("storage: %s: %w", op, model.ErrNotFound)
	case mongo.IsDuplicateKeyError(err):
		return fmt.Errorf("storage: %s: %w", op, errors.Join(model.ErrDuplicate, err))
	case IsUnavailable(err):
		return fmt.Errorf("storage: %s: %w", op, unavailable{err})
	default:
		return fmt.Errorf("storage: %s: %w", op, err)
	}
}

// unavailable is a driver error that means the database is out of reach:
// it is both that error and a fault.Unavailable, with the error's text.
type unavailable struct{ error }

func (e unavailable) Unwrap() []error { return []error{e.error, fault.Unavailable} }

// IsUnavailable reports errors that mean the database is out of reach (or
// did not answer in time).
func IsUnavailable(err error) bool {
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) || mongo.IsNetworkError(err) ||
		errors.Is(err, mongo.ErrClientDisconnected) || strings.Contains(err.Error(), "server selection"))
}
