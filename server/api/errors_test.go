package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/fault"
	"conductportal/server/lesson"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/training"
)

// Every service error the API answers, as it answered them before the
// vocabulary (domainError and authoringError): status, code, message and
// field; and the catalog key pages show for it, in both catalogs. The
// errors are wrapped as services wrap them.
func TestServiceErrorsAnswer(t *testing.T) {
	until := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		err                  error
		status               int
		code, message, field string
		key                  string
	}{
		{training.ErrNotFound, 404, "not_found", "not found", "", "error.notfound"},
		{training.ErrNotAssigned, 404, "not_found", "not found", "", "error.notfound"},
		{training.ErrQuizNotPassed, 409, "quiz_not_passed", "pass the quiz of this version first", "", "ack.quiz_first"},
		{training.ErrNotCurrent, 409, "not_current", "only the current version can be acknowledged", "version", "ack.not_current"},
		{training.ErrSignature, 422, "invalid_signature", "the signature must be your full name", "signature", "ack.bad_signature"},
		{training.ErrCooldown, 429, "cooldown", "wait before the next attempt", "", "quiz.cooldown"},
		{&training.CooldownError{Until: until}, 429, "cooldown", "wait before the next attempt, until 2026-12-03T09:30:00Z", "", "quiz.cooldown"},
		{training.ErrNoAttemptsRemaining, 409, "no_attempts_left", "no attempts left at this quiz", "", "quiz.nomore"},
		{training.ErrAlreadyDone, 409, "quiz_already_passed", "the quiz of this version is already passed", "", "error.conflict"},
		{training.ErrExceptionReason, 422, "invalid", "an exception needs a reason", "reason", "hr.exceptions.need_reason"},
		{training.ErrExceptionUntil, 422, "invalid", "an extension needs a date in the future", "until", "hr.exceptions.bad_date"},
		{training.ErrNotComplete, 409, "not_complete", "not every assigned lesson is done", "", "certificate.notyet"},
		{training.ErrNotIssued, 404, "not_found", "not found", "", "error.notfound"},
		{report.ErrForbidden, 403, "forbidden", "you may not see this report", "", "error.forbidden"},
		{report.ErrNotFound, 404, "not_found", "not found", "", "error.notfound"},
		{authoring.ErrNotFound, 404, "not_found", "no such lesson", "", "error.notfound"},
		{authoring.ErrKind, 422, "invalid", "kind must be minor, reack or requiz", "kind", "hr.publish.bad_kind"},
		{authoring.ErrGrace, 422, "invalid", "grace_days must be between 0 and 365", "grace_days", "hr.publish.bad_grace"},
		{authoring.ErrNote, 422, "invalid", "a change note is required, at most 1,000 characters", "note", "hr.publish.no_note"},
		{authoring.ErrNoDraft, 409, "no_draft", "the lesson has no draft: POST its drafts first", "", "hr.draft.none"},
		{authoring.ErrInvalid, 422, "invalid_draft", "the draft has problems", "", "hr.publish.problems"},
		{authoring.ErrTooComplex, 422, "too_complex", "the text is too complex to render in time: simplify it", "files", "md.limit.slow"},
		{fmt.Errorf("%w: %w", lesson.ErrTooComplex, errors.New("deadline")), 422, "too_complex", "the text is too complex to render in time: simplify it", "files", "md.limit.slow"},
		{auth.ErrForbidden, 403, "forbidden", "not allowed", "roles", "error.forbidden"},
		{fault.NotFound, 404, "not_found", "not found", "", "error.notfound"},
	} {
		err := fmt.Errorf("pkg: op: %w", c.err)
		e := clientError(err)
		if e == nil {
			t.Errorf("%v: no answer", c.err)
			continue
		}
		if e.Status != c.status || e.Code != c.code || e.Message != c.message || e.Field != c.field {
			t.Errorf("%v: %d %q %q %q, want %d %q %q %q", c.err, e.Status, e.Code, e.Message, e.Field, c.status, c.code, c.message, c.field)
		}
		a, _ := fault.Of(err)
		if a.Key != c.key || a.Status != c.status {
			t.Errorf("%v: page key %q (%d), want %q", c.err, a.Key, a.Status, c.key)
		}
		for _, lang := range model.Languages {
			if !locale.Has(lang, a.Key) {
				t.Errorf("%v: key %q missing in %s", c.err, a.Key, lang)
			}
		}
	}
	if e := clientError(&authoring.LimitError{Lang: "en", LimitError: &lesson.LimitError{Line: 3}}); e == nil ||
		e.Status != http.StatusUnprocessableEntity || e.Code != "markdown_limit" || e.Field != "files.en" {
		t.Errorf("a text over the limits: %+v", e)
	}
	// The server's own errors, and a database out of reach (the app's
	// handler reports the outage), are not the API's to answer.
	for _, err := range []error{errors.New("boom"), fmt.Errorf("storage: x: %w", fault.Unavailable), nil} {
		if e := clientError(err); e != nil {
			t.Errorf("%v answered %+v", err, e)
		}
	}
}

// auth's account errors: a field's error is invalid input naming the
// field, in the catalog's English; a password refused says why.
func TestAuthErrorsAnswer(t *testing.T) {
	fe := &auth.FieldError{Field: "hired", Key: "person.err.hired", Args: []any{"2026-13-01"}}
	e := clientError(fmt.Errorf("auth: import: %w", fe))
	if e == nil || e.Status != 422 || e.Code != "invalid" || e.Field != "hired" || e.Message != fe.Message(model.LangEN) {
		t.Errorf("a field error: %+v", e)
	}
	for _, err := range []error{auth.ErrPasswordShort, auth.ErrPasswordLong, auth.ErrPasswordCommon, auth.ErrBadCode} {
		a, ok := fault.Of(err)
		if !ok || a.Status != 422 || a.Field == "" || !locale.Has(model.LangZH, a.Key) || !locale.Has(model.LangEN, a.Key) {
			t.Errorf("%v: %+v", err, a)
		}
	}
	if a, _ := fault.Of(auth.ErrPasswordShort); locale.T(model.LangEN, a.Key, a.Args...) != locale.T(model.LangEN, "password.short", auth.MinPasswordLen) {
		t.Errorf("the short password's message lost its length: %v", a.Args)
	}
	for err, status := range map[error]int{auth.ErrNoToken: 404, auth.ErrTokenSpec: 422, auth.ErrInvitationInvalid: 404, auth.ErrMFAEnabled: 409} {
		if a, ok := fault.Of(err); !ok || a.Status != status {
			t.Errorf("%v: %+v, want %d", err, a, status)
		}
	}
}
