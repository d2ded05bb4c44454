package web

import (
	"conductportal/server/api"

	"github.com/gofiber/fiber/v2"
)

// routes registers every route of the portal, in one place.
func (h *handler) routes(app *fiber.App, a *api.API) {
	app.Use(h.requestID, h.accessLog, h.recoverPanics, h.securityHeaders, h.withDeadline)

	// Health, for load balancers and orchestrators: no session needed.
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)

	// Static files: content-hashed names, cached for good.
	app.Get("/static/:name", h.staticFile)
	app.Get("/favicon.ico", h.favicon)

	// Everything below needs the database: 503 at once while it is out.
	app.Use(h.failFastWhenDown, h.loadSession, h.language, h.checkCSRF)

	// Accounts.
	app.Get("/login", h.loginShow)
	app.Post("/login", h.loginSubmit)
	app.Post("/logout", h.logout)
	app.Post("/lang", h.langSwitch)

	// Public: anyone holding a certificate's code may check it.
	app.Get("/verify", h.verifyShow)
	app.Get("/verify/:code", h.verifyShow)

	// The JSON API authenticates on its own (bearer token or this session).
	a.Routes(app.Group("/api/v1"))

	pages := app.Group("", h.requireLogin)
	pages.Get("/password", h.passwordShow)
	pages.Post("/password", h.passwordSubmit)

	learner := pages.Group("", h.requirePasswordSet)
	learner.Get("/", h.trainingShow)
	learner.Get("/lessons/:slug", h.lessonShow)
	learner.Post("/lessons/:slug/read", h.lessonRead)
	learner.Post("/lessons/:slug/attempts", h.attemptCreate)
	learner.Get("/attempts/:id", h.attemptShow)
	learner.Post("/attempts/:id", h.attemptSubmit)
	learner.Get("/lessons/:slug/acknowledge", h.ackShow)
	learner.Post("/lessons/:slug/acknowledge", h.ackSubmit)
	learner.Get("/receipts", h.receiptsList)
	learner.Get("/receipts/:id", h.receiptShow)
	learner.Get("/certificate", h.certificateShow)

	// The HR area: hr and admin only, everyone else gets 403. Every action
	// here is written to the audit log, which nothing here can change.
	hr := learner.Group("/hr", h.requireHR)
	hr.Get("/", h.hrHome)
	// Lessons: draft editor with preview, publishing, history, diffs.
	hr.Get("/lessons", h.hrLessons)
	hr.Get("/lessons/:slug/edit", h.hrEditShow)
	hr.Post("/lessons/:slug/edit", h.hrEditSubmit)
	hr.Post("/lessons/:slug/preview", h.hrPreview)
	hr.Post("/lessons/:slug/discard", h.hrDiscard)
	hr.Get("/lessons/:slug/publish", h.hrPublishShow)
	hr.Post("/lessons/:slug/publish", h.hrPublishSubmit)
	hr.Get("/lessons/:slug/history", h.hrHistory)
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
	hr.Post("/people/import", h.hrImportSubmit)
	hr.Get("/people/:login", h.hrPersonShow)
	hr.Post("/people/:login", h.hrPersonUpdate)
	hr.Post("/people/:login/deactivate", h.hrPersonDeactivate)
	hr.Post("/people/:login/password", h.hrPersonPassword)

	app.Use(h.notFound)
}
