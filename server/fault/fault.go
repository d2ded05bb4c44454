// Package fault is the portal's error vocabulary: the few kinds of error a
// service returns (not found, conflict, invalid, forbidden, unavailable,
// throttled) and the one table that says what each means to a client: its
// HTTP status, its API code and the catalog key of its message. Both web and
// api answer errors through Of, so a service error reads the same on a page
// and in the API.
package fault

import (
	"errors"
	"net/http"
	"strings"
)

// Kind is what went wrong, as a client needs to know it. A Kind is an
// error, so errors.Is(err, fault.NotFound) holds for every error of it.
type Kind uint8

// The kinds. Zero is no kind: an error without one is the server's own.
const (
	NotFound    Kind = iota + 1 // the thing asked for does not exist (or is not the caller's to see)
	Conflict                    // the request clashes with what is stored (a taken key, a step out of order)
	Invalid                     // the input is wrong; Field names it
	Forbidden                   // the caller may not do this
	Unavailable                 // a dependency (the database) is out of reach; try again
	Throttled                   // too many tries, or too soon: wait
)

// Meaning is what a kind tells a client.
type Meaning struct {
	Status  int    // HTTP status
	Code    string // API error code
	Key     string // catalog key of the page's message
	Message string // the API's English message
}

// kinds is the one table of the vocabulary.
var kinds = map[Kind]Meaning{
	NotFound:    {http.StatusNotFound, "not_found", "error.notfound", "not found"},
	Conflict:    {http.StatusConflict, "conflict", "error.conflict", "the request conflicts with what is stored"},
	Invalid:     {http.StatusUnprocessableEntity, "invalid", "error.invalid", "the request is not valid"},
	Forbidden:   {http.StatusForbidden, "forbidden", "error.forbidden", "not allowed"},
	Unavailable: {http.StatusServiceUnavailable, "unavailable", "error.unavailable", "the database cannot be reached; try again shortly"},
	Throttled:   {http.StatusTooManyRequests, "throttled", "error.throttled", "too many tries; wait and try again"},
}

// Kinds lists every kind, in order.
func Kinds() []Kind { return []Kind{NotFound, Conflict, Invalid, Forbidden, Unavailable, Throttled} }

// Meaning is what k tells a client; ok is false for a value no kind has.
func (k Kind) Meaning() (m Meaning, ok bool) {
	m, ok = kinds[k]
	return m, ok
}

func (k Kind) Error() string {
	if m, ok := kinds[k]; ok {
		return "fault: " + strings.ReplaceAll(m.Code, "_", " ")
	}
	return "fault: no kind"
}

// Error is a service's error of a kind. Services declare their errors as
// *Error values (compared with errors.Is as before) and may refine the
// kind's answer: a more precise API code, message key, message or field.
type Error struct {
	Kind Kind
	// Text is Error's text, for logs: "training: not found".
	Text string
	// Code is the API code; empty: the kind's.
	Code string
	// Key is the catalog key of the message for pages, Args its
	// arguments; empty: the kind's.
	Key  string
	Args []any
	// Message is the API's English message; empty: the kind's.
	Message string
	// Field names the input at fault (Invalid, some conflicts).
	Field string
}

func (e *Error) Error() string { return e.Text }

// Is makes every Error an instance of its kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Answer is what a client is told of an error: the kind's meaning with
// the error's refinements.
type Answer struct {
	Kind Kind
	Meaning
	Args  []any
	Field string
}

// Of answers err: the first *Error in its chain, else the first Kind (a
// plain fault.NotFound wrapped with %w). ok is false for any other error:
// the server's own, answered 500 without its text.
func Of(err error) (a Answer, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		m, ok := e.Kind.Meaning()
		if !ok {
			return Answer{}, false
		}
		a = Answer{Kind: e.Kind, Meaning: m, Args: e.Args, Field: e.Field}
		if e.Code != "" {
			a.Code = e.Code
		}
		if e.Key != "" {
			a.Key = e.Key
		}
		if e.Message != "" {
			a.Message = e.Message
		}
		return a, true
	}
	var k Kind
	if errors.As(err, &k) {
		if m, ok := k.Meaning(); ok {
			return Answer{Kind: k, Meaning: m}, true
		}
	}
	return Answer{}, false
}
