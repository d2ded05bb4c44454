package web

import (
	"conductportal/server/api"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// routes registers every route of the portal, in one place.
func (h *handler) routes(app *fiber.App, a *api.API) {
	app.Use(asAny(h.outerChain())...)

	// Health, for load balancers and orchestrators: no session needed.
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	// Prometheus: loopback peers, or the metrics token. (metrics.go)
	app.Get("/metrics", h.metricsShow)

	// Static files: content-hashed names, cached for good.
	app.Get("/static/:name", h.staticFile)
	app.Get("/favicon.ico", h.favicon)

	// SCIM 2.0 provisioning (package scim): bearer tokens with the scim
	// scope, no session and so no CSRF; the library speaks the protocol.
	if h.SCIM != nil {
		scim := adaptor.HTTPHandler(h.SCIM)
		for _, method := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete} {
			app.Add(method, "/scim/v2/*", h.failFastWhenDown, scim)
		}
	}

	// Everything below needs the database: 503 at once while it is out.
	app.Use(asAny(h.sessionChain())...)

	// Accounts.
	app.Get("/login", h.loginShow)
	app.Post("/login", h.loginSubmit)
	app.Post("/logout", h.logout)
	app.Get("/login/mfa", h.mfaLoginShow)
	app.Post("/login/mfa", h.mfaLoginSubmit)
	app.Post("/lang", h.langSwitch)
	// Invitations: a new person chooses a password once (invite.go).
	app.Get("/invite/:token", h.inviteShow)
	app.Post("/invite/:token", h.inviteSubmit)
	// Single sign-on with OpenID Connect (sso.go); 404 when not set up.
	app.Get("/auth/oidc/start", h.ssoStart)
	app.Get("/auth/oidc/callback", h.ssoCallback)

	// Public: anyone holding a certificate's code may check it.
	app.Get("/verify", h.verifyShow)
	app.Get("/verify/:code", h.verifyShow)

	// The JSON API authenticates on its own (bearer token or this session).
	a.Routes(app.Group("/api/v1"))

	pages := app.Group("", h.requireLogin)
	pages.Get("/password", h.passwordShow)
	pages.Post("/password", h.passwordSubmit)

	// The second factor: set up once the password is the user's own.
	enrol := pages.Group("", h.requirePasswordSet)
	enrol.Get("/mfa/setup", h.mfaSetupShow)
	enrol.Post("/mfa/setup/start", h.mfaSetupStart)
	enrol.Post("/mfa/setup", h.mfaSetupSubmit)
	enrol.Post("/mfa/codes", h.mfaNewCodes)
	enrol.Post("/mfa/off", h.mfaOff)

	learner := pages.Group("", h.learnerChain()...)
	learner.Get("/", h.trainingShow)
	learner.Get("/lessons/:slug", h.lessonShow)
	learner.Post("/lessons/:slug/read", h.lessonRead)
	learner.Post("/lessons/:slug/attempts", h.attemptCreate)
	learner.Get("/attempts/:id", h.attemptShow)
	learner.Post("/attempts/:id", h.attemptSubmit)
	learner.Get("/lessons/:slug/acknowledge", h.ackShow)
	learner.Post("/lessons/:slug/acknowledge", h.ackSubmit)
	learner.Get("/lessons/:slug/done", h.lessonDone)
	learner.Get("/receipts", h.receiptsList)
	learner.Get("/receipts/:id", h.receiptShow)
	learner.Get("/certificate", h.certificateShow)
	learner.Post("/certificate", h.certificateIssue)

	// Managers and HR: team matrix, person record, organisation, exports,
	// reminders; everyone: their notifications. (team.go, person.go)
	learner.Get("/notifications", h.notificationsShow)
	learner.Post("/notifications/read", h.notificationsRead)
	// API tokens: everyone's own; an admin's of everyone (tokens.go).
	learner.Get("/tokens", h.requireTokens, h.tokensShow)
	learner.Post("/tokens", h.requireTokens, h.tokenCreate)
	learner.Post("/tokens/:id/revoke", h.tokenRevoke) // one made before tokens were turned off can still be revoked
	admin := learner.Group("/admin", h.requireAdmin)
	admin.Get("/tokens", h.tokensShow)
	admin.Post("/tokens", h.tokenCreate)
	admin.Post("/tokens/:id/revoke", h.tokenRevoke)
	// Settings: the effective configuration, a test message (admin_settings.go).
	admin.Get("/settings", h.settingsShow)
	admin.Post("/settings/test", h.settingsTest)
	learner.Get("/team", h.requireReports, h.teamShow)
	learner.Get("/team/export.:format", h.requireReports, h.teamExport)
	learner.Get("/team/remind", h.requireReports, h.teamRemindConfirm)
	learner.Post("/team/remind", h.requireReports, h.teamRemind)
	learner.Get("/people/:login", h.requireReports, h.personShow)
	learner.Post("/people/:login/remind", h.requireReports, h.personRemind)
	learner.Get("/organisation", h.requireOrganisation, h.organisationShow)
	learner.Get("/organisation/export.:format", h.requireOrganisation, h.organisationExport)
	// The HR area: hr and admin only, everyone else gets 403. Every action
	// here is written to the audit log, which nothing here can change.
	hr := learner.Group("/hr", h.requireHR)
	hr.Get("/", h.hrHome)
	// Lessons: draft editor with preview, publishing, history, diffs.
	hr.Get("/lessons", h.hrLessons)
	hr.Get("/lessons/:slug/edit", h.hrEditShow)
	hr.Post("/lessons/:slug/edit", h.hrEditSubmit)
	hr.Post("/lessons/:slug/preview", h.hrPreview)
	// The quiz as a form, beside the YAML editor (hr_quiz.go).
	hr.Get("/lessons/:slug/quiz", h.hrQuizShow)
	hr.Post("/lessons/:slug/quiz", h.hrQuizSubmit)
	hr.Post("/lessons/:slug/discard", h.hrDiscard)
	hr.Get("/lessons/:slug/publish", h.hrPublishShow)
	hr.Post("/lessons/:slug/publish", h.hrPublishSubmit)
	hr.Get("/lessons/:slug/history", h.hrHistory)
	hr.Get("/lessons/:slug/analytics", h.hrAnalytics)
	hr.Get("/lessons/:slug/diff", h.hrDiff)
	hr.Post("/lessons/:slug/restore", h.hrRestore)
	// Audit log: read and export only.
	hr.Get("/audit", h.hrAudit)
	hr.Get("/audit.csv", h.hrAuditCSV)
	// People.
	hr.Get("/people", h.hrPeople)
	hr.Get("/people/new", h.hrPersonNew)
	hr.Post("/people", h.hrPersonCreate)
	hr.Get("/people/import", h.hrImportShow)
	hr.Get("/people/import/template.csv", h.hrImportTemplate)
	hr.Post("/people/import", h.hrImportSubmit)
	hr.Get("/people/:login", h.hrPersonShow)
	hr.Post("/people/:login", h.hrPersonUpdate)
	hr.Post("/people/:login/deactivate", h.hrPersonDeactivate)
	hr.Post("/people/:login/reactivate", h.hrPersonReactivate)
	hr.Post("/people/:login/mfa/off", h.hrPersonMFAOff)
	hr.Post("/people/:login/password", h.hrPersonPassword)
	hr.Post("/people/:login/invite", h.hrPersonInvite)
	hr.Post("/people/:login/invite/revoke", h.hrPersonInviteRevoke)
	hr.Post("/people/:login/exceptions", h.hrPersonException)
	// Bulk actions on a lesson for a group: preview, confirm, undo (hr_bulk.go).
	hr.Get("/bulk", h.hrBulk)
	hr.Post("/bulk", h.hrBulkSubmit)
	hr.Get("/bulk/:id", h.hrBulkShow)
	hr.Post("/bulk/:id/undo", h.hrBulkUndo)
	// Channels: the departments' WeCom, DingTalk and email channels, the
	// delivery log, a test message. (hr_channels.go)
	hr.Get("/channels", h.hrChannels)
	hr.Get("/channels/new", h.hrChannelNew)
	hr.Post("/channels", h.hrChannelCreate)
	hr.Get("/channels/deliveries", h.hrDeliveries)
	hr.Get("/channels/:id", h.hrChannelShow)
	hr.Post("/channels/:id", h.hrChannelUpdate)
	hr.Post("/channels/:id/delete", h.hrChannelDelete)
	hr.Post("/channels/:id/test", h.hrChannelTest)

	app.Use(h.notFound)
}

// outerChain is the middleware every request passes, in order.
func (h *handler) outerChain() []fiber.Handler {
	return []fiber.Handler{h.requestID, h.resolveClient, h.accessLog, h.countRequest, h.recoverPanics, h.securityHeaders, h.withDeadline}
}

// sessionChain follows outerChain for every route that needs the database.
func (h *handler) sessionChain() []fiber.Handler {
	return []fiber.Handler{h.failFastWhenDown, h.loadSession, h.language, h.checkCSRF}
}

// learnerChain follows requireLogin on the learner's pages.
func (h *handler) learnerChain() []fiber.Handler {
	return []fiber.Handler{h.requirePasswordSet, h.requireSecondFactor}
}

func asAny(hs []fiber.Handler) []any {
	out := make([]any, len(hs))
	for i, x := range hs {
		out[i] = x
	}
	return out
}
