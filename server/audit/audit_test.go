package audit

import (
	"testing"

	"conductportal/server/model"
)

// An entry with nothing counted has no detail: neither a raw key in the
// English text nor a key the page would try to say.
func TestCountsOfNothing(t *testing.T) {
	e := Entry(model.Actor{Login: "hr"}, "receipts.export", "", Counts())
	if e.Detail != "" || e.DetailKey != "" {
		t.Fatalf("nothing counted: detail %q, key %q", e.Detail, e.DetailKey)
	}
	e = Entry(model.Actor{Login: "hr"}, "user.import", "", Counts("rows", "3"))
	if e.Detail != "rows=3" || e.DetailKey != KeyCounts {
		t.Fatalf("rows counted: detail %q, key %q", e.Detail, e.DetailKey)
	}
}
