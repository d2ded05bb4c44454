// Package api is the JSON API under /api/v1. It authenticates by bearer
// token or by the browser's session (writes then need the CSRF header,
// checked before the request reaches here).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"conductportal/server/audit"
	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/fault"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

// Deps is what the API needs.
type Deps struct {
	Auth     *auth.Service
	Training *training.Service
	Reports  *report.Service
	// Audit is the audit log, read by HR's scripts.
	Audit *audit.Log
	// Authoring serves HR's scripts: drafts, publishing, versions.
	Authoring *authoring.Service
	// Session returns the user and session the web layer loaded, if any.
	Session func(c *fiber.Ctx) (*model.User, *model.Session)
	// Client returns the client's address as the web layer resolved it
	// (X-Forwarded-For believed from trusted proxies only).
	Client func(c *fiber.Ctx) string
	// MFARequired lists the roles whose session must have a second factor.
	MFARequired []string
	// DataDir holds checkpoints.jsonl, the signed checkpoints.
	DataDir string
	Log     *slog.Logger
}

// API holds the handlers.
type API struct{ Deps }

// New returns the API.
func New(d Deps) *API { return &API{Deps: d} }

// Error is an answer the client caused, and the body sent for it.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Scope names the scope a token lacks (code missing_scope).
	Scope string `json:"scope,omitempty"`
	// Until is when a cool-down ends (code cooldown).
	Until *time.Time `json:"until,omitempty"`
	// RequestID names the request in the server's log.
	RequestID string `json:"request_id,omitempty"`
}

func (e *Error) Error() string { return "api: " + e.Code + ": " + e.Message }

// fail returns a client error; errorAnswer writes it.
func fail(status int, code, msg, field string) error {
	return &Error{Status: status, Code: code, Message: msg, Field: field}
}

// errorAnswer writes the API's client errors as
// {"error": {"code", "message", "field"}}; anything else goes on to the
// app's error handler, which answers in the same shape.
func errorAnswer(c *fiber.Ctx) error {
	err := c.Next()
	if e := clientError(err); e != nil {
		e.RequestID, _ = c.Locals(LocalRequestID).(string)
		return c.Status(e.Status).JSON(fiber.Map{"error": e})
	}
	return err
}

// clientError is err as the client is told it, nil for none or for the
// server's own errors. The services' errors are answered by fault's one
// table (with the refinements each error declares); two carry details the
// API adds: a text over the Markdown limits says which, a cool-down says
// until when. A database out of reach goes on to the app's error handler,
// which reports the outage.
func clientError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var le *authoring.LimitError
	if errors.As(err, &le) {
		return &Error{Status: fiber.StatusUnprocessableEntity, Code: "markdown_limit",
			Message: le.Lang + " text: " + le.Message() + " (not stored)", Field: "files." + le.Lang}
	}
	a, ok := fault.Of(err)
	if !ok || a.Kind == fault.Unavailable {
		return nil
	}
	e = &Error{Status: a.Status, Code: a.Code, Message: a.Message, Field: a.Field}
	var ce *training.CooldownError
	if errors.As(err, &ce) {
		until := ce.Until.UTC()
		e.Until, e.Message = &until, a.Message+", until "+until.Format(time.RFC3339)
	}
	return e
}

// auditTimeout bounds an audit write that outlives its request's deadline.
const auditTimeout = 2 * time.Second

const (
	localAPIUser  = "api_user"
	localAPIToken = "api_token"
)

// LocalRequestID is the request-local key of the request id (set by web).
const LocalRequestID = "request_id"

// authenticate finds the caller: a bearer token wins over the cookie.
func (a *API) authenticate(c *fiber.Ctx) error {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return fail(fiber.StatusUnauthorized, "unauthorized", "use Authorization: Bearer <token>", "")
		}
		u, t, err := a.Auth.TokenUser(c.UserContext(), strings.TrimSpace(tok))
		switch {
		case errors.Is(err, auth.ErrTokenExpired):
			return fail(fiber.StatusUnauthorized, "token_expired", "the token expired at "+t.Expires.UTC().Format(time.RFC3339)+"; make a new one", "")
		case errors.Is(err, auth.ErrTokenRevoked):
			return fail(fiber.StatusUnauthorized, "token_revoked", "the token was revoked; make a new one", "")
		case errors.Is(err, auth.ErrBadToken):
			return fail(fiber.StatusUnauthorized, "unauthorized", "the token is not valid", "")
		case err != nil:
			return err
		}
		// A token acts as its person: one whose role requires a second
		// factor they have not set up gets no further than their session would.
		if !u.MFA.Enabled && auth.MFARequired(u, a.MFARequired) {
			return fail(fiber.StatusForbidden, "mfa_required", "the token's person must set up the second factor first", "")
		}
		c.Locals(localAPIUser, u)
		c.Locals(localAPIToken, t)
		return c.Next()
	}
	u, _ := a.Session(c)
	if u == nil {
		return fail(fiber.StatusUnauthorized, "unauthorized", "log in or send a bearer token", "")
	}
	if !u.MFA.Enabled && auth.MFARequired(u, a.MFARequired) {
		return fail(fiber.StatusForbidden, "mfa_required", "set up the second factor first", "")
	}
	if u.MustChangePassword {
		return fail(fiber.StatusForbidden, "password_change_required", "set a new password first", "")
	}
	c.Locals(localAPIUser, u)
	return c.Next()
}

func user(c *fiber.Ctx) *model.User {
	u, _ := c.Locals(localAPIUser).(*model.User)
	return u
}

// token is the API token of the request, nil for a browser session.
func token(c *fiber.Ctx) *model.APIToken {
	t, _ := c.Locals(localAPIToken).(*model.APIToken)
	return t
}

// need lets a token through only if it carries scope; a browser session
// passes (the route checks the user's roles either way). Every use of a
// write scope is audited with the token's id and name, never its secret.
func (a *API) need(scope string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t := token(c)
		if t == nil {
			return c.Next()
		}
		if !auth.TokenAllows(t, scope) {
			return &Error{Status: fiber.StatusForbidden, Code: "missing_scope", Scope: scope,
				Message: fmt.Sprintf("the token lacks the scope %s", scope)}
		}
		if !auth.IsWriteScope(scope) {
			return c.Next()
		}
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = fiber.StatusInternalServerError
			if e := clientError(err); e != nil {
				status = e.Status
			}
		}
		// Written with its own short deadline: the request's may be spent
		// (that is when the record matters most).
		cx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), auditTimeout)
		defer cancel()
		if aerr := a.Auth.TokenUsed(cx, t, a.actor(c), c.Method(), c.Path(), status, scope); aerr != nil && err == nil {
			return aerr
		}
		return err
	}
}

// Routes registers the API on r.
func (a *API) Routes(r fiber.Router) {
	// The document of this API is public: it describes, it grants nothing.
	r.Get("/openapi.json", a.openapi)
	r.Use(errorAnswer, a.authenticate)
	learner := a.need(auth.ScopeLearner)
	r.Get("/me", a.me)
	r.Get("/me/lessons", learner, a.myLessons)
	r.Get("/me/receipts", learner, a.myReceipts)
	r.Post("/me/password", a.changePassword)
	r.Get("/lessons/:slug", learner, a.lesson)
	r.Post("/lessons/:slug/read", learner, a.read)
	r.Post("/lessons/:slug/attempts", learner, a.startAttempt)
	r.Post("/attempts/:id/submit", learner, a.submit)
	r.Post("/lessons/:slug/acknowledgements", learner, a.acknowledge)

	// Reports for managers and HR (see reports.go).
	r.Get("/reports/team", a.need(auth.ScopeReportsRead), a.teamReport)
	r.Get("/reports/organisation", a.need(auth.ScopeReportsRead), a.organisationReport)
	r.Get("/reports/team/export", a.need(auth.ScopeReportsRead), a.teamExport)
	r.Get("/reports/organisation/export", a.need(auth.ScopeReportsRead), a.organisationExport)
	// HR's scripts: hr and admin only (hr.go).
	r.Post("/lessons/:slug/drafts", requireHR, a.need(auth.ScopeContentWrite), a.saveDraft)
	r.Post("/lessons/:slug/publish", requireHR, a.need(auth.ScopeContentWrite), a.publish)
	r.Get("/lessons/:slug/versions", requireHR, a.need(auth.ScopeContentRead), a.versions)
	r.Get("/lessons/:slug/draft", requireHR, a.need(auth.ScopeContentRead), a.draft)
	r.Get("/lessons", requireHR, a.need(auth.ScopeContentRead), a.lessons)
	r.Get("/lessons/:slug/analytics", requireHR, a.need(auth.ScopeContentRead), a.analytics)
	// People, for an HR system's sync (users.go).
	r.Get("/users", requireHR, a.need(auth.ScopeUsersRead), a.users)
	r.Post("/users", requireHR, a.need(auth.ScopeUsersWrite), a.upsertUser)
	r.Post("/users/sync", requireHR, a.need(auth.ScopeUsersWrite), a.syncUsers)
	r.Get("/users/:login", requireHR, a.need(auth.ScopeUsersRead), a.userShow)
	r.Put("/users/:login", requireHR, a.need(auth.ScopeUsersWrite), a.userUpdate)
	r.Post("/users/:login/deactivate", requireHR, a.need(auth.ScopeUsersWrite), a.userDeactivate)
	// Bulk actions on a lesson for a group, as on /hr/bulk (bulk.go).
	r.Post("/bulk-actions", requireHR, a.need(auth.ScopeUsersWrite), a.bulk)
	r.Post("/bulk-actions/:id/undo", requireHR, a.need(auth.ScopeUsersWrite), a.bulkUndo)
	// Exports as NDJSON streams (export.go).
	r.Get("/receipts", requireRole(model.RoleHR), a.need(auth.ScopeReceiptsRead), a.receiptsExport)
	r.Get("/audit", requireHR, a.need(auth.ScopeAuditRead), a.auditExport)
	r.Get("/checkpoints", requireHR, a.need(auth.ScopeAuditRead), a.checkpoints)
	r.Use(func(c *fiber.Ctx) error {
		return fail(fiber.StatusNotFound, "not_found", "no such API route", "")
	})
}

// decode reads a JSON body strictly: unknown fields are refused, so a
// client cannot slip in fields the server decides (user, time, role).
func decode(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		return fail(fiber.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json", "")
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		field := ""
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			field = ute.Field
		} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		return fail(fiber.StatusBadRequest, "invalid_json", "the body is not valid JSON of the expected shape: "+err.Error(), field)
	}
	return nil
}
