package model

import "time"

// The filters below are what callers ask of lists kept in storage; they
// live here, beside the records they select, so pages and the API name
// them without knowing storage.

// AuditFilter narrows the audit log; empty fields match everything.
type AuditFilter struct {
	Actor  string    // exact login
	Action string    // exact action, or a prefix ending in "." ("lesson.")
	From   time.Time // at or after
	To     time.Time // before
}

// ReceiptFilter narrows a receipts export; empty fields match everything.
type ReceiptFilter struct {
	Since  time.Time // signed at or after
	Lesson string
}

// UserSearch selects people: each word of Q must be found in the login,
// name, department or manager, case-insensitively (empty: everyone);
// Department, when set, must equal the person's; Active, when set, their
// state. After is the last login of the previous page.
type UserSearch struct {
	Q          string
	Department string
	Active     *bool
	After      string
	Limit      int
}

// MaxSearchLimit bounds one page of a people search; SearchAll asks for
// every selected person at once.
const (
	MaxSearchLimit = 500
	SearchAll      = -1
)
