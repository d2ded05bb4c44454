// Package audit owns what an audit entry's detail says: the services that
// make a change build the entry here (its detail as a catalog key and
// arguments, and the same in English plain text), and the log's page says
// it in the reader's language.
package audit

import (
	"strings"

	"conductportal/server/locale"
	"conductportal/server/model"
)

// Keys whose arguments are not plain words: the renderer composes them.
const (
	// KeyChanges has (field, before, after) triples: a person's changes.
	KeyChanges = "audit.detail.changes"
	// KeyCounts has (field, value) pairs: "Rows: 3, Created: 1".
	KeyCounts = "audit.detail.counts"
	// KeyPerson has a new person's roles, department and manager.
	KeyPerson = "audit.detail.person"
	// KeyText has one argument shown as written (a browser's name).
	KeyText = "audit.detail.text"
)

// Detail is an entry's detail as data.
type Detail struct {
	Key  string
	Args []string
	// Text is the detail in English plain text, for the CSV and the API;
	// "" is the key's English words.
	Text string
}

// Say is the detail key with args (catalog verbs are all %s).
func Say(key string, args ...string) Detail { return Detail{Key: key, Args: args} }

// Text is a detail shown as written: a browser's name, an address.
func Text(s string) Detail { return Detail{Key: KeyText, Args: []string{s}, Text: s} }

// Counts is (field, value) pairs, in English "field=value field=value" as
// the log wrote counts before.
func Counts(kv ...string) Detail {
	if len(kv) < 2 {
		return Detail{} // nothing counted: no detail, not an empty key
	}
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i] + "=" + kv[i+1])
	}
	return Detail{Key: KeyCounts, Args: kv, Text: b.String()}
}

// Person is a new account's roles, department and manager.
func Person(roles []string, department, manager string) Detail {
	r := strings.Join(roles, ",")
	return Detail{Key: KeyPerson, Args: []string{r, department, manager},
		Text: "roles=" + r + " department=" + department + " manager=" + manager}
}

// Changes is a person's changes, (field, before, after) triples, with
// text their English plain form (auth.PersonDiff).
func Changes(text string, triples []string) Detail {
	return Detail{Key: KeyChanges, Args: triples, Text: text}
}

// Entry is the entry for action on target by by, its detail d; the
// English Detail says the channel too.
func Entry(by model.Actor, action, target string, d Detail) *model.AuditEntry {
	text := d.Text
	if text == "" && d.Key != "" {
		text = locale.T(model.LangEN, d.Key, anys(d.Args)...)
	}
	return &model.AuditEntry{Actor: by.Login, Client: by.Client, Via: by.Via, Action: action, Target: target,
		Detail: via(model.LangEN, by.Via, text), DetailKey: d.Key, DetailArgs: d.Args}
}

// Words is e's detail in lang, and false for an entry written before
// details were data (its Detail is all there is).
func Words(lang string, e *model.AuditEntry) (string, bool) {
	if e.DetailKey == "" {
		return "", false
	}
	var s string
	switch e.DetailKey {
	case KeyChanges:
		s = changes(lang, e.DetailArgs)
	case KeyCounts:
		s = counts(lang, e.DetailArgs)
	case KeyText:
		s = strings.Join(e.DetailArgs, " ")
	default:
		args := make([]any, len(e.DetailArgs))
		for i, a := range e.DetailArgs {
			if e.DetailKey == KeyPerson && i == 0 {
				a = Roles(lang, a)
			}
			args[i] = orDash(a)
		}
		s = locale.T(lang, e.DetailKey, args...)
	}
	return via(lang, e.Via, s), true
}

// via says the channel around s ("s (by API)"); the web pages say nothing.
func via(lang string, v model.Via, s string) string {
	if v == model.ViaWeb {
		return s
	}
	return strings.TrimSpace(locale.T(lang, "audit.via."+string(v), s))
}

func changes(lang string, t []string) string {
	parts := make([]string, 0, len(t)/3)
	for i := 0; i+2 < len(t); i += 3 {
		from, to := t[i+1], t[i+2]
		if t[i] == "roles" {
			from, to = Roles(lang, from), Roles(lang, to)
		}
		parts = append(parts, FieldName(lang, t[i])+locale.T(lang, "audit.detail.colon")+orDash(from)+" → "+orDash(to))
	}
	return strings.Join(parts, "; ")
}

func counts(lang string, kv []string) string {
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, FieldName(lang, kv[i])+locale.T(lang, "audit.detail.colon")+orDash(kv[i+1]))
	}
	return strings.Join(parts, locale.T(lang, "audit.detail.sep"))
}

// fields name the fields of counts and of a person's changes.
var fields = map[string]string{
	"stored": "audit.field.stored", "already": "audit.field.already", "rows": "audit.field.rows",
	"created": "audit.field.created", "updated": "audit.field.updated", "unchanged": "audit.field.unchanged",
	"reactivated": "audit.field.reactivated", "deactivated": "audit.field.deactivated", "invalid": "audit.field.invalid",
	"filter": "audit.field.filter", "active": "audit.field.active", "bytes": "audit.field.bytes", "since": "audit.field.since",
	"name": "hr.person.name", "roles": "hr.person.roles", "department": "hr.person.department",
	"manager": "hr.person.manager", "email": "hr.person.email", "hired": "hr.person.hired",
	"mobile": "hr.person.mobile", "wecom_id": "hr.person.wecom_id", "dingtalk_id": "hr.person.dingtalk_id",
}

// FieldName is a detail's field in lang, or the field itself when it has
// no name.
func FieldName(lang, field string) string {
	if key, ok := fields[field]; ok {
		return locale.T(lang, key)
	}
	return field
}

// Known reports whether the field has a name.
func Known(field string) bool { _, ok := fields[field]; return ok }

// Roles names comma-separated roles in lang.
func Roles(lang, roles string) string {
	var out []string
	for _, r := range strings.Split(roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if key := "role." + r; locale.Has(lang, key) {
			r = locale.T(lang, key)
		}
		out = append(out, r)
	}
	return strings.Join(out, locale.T(lang, "audit.detail.list_sep"))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
