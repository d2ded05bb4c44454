package api

import (
	"maps"
	"net/http"
	"slices"
	"strconv"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/quiz"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

// The OpenAPI 3.1 document of the API. It is written by hand next to the
// routes; one test checks that every registered route is in it, another
// that the answers of a full API session validate against it.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

// errorText says what each error status means here.
var errorText = map[int]string{
	400: "bad input: `field` names the parameter or body field",
	401: "no valid credentials: `unauthorized`, `token_expired` or `token_revoked`",
	403: "not allowed: `forbidden` (the roles), `missing_scope` (the token; `scope` names it), `mfa_required` (the caller, by session or by token, has a role that requires a second factor and has not set one up), `password_change_required`",
	404: "no such route or object, or not the caller's",
	409: "the state does not allow it now (e.g. `quiz_not_passed`, `no_draft`)",
	413: "too many rows",
	415: "the body is not `application/json`",
	422: "a field is invalid: `field` names it",
	429: "wait before trying again: code `cooldown` (a quiz's cool-down; `until` says when it ends)",
}

// spec is one operation.
type spec struct {
	// id is the operationId: a stable name for generated clients and checkers.
	id, summary, tag string
	// scope is the token scope it needs ("": none beyond a valid token).
	scope  string
	body   obj // nil: no body
	status int // success status
	answer obj // success schema
	params []obj
	errs   []int // error statuses besides 401, 403 (and 500/503 as default)
	ndjson bool  // the answer is an NDJSON stream of answer objects
	sheet  bool  // the answer is a spreadsheet download: CSV or XLSX as format asks
	// alsoOK is a second success status with the same answer (200 for an
	// update where status is 201 for a creation).
	alsoOK int
	// headers are response headers of the success status, by name.
	headers obj
}

func (s spec) op() obj {
	content := obj{"application/json": obj{"schema": s.answer}}
	if s.ndjson {
		// Each line is one item; the schema describes the stream as the
		// list of its lines.
		content = obj{mimeNDJSON: obj{"schema": obj{"type": "array", "items": s.answer,
			"description": "NDJSON: one item a line, streamed"}}}
	}
	if s.sheet {
		bin := obj{"type": "string", "format": "binary"}
		content = obj{"text/csv": obj{"schema": obj{"type": "string", "description": "UTF-8 with a byte order mark; CRLF lines; the header row, the rows, the total row"}},
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": obj{"schema": bin}}
		s.headers = obj{"Content-Disposition": obj{"description": `attachment; filename="team-overdue-2026-12-03.xlsx"; filename*=UTF-8''team-%E5%AE%A2%E6%9C%8D%E9%83%A8-overdue-2026-12-03.xlsx: the view, the team or department, the filter and the day`,
			"schema": obj{"type": "string"}}}
	}
	responses := obj{strconv.Itoa(s.status): obj{"description": http.StatusText(s.status), "content": content}}
	if s.headers != nil {
		responses[strconv.Itoa(s.status)].(obj)["headers"] = s.headers
	}
	if s.alsoOK != 0 {
		responses[strconv.Itoa(s.alsoOK)] = obj{"description": http.StatusText(s.alsoOK), "content": content}
	}
	errs := append([]int{401, 403}, s.errs...)
	if s.body != nil {
		errs = append(errs, 400, 415)
	}
	for _, code := range errs {
		responses[strconv.Itoa(code)] = obj{"description": errorText[code], "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	responses["default"] = obj{"description": "a server error (500), or the database cannot be reached (503)",
		"content": obj{"application/json": obj{"schema": ref("Error")}}}
	desc := "Needs a valid token or session."
	security := []obj{{"bearer": []string{}}, {"session": []string{}}}
	if s.scope != "" {
		desc = "A token needs the scope `" + s.scope + "`; the caller's roles are checked too."
		security = []obj{{"bearer": []string{s.scope}}, {"session": []string{}}}
	}
	o := obj{"operationId": s.id, "summary": s.summary, "description": desc, "tags": []string{s.tag}, "security": security, "responses": responses}
	if s.scope != "" {
		o["x-scope"] = s.scope
	}
	if len(s.params) > 0 {
		o["parameters"] = s.params
	}
	if s.body != nil {
		o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": s.body}}}
	}
	return o
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}}
}

func query(name, desc string, schema ...obj) obj {
	sc := obj{"type": "string"}
	if len(schema) > 0 {
		sc = schema[0]
	}
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": sc}
}

// object is a closed object schema whose listed properties are all required.
func object(props obj) obj {
	return obj{"type": "object", "additionalProperties": false, "required": slices.Sorted(maps.Keys(props)), "properties": props}
}

// closedBody is a request body: unknown fields are refused, required as named.
func closedBody(props obj, required ...string) obj {
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

var (
	str      = obj{"type": "string"}
	integer  = obj{"type": "integer"}
	boolean  = obj{"type": "boolean"}
	dateTime = obj{"type": "string", "format": "date-time"}
	date     = obj{"type": "string", "format": "date"}
	strs     = arrayOf(str)
	// optional marks a property that may be left out.
	slug   = pathParam("slug", "the lesson's slug, e.g. dress")
	login  = pathParam("login", "the person's login")
	lang   = query("lang", "zh-CN or en (default: the caller's language)", obj{"enum": []string{"zh-CN", "en"}})
	since  = query("since", "only from this time on: 2026-01-31 or 2026-01-31T08:00:00Z")
	status = obj{"enum": []string{"not_started", "reading", "quiz_passed", "done", "needs_reack"}}
	// teamStatus is status as managers' reports give it: quiz_failed
	// where the quiz asked now was failed and not passed since.
	teamStatus = obj{"enum": []string{"not_started", "reading", "quiz_failed", "quiz_passed", "done", "needs_reack"}}
	filters    = []obj{query("manager", "a manager's login (HR: any; managers: their own)"), query("department", "a department (HR or its manager)"),
		query("status", "not_started, reading, quiz_failed, quiz_passed, done or needs_reack"), query("lesson", "one lesson's slug"),
		query("overdue", "1: overdue cells only"), query("reack", "1: cells to sign again only"),
		query("expiring", "1: signatures ageing out within 30 days only"), query("sort", "name, login, department, percent or overdue"),
		query("desc", "1: descending"), lang}
	sheetFormat = obj{"name": "format", "in": "query", "required": true, "description": "csv or xlsx", "schema": obj{"enum": []string{"csv", "xlsx"}}}
	exportLang  = query("lang", "the file's language: zh-CN or en (default: the caller's); another value answers 422 with field lang", obj{"enum": []string{"zh-CN", "en"}})
	// The limits are those auth.Person.Check enforces (characters).
	person = closedBody(obj{"login": obj{"type": "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`, "maxLength": 64},
		"name":       obj{"type": "string", "minLength": 1, "maxLength": 100, "description": "the full name, as the person signs"},
		"roles":      obj{"type": "array", "items": obj{"enum": []string{"employee", "manager", "hr", "admin"}}, "description": "default: employee"},
		"department": obj{"type": "string", "maxLength": 100}, "manager": obj{"type": "string", "maxLength": 64, "description": "the manager's login"},
		"email":       obj{"type": "string", "description": "where the invitation and reminders are mailed; empty or absent keeps the stored one"},
		"hired":       obj{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2}$`, "description": "the hire date, YYYY-MM-DD (default: today for a new person)"},
		"mobile":      obj{"type": "string", "description": "mobile number, mentions the person in DingTalk groups; all three contact fields absent keeps the stored ones"},
		"wecom_id":    obj{"type": "string", "description": "WeCom user id, mentions the person in WeCom groups"},
		"dingtalk_id": obj{"type": "string", "description": "DingTalk user id"}}, "login", "name")
)

func withOptional(o obj, optional ...string) obj {
	out := maps.Clone(o)
	req := slices.DeleteFunc(slices.Clone(o["required"].([]string)), func(s string) bool { return slices.Contains(optional, s) })
	out["required"] = req
	return out
}

var total = obj{"assigned": integer, "done": integer, "overdue": integer, "needs_reack": integer, "expiring": integer, "percent": integer,
	"quiz_failed": obj{"type": "integer", "description": "lessons whose quiz was failed and not passed since"}}

func withProps(base obj, more obj) obj {
	out := maps.Clone(base)
	maps.Copy(out, more)
	return out
}

var schemas = obj{
	"Error": object(obj{"error": withOptional(object(obj{"code": str, "message": str, "field": str, "scope": str, "request_id": str,
		"until": obj{"type": "string", "format": "date-time", "description": "code cooldown: when the next attempt may start"}}),
		"field", "scope", "request_id", "until")}),
	"Me": object(obj{"login": str, "name": str, "roles": strs, "lang": str, "department": str, "manager": str}),
	"LessonStatus": withOptional(object(obj{"slug": str, "title": str, "version": integer, "status": status,
		"reason": obj{"enum": []string{"changed", "renewal"}}, "overdue": boolean, "due": dateTime, "expires": dateTime}), "reason", "expires"),
	"Lesson": object(obj{"slug": str, "version": integer, "lang": str, "title": str, "summary": str, "html": str, "text_hash": str,
		"clauses": arrayOf(object(obj{"id": str, "title": str}))}),
	"Read": object(obj{"slug": str, "version": integer, "read": boolean}),
	"Attempt": object(obj{"id": str, "lesson": str, "version": integer, "pass_mark": integer,
		"questions": arrayOf(object(obj{"id": str, "type": str, "prompt": str, "options": arrayOf(object(obj{"id": str, "text": str}))}))}),
	"Result": object(obj{"id": str, "score": integer, "pass_mark": integer, "passed": boolean,
		"review": obj{"enum": quiz.Reviews, "description": "the quiz's review policy: when answer is given"},
		"questions": arrayOf(withOptional(object(obj{"id": str, "correct": boolean, "chosen": strs,
			"answer":      obj{"type": "array", "items": str, "description": "the keyed options; absent when the review policy hides them (after_pass: on a failed attempt; never: always)"},
			"explanation": str, "clause": str}), "answer"))}),
	"Analytics": object(obj{"lesson": str, "version": integer, "attempts": obj{"type": "integer", "description": "graded attempts, every version"},
		"people": integer, "passed": integer, "avg_attempts_to_pass": obj{"type": "number"},
		"discrimination_method": obj{"enum": []string{"point_biserial_rest"}, "description": "the point-biserial correlation of the item (right or wrong) with the share right of the attempt's other questions"},
		"min_answers":           obj{"type": "integer", "description": "answers an item needs before it is flagged"},
		"easy_facility":         obj{"type": "integer", "description": "facility (percent) above which an item is flagged easy"},
		"min_discrimination":    obj{"type": "number", "description": "discrimination below which an item is flagged"},
		"questions": arrayOf(object(obj{"id": str, "clause": str, "prompt": str, "answered": integer, "right": integer, "blank": integer,
			"facility":       obj{"type": "integer", "description": "percent of answers right"},
			"discrimination": obj{"type": []string{"number", "null"}, "description": "-1 to 1; null when undefined (everyone right or wrong)"},
			"flagged":        obj{"type": "boolean", "description": "the item has min_answers answers, so its flags count"},
			"easy":           boolean, "low_discrimination": boolean,
			"options": arrayOf(object(obj{"id": str, "text": str, "keyed": boolean, "chosen": obj{"type": "integer", "description": "times chosen (distractor analysis)"}}))})),
		"clauses": arrayOf(object(obj{"id": str, "title": str, "answered": integer, "missed": integer, "miss_rate": integer}))}),
	"Receipt": object(obj{"id": str, "lesson": str, "version": integer, "lang": str, "text_hash": str, "prev_hash": str, "hash": str, "at": dateTime}),
	"Team": object(obj{
		"scope":   withOptional(object(obj{"manager": str, "department": str}), "manager", "department"),
		"lessons": arrayOf(object(obj{"slug": str, "title": str})),
		"rows": arrayOf(object(obj{"login": str, "name": str, "department": str, "manager": str, "assigned": integer, "done": integer,
			"overdue": integer, "needs_reack": integer, "expiring": integer, "percent": integer, "quiz_failed": integer,
			"lessons": arrayOf(withOptional(object(obj{"lesson": str, "assigned": boolean, "status": teamStatus, "due": dateTime, "overdue": boolean,
				"renewal": boolean, "expires": dateTime, "expiring": boolean, "completed": dateTime}), "status", "due", "renewal", "expires", "expiring", "completed"))})),
		"totals":  arrayOf(object(withProps(total, obj{"lesson": str}))),
		"total":   withOptional(object(withProps(total, obj{"lesson": str})), "lesson"),
		"members": integer, "weeks": arrayOf(object(obj{"week_end": dateTime, "percent": integer})), "at": dateTime}),
	"OrgRow": withOptional(object(withProps(total, obj{"key": str, "lesson": str, "people": integer, "overdue_people": integer})), "lesson"),
	"Organisation": object(obj{"departments": arrayOf(ref("OrgRow")), "lessons": arrayOf(ref("OrgRow")), "all": ref("OrgRow"), "at": dateTime,
		"weeks": arrayOf(object(obj{"week_end": dateTime, "percent": integer})),
		"publishes": arrayOf(object(obj{"lesson": str, "version": integer, "kind": obj{"enum": []string{"reack", "requiz"}}, "published": dateTime,
			"signed_since": integer, "still_to_sign": integer}))}),
	"Problem": withOptional(object(obj{"part": obj{"type": "string", "description": "a language, or quiz"}, "line": integer, "message": str,
		"code": obj{"type": "string", "description": "the kind of problem, e.g. yaml.colon, yaml.unknown_field, lesson.slug_missing, quiz.pass_mark: stable, for wording it in the reader's language"}}), "line", "code"),
	"LessonInfo": object(obj{"slug": str, "current": integer, "audience": str, "due_days": integer,
		"titles": obj{"type": "object", "additionalProperties": str, "description": "language -> title"}}),
	"DraftFiles": object(obj{"slug": str, "base": integer, "stored": boolean,
		"files": obj{"type": "object", "additionalProperties": str, "description": "language -> the whole lesson file"}, "quiz": str}),
	"Draft": object(obj{"slug": str, "base": integer, "valid": boolean, "problems": arrayOf(ref("Problem")),
		"warnings": obj{"type": "array", "items": ref("GuessWarning"), "description": "languages in which a guesser who never reads the lesson passes the quiz too often; publishing is still allowed"}}),
	"GuessWarning": object(obj{"lang": str, "pass_chance": obj{"type": "number", "description": "chance of passing a first attempt, exact over all draws"},
		"limit": obj{"type": "number"}, "strategy": str, "questions": obj{"type": "array", "items": str, "description": "the questions whose form gives their key away"}}),
	"Published": object(obj{"slug": str, "version": integer, "created": boolean,
		"changed":    obj{"type": []string{"array", "null"}, "items": str, "description": "the clauses whose text changed"},
		"sign_again": obj{"type": "integer", "description": "how many people must sign the new version again: active, assigned the lesson, and signed an earlier version; 0 for a minor change"}}),
	"Version": object(obj{"version": integer, "kind": str, "note": str, "author": str, "published": dateTime, "changed": strs, "outdated": strs,
		"text_hashes": obj{"type": "object", "additionalProperties": str}}),
	"User": object(obj{"login": str, "name": str, "roles": strs, "department": str, "manager": str, "manages": str, "email": str,
		"hired": date, "active": boolean, "mobile": str, "wecom_id": str, "dingtalk_id": str}),
	"Upserted": withOptional(object(obj{"login": str, "created": boolean, "changed": str,
		"one_time_password": obj{"type": "string", "description": "for a new account made with ?one_time_password=true, given once: it must be changed at the first login"},
		"invited":           obj{"type": "string", "description": "for a new account: how its invitation went out (email, sso), empty when no channel reaches the person"}}),
		"changed", "one_time_password", "invited"),
	"SyncResult": object(obj{"created": integer, "updated": integer, "unchanged": integer, "reactivated": integer, "deactivated": integer,
		"invalid": integer, "results": arrayOf(withOptional(object(obj{
			"index":   obj{"type": "integer", "description": "the row's place in users, from 0; -1 for an account absent from the list"},
			"login":   str,
			"status":  obj{"enum": []string{auth.SyncCreated, auth.SyncUpdated, auth.SyncUnchanged, auth.SyncReactivated, auth.SyncInvalid, auth.SyncDeactivated}},
			"changed": str,
			"invited": obj{"type": "string", "description": "for a new account: how its invitation went out (email, sso); no password is ever answered"},
			"error":   ref("FieldError"),
		}), "changed", "invited", "error"))}),
	"BulkResult": object(obj{
		"id":       obj{"type": "string", "description": "the action's id, for its undo; empty for a dry run or when it changes nobody"},
		"dry_run":  boolean,
		"lesson":   str,
		"kind":     obj{"enum": []string{training.BulkAssign, training.BulkExempt, training.BulkExtend}},
		"count":    obj{"type": "integer", "description": "how many people it changes (changed, unless a dry run)"},
		"affected": arrayOf(object(obj{"login": str, "name": str})),
		"skipped": arrayOf(object(obj{"login": str, "name": obj{"type": "string", "description": "empty for an unknown login"},
			"reason": obj{"enum": []string{training.SkipUnknown, training.SkipInactive, training.SkipAlreadyExempt, training.SkipAlreadyAssigned,
				training.SkipNotAssigned, training.SkipExempt, training.SkipDone, training.SkipDueLater}}})),
	}),
	"BulkUndo": object(obj{"id": str, "restored": obj{"type": "array", "items": str, "description": "logins put back as they were before the action"},
		"changed": obj{"type": "array", "items": str, "description": "logins whose exception changed since the action: left as they are"}}),
	"FieldError": withOptional(object(obj{"code": str, "message": str, "field": str}), "field"),
	"ReceiptLine": object(obj{"id": str, "login": str, "lesson": str, "version": integer, "lang": str, "text_hash": str, "signature": str,
		"at": dateTime, "client": str, "agent": str, "seq": integer, "cycle": integer, "prev_hash": str, "hash": str}),
	"CheckpointHead": object(obj{"user": obj{"type": "string", "description": "the user's id"}, "login": obj{"type": "string", "description": "the login on the chain's last receipt"},
		"count": obj{"type": "integer", "description": "receipts in the chain; 0: the chain is gone"}, "head": obj{"type": "string", "description": "SHA-256 (hex) of the chain's last receipt"}}),
	"Checkpoint": object(obj{"seq": integer, "time": dateTime, "prev": obj{"type": "string", "description": "SHA-256 (hex) of the previous line; empty for the first"},
		"heads":  obj{"type": "array", "items": ref("CheckpointHead"), "description": "the chains changed since the previous checkpoint"},
		"digest": obj{"type": "string", "description": "SHA-256 (hex) over `user count head\\n` of every chain, sorted by user id"},
		"key":    obj{"type": "string", "description": "the Ed25519 public key, base64"},
		"sig":    obj{"type": "string", "description": "Ed25519 signature (base64) of the line's bytes up to `,\"sig\":`, with `}` appended"}}),
	"AuditLine": object(obj{"id": str, "at": dateTime, "actor": str, "action": str, "target": str, "client": str,
		"detail":      obj{"type": "string", "description": "the detail in English plain text"},
		"detail_key":  obj{"type": "string", "description": "the detail as data: a message key (`audit.detail.*`) for a client that words it in its reader's language; empty on lines written before"},
		"detail_args": obj{"type": "array", "items": str, "description": "the detail key's arguments"},
		"via":         obj{"type": "string", "enum": []string{"", "api", "import", "sso", "sync", "invite", "scim"}, "description": "the channel the change came by; empty is the portal's pages"},
		"count":       obj{"type": "integer", "description": "refused sign-ins (`login.failed`, `login.throttled`) are one line per login, address and 15-minute window: how many tries it stands for, `at` being the latest; 0 for every other line"}}),
}

var paths = obj{
	"/me": obj{"get": spec{id: "getMe", summary: "The caller", tag: "learner", status: 200, answer: ref("Me")}.op()},
	"/me/lessons": obj{"get": spec{id: "listMyLessons", summary: "The caller's lessons with status and due date", tag: "learner", scope: auth.ScopeLearner,
		status: 200, answer: arrayOf(ref("LessonStatus")), params: []obj{lang}}.op()},
	"/me/receipts": obj{"get": spec{id: "listMyReceipts", summary: "The caller's receipts, oldest first", tag: "learner", scope: auth.ScopeLearner,
		status: 200, answer: arrayOf(ref("Receipt"))}.op()},
	"/me/password": obj{"post": spec{id: "changeMyPassword", summary: "Sets the caller's new password; their other sessions end", tag: "learner",
		body: closedBody(obj{"current": obj{"type": "string", "description": "the current password"},
			"new": obj{"type": "string", "minLength": auth.MinPasswordLen, "maxLength": auth.MaxPasswordLen,
				"description": "the new password: not a common one, not easy to guess (zxcvbn score 3 or more), not made of the caller's name, login, email or the company's name"}}, "current", "new"),
		status: 200, answer: object(obj{"changed": boolean}),
		errs: []int{422, 429}}.op()},
	"/lessons/{slug}": obj{"get": spec{id: "getLesson", summary: "The current version of a lesson in the caller's language", tag: "learner", scope: auth.ScopeLearner,
		status: 200, answer: ref("Lesson"), params: []obj{slug, lang}, errs: []int{404}}.op()},
	"/lessons/{slug}/read": obj{"post": spec{id: "markLessonRead", summary: "Marks the current version read", tag: "learner", scope: auth.ScopeLearner,
		status: 200, answer: ref("Read"), params: []obj{slug}, errs: []int{404}}.op()},
	"/lessons/{slug}/attempts": obj{"post": spec{id: "startAttempt", summary: "Draws a quiz attempt (no answers in it)", tag: "learner", scope: auth.ScopeLearner,
		status: 201, answer: ref("Attempt"), params: []obj{slug, lang}, errs: []int{404, 409, 429}}.op()},
	"/attempts/{id}/submit": obj{"post": spec{id: "submitAttempt", summary: "Grades an attempt once; again returns the first result", tag: "learner", scope: auth.ScopeLearner,
		body: closedBody(obj{"answers": obj{"type": "object", "additionalProperties": strs, "description": "question id -> chosen option ids"},
			"allow_unanswered": obj{"type": "boolean", "description": "grade even with questions left blank (they count as wrong); without it such a submit answers 422 with code unanswered and field naming each blank question as answers.<question id>, comma separated"}}, "answers"),
		status: 200, answer: ref("Result"), params: []obj{pathParam("id", "the attempt's id"), lang}, errs: []int{404, 422, 429}}.op()},
	"/lessons/{slug}/acknowledgements": obj{"post": spec{id: "acknowledgeLesson", summary: "Signs the current version; again returns the same receipt", tag: "learner", scope: auth.ScopeLearner,
		body: closedBody(obj{"version": obj{"type": "integer", "minimum": 1, "description": "the version read: the current one"},
			"signature": obj{"type": "string", "minLength": 1, "maxLength": 100, "description": "the caller's full name"}}, "version", "signature"),
		status: 201, answer: ref("Receipt"), params: []obj{slug, lang}, errs: []int{404, 409, 422}}.op()},
	"/reports/team": obj{"get": spec{id: "getTeamReport", summary: "A team's matrix, as the team page shows it", tag: "reports", scope: auth.ScopeReportsRead,
		status: 200, answer: ref("Team"), params: filters, errs: []int{404}}.op()},
	"/reports/organisation": obj{"get": spec{id: "getOrganisationReport", summary: "Completion by department and by lesson (HR)", tag: "reports", scope: auth.ScopeReportsRead,
		status: 200, answer: ref("Organisation")}.op()},
	"/reports/team/export": obj{"get": spec{id: "exportTeamReport", summary: "The team matrix as a CSV or XLSX file: per lesson its status, due date, completion date and overdue in columns of their own", tag: "reports", scope: auth.ScopeReportsRead,
		status: 200, sheet: true, params: append([]obj{sheetFormat, exportLang}, filters[:len(filters)-1]...), errs: []int{404, 422}}.op()},
	"/reports/organisation/export": obj{"get": spec{id: "exportOrganisationReport", summary: "Completion by department or by lesson as a CSV or XLSX file; a workbook holds both tables, the one asked for first (HR)", tag: "reports", scope: auth.ScopeReportsRead,
		status: 200, sheet: true, params: []obj{sheetFormat, exportLang, query("by", "department (default) or lesson", obj{"enum": []string{"department", "lesson"}})}, errs: []int{422}}.op()},
	"/lessons/{slug}/drafts": obj{"post": spec{id: "saveDraft", summary: "Stores a draft: the lesson file per language and the quiz YAML (HR)", tag: "content", scope: auth.ScopeContentWrite,
		body: closedBody(obj{"files": obj{"type": "object", "additionalProperties": str, "description": "language -> the whole lesson file (front matter and Markdown)"},
			"quiz": obj{"type": "string", "description": "the quiz YAML"}}),
		status: 200, answer: ref("Draft"), params: []obj{slug}, errs: []int{404, 422}}.op()},
	"/lessons/{slug}/publish": obj{"post": spec{id: "publishLesson", summary: "Publishes the draft as a new version (HR)", tag: "content", scope: auth.ScopeContentWrite,
		body: closedBody(obj{"kind": obj{"enum": []string{"minor", "reack", "requiz"}}, "note": obj{"type": "string", "minLength": 1, "maxLength": 1000},
			"grace_days": obj{"type": "integer", "minimum": 0, "maximum": 365, "description": "days to sign again (default 14)"}}, "kind", "note"),
		status: 201, alsoOK: 200, answer: ref("Published"), params: []obj{slug}, errs: []int{404, 409, 422}}.op()},
	"/lessons/{slug}/versions": obj{"get": spec{id: "listLessonVersions", summary: "Every published version (HR)", tag: "content", scope: auth.ScopeContentRead,
		status: 200, answer: arrayOf(ref("Version")), params: []obj{slug}, errs: []int{404}}.op()},
	"/lessons/{slug}/analytics": obj{"get": spec{id: "getLessonAnalytics", summary: "Item statistics of the current pool: facility, discrimination, options chosen, flags (HR, admin)",
		tag: "content", scope: auth.ScopeContentRead, status: 200, answer: ref("Analytics"), params: []obj{slug, lang}, errs: []int{404}}.op()},
	"/lessons": obj{"get": spec{id: "listLessons", summary: "Every lesson with its current version (HR, admin)", tag: "content", scope: auth.ScopeContentRead,
		status: 200, answer: arrayOf(ref("LessonInfo"))}.op()},
	"/lessons/{slug}/draft": obj{"get": spec{id: "getDraft", summary: "The stored draft, or the current version's files to start one (stored: false) (HR, admin)",
		tag: "content", scope: auth.ScopeContentRead, status: 200, answer: ref("DraftFiles"), params: []obj{slug}, errs: []int{404}}.op()},
	"/users": obj{
		"get": spec{id: "listUsers", summary: "The accounts, by login; a page of them with q, after or limit (HR, admin)", tag: "users", scope: auth.ScopeUsersRead, status: 200, answer: arrayOf(ref("User")),
			params: []obj{query("department", "only this department"), query("active", "true or false", obj{"enum": []string{"true", "false"}}),
				query("q", "words that must each be found in the login, name, department or manager (case-insensitive); pages the answer", obj{"type": "string", "maxLength": 200}),
				query("after", "the last login of the previous page (keyset paging); pages the answer"),
				query("limit", "people a page (default 50); pages the answer", obj{"type": "integer", "minimum": 1, "maximum": model.MaxSearchLimit})},
			headers: obj{"Link": obj{"description": `when more people follow a page: <...&after=LOGIN>; rel="next"`, "schema": obj{"type": "string"}}},
			errs:    []int{400}}.op(),
		"post": spec{id: "upsertUser", summary: "Creates a person, or updates them by login (HR, admin). A new person is sent an invitation, or with ?one_time_password=true gets a one-time password answered once",
			tag: "users", scope: auth.ScopeUsersWrite, params: []obj{query("one_time_password", "true: answer a one-time password instead of inviting", obj{"enum": []string{"true", "false"}})},
			body: person, status: 201, alsoOK: 200, answer: ref("Upserted"), errs: []int{409, 422}}.op(),
	},
	"/users/sync": obj{"post": syncOp()},
	"/users/{login}": obj{
		"get": spec{id: "getUser", summary: "One account (HR, admin)", tag: "users", scope: auth.ScopeUsersRead, status: 200, answer: ref("User"),
			params: []obj{login}, errs: []int{404}}.op(),
		"put": spec{id: "replaceUser", summary: "Replaces a person's fields (HR, admin)", tag: "users", scope: auth.ScopeUsersWrite,
			body: withOptional(person, "login"), status: 200, answer: ref("User"), params: []obj{login}, errs: []int{404, 422}}.op(),
	},
	"/users/{login}/deactivate": obj{"post": spec{id: "deactivateUser", summary: "Turns an account off and ends its sessions and tokens; again is harmless (HR, admin)",
		tag: "users", scope: auth.ScopeUsersWrite, status: 200, answer: ref("User"), params: []obj{login}, errs: []int{404}}.op()},
	"/bulk-actions": obj{"post": spec{id: "bulkAction", summary: "Assigns or exempts a lesson, or extends its due date, for a department or a list of logins; dry_run previews who is affected and who is skipped, changing nothing; one audit entry with the count and the logins (HR, admin)",
		tag: "users", scope: auth.ScopeUsersWrite, body: closedBody(obj{
			"lesson":     obj{"type": "string", "description": "the lesson's slug"},
			"kind":       obj{"enum": []string{training.BulkAssign, training.BulkExempt, training.BulkExtend}, "description": "assign (beyond the lesson's audience, or lifting an exemption), exempt, or extend the due date"},
			"department": obj{"type": "string", "description": "the group: everyone in this department; or give logins"},
			"logins":     obj{"type": "array", "items": str, "maxItems": training.MaxBulkPeople, "description": "the group: these logins (an item may hold several, separated by commas or new lines)"},
			"days":       obj{"type": "integer", "minimum": 1, "maximum": training.MaxBulkDays, "description": "extend: this many days after each person's due date (after today for someone overdue); or give until"},
			"until":      obj{"type": "string", "format": "date", "description": "extend: to the end of this day (portal's zone), after today"},
			"reason":     obj{"type": "string", "maxLength": 300, "description": "recorded on each person's exception and in the audit log"},
			"dry_run":    obj{"type": "boolean", "description": "true: answer the preview and change nothing"},
		}, "lesson", "kind", "reason"),
		status: 201, alsoOK: 200, answer: ref("BulkResult"), errs: []int{422}}.op()},
	"/bulk-actions/{id}/undo": obj{"post": spec{id: "undoBulkAction", summary: "Undoes a bulk action once: each person's exception as before it, except for those changed since (HR, admin)",
		tag: "users", scope: auth.ScopeUsersWrite, status: 200, answer: ref("BulkUndo"), params: []obj{pathParam("id", "the bulk action's id")}, errs: []int{404, 409}}.op()},
	"/receipts": obj{"get": spec{id: "exportReceipts", summary: "Every receipt, oldest first, streamed as NDJSON of ReceiptLine (HR)", tag: "exports", scope: auth.ScopeReceiptsRead,
		status: 200, answer: ref("ReceiptLine"), ndjson: true, params: []obj{since, query("lesson", "only this lesson's slug")}, errs: []int{400}}.op()},
	"/audit": obj{"get": spec{id: "exportAudit", summary: "The audit log, oldest first, streamed as NDJSON of AuditLine; with after or limit one page of it, newest first (HR, admin)", tag: "exports", scope: auth.ScopeAuditRead,
		status: 200, answer: ref("AuditLine"), ndjson: true, params: []obj{since, query("actor", "only this login"),
			query("target", "only entries about this person (or lesson): a target equal to it, or starting with it and a slash (a person's lesson exception, login/lesson)"),
			query("action", "an action, or a prefix ending in a dot (user.)"),
			query("after", "the cursor of the previous page, from its Link header (keyset paging on time and id); pages the answer"),
			query("limit", "lines a page (default 50); pages the answer", obj{"type": "integer", "minimum": 1, "maximum": auditPageMax})},
		headers: obj{"Link": obj{"description": `when more lines follow a page: <...&after=CURSOR>; rel="next"`, "schema": obj{"type": "string"}}},
		errs:    []int{400}}.op()},
	"/checkpoints": obj{"get": spec{id: "listCheckpoints", summary: "This instance's signed checkpoints of every receipt chain's head, oldest first, the lines of checkpoints.jsonl exactly as signed, for `portal verify --checkpoints` (HR, admin)",
		tag: "exports", scope: auth.ScopeAuditRead, status: 200, answer: ref("Checkpoint"), ndjson: true}.op()},
	"/openapi.json": obj{"get": obj{"operationId": "getOpenAPIDocument", "summary": "This document", "tags": []string{"meta"}, "security": []obj{},
		"responses": obj{"200": obj{"description": "the OpenAPI document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}},
			// The one refusal a request without credentials can meet: the
			// server reads at most 8 KB of headers, before any route.
			"431": obj{"description": "request headers over the server's limit, refused before routing (the portal's HTML error page)",
				"content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}}}},
}

// openAPI is the document, built once.
var openAPI = obj{
	"openapi": "3.1.0",
	"info": obj{"title": "Conduct Portal API", "version": "1",
		// The portal is the company's own deployment; its API description carries no public licence.
		"license": obj{"name": "Proprietary: for the company running this portal", "identifier": "LicenseRef-Proprietary"},
		"description": "The learner's, managers' and HR's API. Authenticate with `Authorization: Bearer <token>` " +
			"(made on the account page, by an admin at /admin/tokens, or with `bin/portal token create --login L`), or with the browser " +
			"session plus the `X-CSRF-Token` header on writes. A token acts as its user within its scopes: " +
			"`learner`, `reports:read`, `users:read`, `users:write`, `content:read`, `content:write`, `receipts:read`, `audit:read`, `scim`. " +
			"Errors are `{\"error\": {\"code\", \"message\", \"field\"}}`. " +
			"Provisioning by identity providers is SCIM 2.0 at `/scim/v2` (a token with the `scim` scope), described by its own " +
			"discovery endpoints `/scim/v2/ServiceProviderConfig`, `/scim/v2/ResourceTypes` and `/scim/v2/Schemas`, not here."},
	"servers":  []obj{{"url": "/api/v1"}},
	"security": []obj{{"bearer": []string{}}, {"session": []string{}}},
	"paths":    paths,
	"components": obj{
		"securitySchemes": obj{
			"bearer":  obj{"type": "http", "scheme": "bearer", "description": "an API token; its scopes are listed per operation. A token of a person whose role requires a second factor (PORTAL_MFA_REQUIRED) works only once that person has set one up: until then 403 `mfa_required`"},
			"session": obj{"type": "apiKey", "in": "cookie", "name": "portal_session", "description": "the browser's session (`__Host-portal_session` over HTTPS)"},
		},
		"schemas": schemas,
	},
}

// openapi answers the document; it needs no login.
func (a *API) openapi(c *fiber.Ctx) error { return c.JSON(openAPI) }

// OpenAPIDocument is the document, for tests that validate against it.
func OpenAPIDocument() map[string]any { return openAPI }

// OpenAPIPaths lists "METHOD /path" of every documented operation, with
// {param} path parameters (for the test that every route is documented).
func OpenAPIPaths() []string {
	var out []string
	for path, ops := range openAPI["paths"].(obj) {
		for method := range ops.(obj) {
			out = append(out, method+" "+path)
		}
	}
	return out
}

// syncRow is a person in a sync: a row without login or name is not
// refused as a whole but answered `invalid` with its field, like any other
// bad row, while the other rows go ahead.
var syncRow = func() obj {
	props := maps.Clone(person["properties"].(obj))
	for _, f := range []string{"login", "name", "department", "manager"} {
		props[f] = obj{"type": "string", "description": "checked per row, as for POST /users"}
	}
	return obj{"type": "object", "additionalProperties": false, "properties": props,
		"description": "a person; login and name are needed, but a row without them or with a bad value is answered invalid with its field, not refused as a whole"}
}()

// syncOp is the sync, which also takes the people CSV of HR's import.
func syncOp() obj {
	o := spec{id: "syncUsers", summary: "Makes the accounts match an HR system's list, by login; a result per row", tag: "users", scope: auth.ScopeUsersWrite,
		body: closedBody(obj{"users": arrayOf(syncRow), "deactivate_missing": obj{"type": "boolean",
			"description": "turn off active accounts absent from users (never admins or the caller), only when every row is valid; refused (422) with an empty list"}}, "users"),
		status: 200, answer: ref("SyncResult"), errs: []int{413, 422},
		params: []obj{query("deactivate_missing", "with a CSV body: true to turn off active accounts absent from it", obj{"enum": []string{"true", "false"}})}}.op()
	o["requestBody"].(obj)["content"].(obj)["text/csv"] = obj{"schema": obj{"type": "string",
		"description": "a header line login,name,roles,department,manager,hired, optionally mobile,wecom_id,dingtalk_id (roles separated by ';', hired as YYYY-MM-DD), then a person a line"}}
	return o
}
