package scim

import (
	"reflect"
	"testing"

	"github.com/elimity-com/scim"
	filter "github.com/scim2/filter-parser/v2"
)

func op(t *testing.T, kind, path string, v any) scim.PatchOperation {
	t.Helper()
	o := scim.PatchOperation{Op: kind, Value: v}
	if path != "" {
		p, err := filter.ParsePath([]byte(path))
		if err != nil {
			t.Fatal(err)
		}
		o.Path = &p
	}
	return o
}

// TestApplyOp applies the operations providers send to a person's
// attributes, and refuses the ones the portal cannot honour.
func TestApplyOp(t *testing.T) {
	attrs := scim.ResourceAttributes{"userName": "li.na", "displayName": "李娜", "active": true,
		"name":   map[string]interface{}{"formatted": "李娜"},
		"emails": []interface{}{map[string]interface{}{"value": "old@example.com", "type": "work", "primary": true}}}
	for _, o := range []scim.PatchOperation{
		op(t, "replace", "", map[string]interface{}{"active": false, "name.givenName": "Na", enterprise + ":department": "前台"}),
		op(t, "replace", `emails[type eq "work"].value`, "new@example.com"),
		op(t, "add", enterprise+":manager", map[string]interface{}{"value": "m1"}),
		op(t, "remove", "displayName", nil),
		op(t, "replace", "", map[string]interface{}{enterprise: map[string]interface{}{"costCenter": "x"}}),
	} {
		if err := applyOp(attrs, o); err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
	}
	want := scim.ResourceAttributes{"userName": "li.na", "active": false,
		"name":     map[string]interface{}{"formatted": "李娜", "givenName": "Na"},
		"emails":   []interface{}{map[string]interface{}{"value": "new@example.com", "type": "work", "primary": true}},
		enterprise: map[string]interface{}{"department": "前台", "manager": map[string]interface{}{"value": "m1"}, "costCenter": "x"}}
	if !reflect.DeepEqual(attrs, want) {
		t.Errorf("got %v\nwant %v", attrs, want)
	}
	for _, bad := range []scim.PatchOperation{
		op(t, "replace", "", "not an object"),
		op(t, "remove", "", map[string]interface{}{"active": true}),
		op(t, "replace", `addresses[type eq "work"].locality`, "x"),
	} {
		if err := applyOp(attrs, bad); err == nil {
			t.Errorf("%+v was applied", bad)
		}
	}
}
