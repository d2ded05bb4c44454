package fault_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/model"
)

// The table: each kind's status, API code and message key, as web and api
// answer them.
func TestKindTable(t *testing.T) {
	want := map[fault.Kind]fault.Meaning{
		fault.NotFound:    {Status: http.StatusNotFound, Code: "not_found", Key: "error.notfound"},
		fault.Conflict:    {Status: http.StatusConflict, Code: "conflict", Key: "error.conflict"},
		fault.Invalid:     {Status: http.StatusUnprocessableEntity, Code: "invalid", Key: "error.invalid"},
		fault.Forbidden:   {Status: http.StatusForbidden, Code: "forbidden", Key: "error.forbidden"},
		fault.Unavailable: {Status: http.StatusServiceUnavailable, Code: "unavailable", Key: "error.unavailable"},
		fault.Throttled:   {Status: http.StatusTooManyRequests, Code: "throttled", Key: "error.throttled"},
	}
	if len(fault.Kinds()) != len(want) {
		t.Fatalf("Kinds() = %v, the table here has %d", fault.Kinds(), len(want))
	}
	for _, k := range fault.Kinds() {
		m, ok := k.Meaning()
		w := want[k]
		if !ok || m.Status != w.Status || m.Code != w.Code || m.Key != w.Key || m.Message == "" {
			t.Errorf("%v means %+v (%v), want %+v and a message", k, m, ok, w)
		}
		// A kind wrapped with %w answers as itself.
		a, ok := fault.Of(fmt.Errorf("x: %w", k))
		if !ok || a.Kind != k || a.Meaning != m {
			t.Errorf("Of(wrapped %v) = %+v, %v", k, a, ok)
		}
	}
	if _, ok := fault.Kind(0).Meaning(); ok {
		t.Error("the zero Kind has a meaning")
	}
}

// Every message key of the table, and a refined error's own key, exists in
// both catalogs.
func TestKindKeysInCatalogs(t *testing.T) {
	for _, k := range fault.Kinds() {
		m, _ := k.Meaning()
		for _, lang := range model.Languages {
			if !locale.Has(lang, m.Key) {
				t.Errorf("%v: key %q missing in %s", k, m.Key, lang)
			}
		}
	}
}

var errTaken = &fault.Error{Kind: fault.Conflict, Text: "pkg: the login is taken", Code: "login_taken",
	Key: "hr.person.taken", Args: []any{"li.na"}, Message: "the login is taken", Field: "login"}

// A service's error is its kind, stays itself under wrapping, and refines
// the kind's answer; the rest of the answer is the kind's.
func TestErrorRefinesItsKind(t *testing.T) {
	err := fmt.Errorf("pkg: create: %w", errTaken)
	if !errors.Is(err, fault.Conflict) || !errors.Is(err, errTaken) || errors.Is(err, fault.Invalid) {
		t.Fatalf("errors.Is: conflict %v, itself %v, invalid %v", errors.Is(err, fault.Conflict), errors.Is(err, errTaken), errors.Is(err, fault.Invalid))
	}
	a, ok := fault.Of(err)
	if !ok || a.Status != http.StatusConflict || a.Code != "login_taken" || a.Key != "hr.person.taken" ||
		a.Message != "the login is taken" || a.Field != "login" || len(a.Args) != 1 {
		t.Fatalf("Of = %+v, %v", a, ok)
	}
	plain, _ := fault.Of(&fault.Error{Kind: fault.NotFound, Text: "pkg: not found"})
	if m, _ := fault.NotFound.Meaning(); plain.Meaning != m || plain.Field != "" {
		t.Errorf("an unrefined error answers %+v, want the kind's %+v", plain, m)
	}
	if err.Error() != "pkg: create: pkg: the login is taken" {
		t.Errorf("text %q", err.Error())
	}
	for _, lang := range model.Languages {
		if !locale.Has(lang, a.Key) {
			t.Errorf("key %q missing in %s", a.Key, lang)
		}
	}
}

// An error of no kind is the server's own: no answer.
func TestOfOtherErrors(t *testing.T) {
	for _, err := range []error{errors.New("boom"), nil, &fault.Error{Text: "no kind"}} {
		if a, ok := fault.Of(err); ok {
			t.Errorf("Of(%v) = %+v, want none", err, a)
		}
	}
}
