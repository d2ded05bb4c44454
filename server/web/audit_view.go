package web

import (
	"regexp"
	"strings"

	"conductportal/server/audit"
	"conductportal/server/locale"
	"conductportal/server/model"
)

// auditActions is every action the portal writes to the audit log, for
// the log's action filter; each has the catalog key "audit.action." + it
// (TestAuditActionsNamed finds the actions in the code and checks both).
var auditActions = []string{
	"audit.export", "bulk.assign", "bulk.exempt", "bulk.extend", "bulk.undo",
	"channel.create", "channel.delete", "channel.test", "channel.update", "checkpoints.export",
	"demo.create", "draft.discard", "draft.publish_unchanged", "draft.restore", "draft.save",
	"invite.accept", "invite.revoke", "invite.send", "lesson.publish", "lesson.settings",
	"login", "login.failed", "login.throttled", "mfa.codes", "mfa.enable", "mfa.off", "mfa.reset", "password.change",
	"person.create", "person.exception", "person.rename", "person.update",
	"receipts.export", "remind.overdue", "remind.person", "settings.test", "sso.bind", "sso.login_taken", "sso.unbind",
	"token.create", "token.revoke", "token.use",
	"user.create", "user.deactivate", "user.import", "user.mfa_off", "user.password_reset",
	"user.reactivate", "user.sync", "user.update",
}

// auditRow is a log entry as the page shows it: the action's name and the
// detail in the reader's language.
type auditRow struct {
	model.AuditEntry
	ActionName string
	Text       string // the detail, readable; the raw one when its shape is unknown
}

// actionOption is one choice of the action filter.
type actionOption struct{ Value, Label string }

// actionName is the action in lang, or the action itself when it has no
// name (one written by an older version).
func actionName(lang, action string) string {
	if key := "audit.action." + action; locale.Has(lang, key) {
		return locale.T(lang, key)
	}
	return action
}

// actionOptions lists the filter's choices, with the current value kept
// even when it is not one of them (a prefix such as "user." from a link).
func actionOptions(lang, current string) []actionOption {
	out := make([]actionOption, 0, len(auditActions)+1)
	known := current == ""
	for _, a := range auditActions {
		out = append(out, actionOption{a, actionName(lang, a)})
		known = known || a == current
	}
	if !known {
		out = append(out, actionOption{current, current})
	}
	return out
}

// auditPhrases are the details written as fixed sentences.
var auditPhrases = map[string]string{ // #nosec G101 -- audit sentences and catalog keys, no secret
	"active: true -> false; sessions ended":    "audit.detail.deactivated",
	"active: false -> true":                    "audit.detail.reactivated",
	"one-time password issued; sessions ended": "audit.detail.password_reset",
	"second step off; sessions ended":          "audit.detail.mfa_off",
	"by CSV import":                            "audit.detail.csv_import",
	"by API sync":                              "audit.detail.api_sync",
	"password chosen":                          "audit.detail.password_chosen",
	"second factor":                            "audit.detail.second_factor",
	"absent from the API sync":                 "audit.detail.sync_absent",
}

var (
	// kvDetail is "key=value key=value", after an optional "by API sync: ".
	kvDetail = regexp.MustCompile(`^(?:(by API sync): )?([a-z_]+=.*)$`)
	kvKey    = regexp.MustCompile(`(?:^| )([a-z_]+)=`)
	// diffPart is one field of a person's change, as auth.PersonDiff writes it.
	diffPart = regexp.MustCompile(`^([a-z_]+): ("(?:[^"\\]|\\.)*") -> ("(?:[^"\\]|\\.)*")$`)
)

// entryText is e's detail in lang: from its data (audit.Words), or for an
// entry written before details were data, from its text (auditText).
func entryText(lang string, e *model.AuditEntry) string {
	if s, ok := audit.Words(lang, e); ok {
		return s
	}
	return auditText(lang, e.Detail)
}

// auditText is a detail in lang: the known shapes (fixed sentences,
// counts as key=value, a person's field changes) in words, others as
// written.
func auditText(lang, detail string) string {
	if key, ok := auditPhrases[detail]; ok {
		return locale.T(lang, key)
	}
	if m := kvDetail.FindStringSubmatch(detail); m != nil {
		if s, ok := kvText(lang, m[2]); ok {
			if m[1] != "" {
				s = locale.T(lang, auditPhrases[m[1]]) + locale.T(lang, "audit.detail.colon") + s
			}
			return s
		}
	}
	if s, ok := diffText(lang, detail); ok {
		return s
	}
	return detail
}

// kvText is "stored=3 already=1" as "Stored: 3, already sent: 1".
func kvText(lang, s string) (string, bool) {
	locs := kvKey.FindAllStringSubmatchIndex(s, -1)
	parts := make([]string, 0, len(locs))
	for i, l := range locs {
		field := s[l[2]:l[3]]
		if !audit.Known(field) {
			return "", false
		}
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		v := s[l[1]:end]
		if field == "roles" {
			v = audit.Roles(lang, v)
		}
		if v == "" {
			v = "—"
		}
		parts = append(parts, audit.FieldName(lang, field)+locale.T(lang, "audit.detail.colon")+v)
	}
	return strings.Join(parts, locale.T(lang, "audit.detail.sep")), len(parts) > 0
}

// diffText is auth.PersonDiff's `department: "a" -> "b"; ...` as
// "Department: a → b; ...", after an optional " (CSV import)".
func diffText(lang, s string) (string, bool) {
	tail := ""
	if t, ok := strings.CutSuffix(s, " (CSV import)"); ok {
		s, tail = t, locale.T(lang, "audit.detail.by_csv")
	}
	var parts []string
	for _, p := range strings.Split(s, "; ") {
		m := diffPart.FindStringSubmatch(p)
		if m == nil {
			return "", false
		}
		if !audit.Known(m[1]) {
			return "", false
		}
		from, to := unquote(m[2]), unquote(m[3])
		if m[1] == "roles" {
			from, to = audit.Roles(lang, from), audit.Roles(lang, to)
		}
		if from == "" {
			from = "—"
		}
		if to == "" {
			to = "—"
		}
		parts = append(parts, audit.FieldName(lang, m[1])+locale.T(lang, "audit.detail.colon")+from+" → "+to)
	}
	return strings.Join(parts, "; ") + tail, true
}

func unquote(q string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(q, `"`), `"`)
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}
