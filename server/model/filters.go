package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"conductportal/server/fault"
)

// The filters below are what callers ask of lists kept in storage; they
// live here, beside the records they select, so pages and the API name
// them without knowing storage.

// AuditFilter narrows the audit log; empty fields match everything.
type AuditFilter struct {
	Actor  string // exact login
	Action string // exact action, or a prefix ending in "." ("lesson.")
	// Target is who or what was acted on: entries whose target is it, or
	// starts with it and a "/" (a person's exception, "login/lesson").
	Target string
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

// Cursor is a place in a list that pages newest first (time down, then
// _id up), as the audit log and the delivery log do: the time and _id of
// the last row shown. The next page starts after it, so a row written
// meanwhile (newer) neither repeats nor hides one.
type Cursor struct {
	At time.Time
	ID string
}

// ErrBadCursor is a paging cursor that is not one String wrote.
var ErrBadCursor error = &fault.Error{Kind: fault.Invalid, Text: "model: malformed paging cursor", Field: "after",
	Key: "hr.paging.bad_cursor", Message: "after is the cursor of a previous page"}

// String is the cursor as a query parameter: milliseconds since 1970 (the
// database's precision), a dash, the _id.
func (c Cursor) String() string {
	return strconv.FormatInt(c.At.UnixMilli(), 10) + "-" + c.ID
}

// ParseCursor reads a cursor written by String; "" is the first page.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	ms, id, ok := strings.Cut(s, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n < 0 || id == "" || len(id) > 200 {
		return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return Cursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}
