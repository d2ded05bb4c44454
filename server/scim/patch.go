package scim

import (
	"net/http"
	"strings"
	"time"

	"github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
)

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// applyOp applies one validated PATCH operation to attrs, the person's
// SCIM attributes. The library has parsed the path and checked the value
// against the schema (and lower-cased "Replace" as Entra ID spells it);
// applying it is the service provider's part. A path-less add or replace
// carries an object of attributes (Okta's {"active": false}, Entra ID's
// {"displayName": ..., "name.givenName": ...}).
func applyOp(attrs scim.ResourceAttributes, op scim.PatchOperation) error {
	if op.Path == nil {
		m, ok := op.Value.(map[string]interface{})
		if !ok || op.Op == scim.PatchOperationRemove {
			return badPatch("a patch without a path needs an object value")
		}
		for k, v := range m {
			setPath(attrs, k, v)
		}
		return nil
	}
	p := op.Path
	name := p.AttributePath.AttributeName
	if p.AttributePath.URIPrefix != nil {
		name = *p.AttributePath.URIPrefix + ":" + name
	}
	if p.AttributePath.SubAttribute != nil {
		name += "." + *p.AttributePath.SubAttribute
	}
	if p.ValueExpression != nil {
		// Only emails[type eq "work"].value and the like: the portal keeps
		// one address, so any email filter addresses it.
		if !strings.EqualFold(p.AttributePath.AttributeName, "emails") {
			return badPatch("filtered paths are supported on emails only")
		}
		v := op.Value
		if op.Op == scim.PatchOperationRemove {
			v = ""
		}
		if p.SubAttribute != nil && strings.EqualFold(*p.SubAttribute, "value") {
			attrs["emails"] = []interface{}{map[string]interface{}{"value": v, "type": "work", "primary": true}}
			return nil
		}
		if m, ok := v.(map[string]interface{}); ok {
			attrs["emails"] = []interface{}{m}
			return nil
		}
		return badPatch("unsupported email patch")
	}
	if op.Op == scim.PatchOperationRemove {
		setPath(attrs, name, nil)
		return nil
	}
	setPath(attrs, name, op.Value)
	return nil
}

// setPath sets a top-level attribute, "name.givenName", or an extension
// attribute "urn:...:enterprise:2.0:User:department" (sub-attributes too).
// Keys compare case-insensitively, as SCIM's attribute names do.
func setPath(attrs scim.ResourceAttributes, key string, v interface{}) {
	if rest, ok := cutFold(key, enterprise+":"); ok {
		ext, _ := attrs[enterprise].(map[string]interface{})
		if ext == nil {
			ext = map[string]interface{}{}
			attrs[enterprise] = ext
		}
		setIn(ext, rest, v)
		return
	}
	if strings.EqualFold(key, enterprise) {
		if m, ok := v.(map[string]interface{}); ok {
			for k, x := range m {
				setPath(attrs, enterprise+":"+k, x)
			}
		}
		return
	}
	setIn(attrs, key, v)
}

// setIn sets key ("a" or "a.b") in m.
func setIn(m map[string]interface{}, key string, v interface{}) {
	head, sub, nested := strings.Cut(key, ".")
	head = canonical(m, head)
	if !nested {
		if v == nil {
			delete(m, head)
			return
		}
		m[head] = v
		return
	}
	inner, _ := m[head].(map[string]interface{})
	if inner == nil {
		inner = map[string]interface{}{}
		m[head] = inner
	}
	setIn(inner, sub, v)
}

// canonical is the spelling of key already in m, or key.
func canonical(m map[string]interface{}, key string) string {
	for k := range m {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	for _, k := range []string{"userName", "displayName", "active", "name", "emails", "externalId", "department", "manager",
		"givenName", "familyName", "formatted", "value"} {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func badPatch(detail string) error {
	return scimerr.ScimError{ScimType: scimerr.ScimTypeInvalidPath, Status: http.StatusBadRequest, Detail: detail}
}
