package model

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"conductportal/server/fault"
)

// What storage answers in besides the records: its errors, its ids and
// the few shapes of its reads and writes. They live here so the services
// above storage, which declare the store they need as an interface, name
// them without importing storage (and through it the driver).

// ErrNotFound is storage's answer when the asked-for document does not
// exist; it is a fault.NotFound.
var ErrNotFound error = &fault.Error{Kind: fault.NotFound, Text: "model: not found"}

// ErrDuplicate is storage's answer when a unique key is already taken; it
// is a fault.Conflict.
var ErrDuplicate error = &fault.Error{Kind: fault.Conflict, Text: "model: duplicate key"}

// ErrBoundElsewhere is storage's answer when binding an account already
// bound to another provider account.
var ErrBoundElsewhere = errors.New("model: the account is bound to another sign-on identity")

// NewID returns a random 128-bit id in hex: the _id of a new document.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Errorf("model: crypto/rand failed: %w", err))
	}
	return hex.EncodeToString(b[:])
}

// ProgressUpdate is what one event (or a repair) changes in a user's
// progress on one lesson; a zero field changes nothing. Versions, times and
// the repaired counts only move forward ($max), so a late or repeated update
// never moves progress back; AddAttempts and FailedVersion count an event
// ($inc). Storage owns the field names: callers never spell them.
type ProgressUpdate struct {
	ReadVersion  int // the version read
	PassVersion  int // a version whose quiz was passed
	AckVersion   int // a version acknowledged
	LastAttempt  time.Time
	Acknowledged time.Time
	LastFailed   time.Time
	// Attempts and Fails (per FailKey) are raised to at least these:
	// a repair from the events.
	Attempts int
	Fails    map[string]int
	// AddAttempts counts attempts started; FailedVersion, when set, counts
	// one failed attempt at that version.
	AddAttempts   int
	FailedVersion int
}

// Events are one user's attempts (with their results) and receipts.
type Events struct {
	Attempts []Attempt // by start
	Receipts []Receipt // by seq
}

// ReceiptHead is the latest receipt of a user's chain: its position
// (the chain's length when nothing is missing), hash and login.
type ReceiptHead struct {
	Login string
	Seq   int
	Count int // receipts of the user
	Hash  string
}

// SSOLink is one binding of a provider account to a portal account.
type SSOLink struct {
	ID      string    `bson:"_id"`
	UserID  string    `bson:"user_id"`
	Subject string    `bson:"subject_key"` // the "s:" _id
	Issuer  string    `bson:"issuer"`
	Sub     string    `bson:"sub"`
	At      time.Time `bson:"at"`
}
