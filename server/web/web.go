// Package web is the portal's Fiber application: the server-rendered pages,
// the middleware every request passes, and the mount point of the JSON API.
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"

	"conductportal/server/api"
	"conductportal/server/audit"
	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/channel"
	"conductportal/server/config"
	"conductportal/server/fault"
	"conductportal/server/metrics"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/report"
	"conductportal/server/sso"
	"conductportal/server/training"

	"github.com/gofiber/fiber/v2"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is what the web layer needs from below.
type Deps struct {
	Config   *config.Config
	Auth     *auth.Service
	Training *training.Service
	Reports  *report.Service
	Notify   *notify.Service
	// Audit is the audit log: HR's page, refused sign-ins, exports.
	Audit *audit.Log
	// Authoring is HR's side: drafts, publishing, history.
	Authoring *authoring.Service
	DB        Pinger
	Assets    fs.FS // holds static/
	Log       *slog.Logger
	// Metrics count requests and are served on /metrics; nil: none.
	Metrics *metrics.Metrics
	// SSO signs people in through an OpenID Connect provider; nil: off.
	SSO *sso.Client

	// Channels are the departments' WeCom, DingTalk and email channels.
	Channels *channel.Service
	// SCIM serves /scim/v2 (package scim); nil: 404.
	SCIM http.Handler
	// Demo says the database holds the sample company of "portal demo":
	// every page says so.
	Demo bool
}

// handler holds the dependencies of every page handler.
type handler struct {
	Deps
	tpl    *templates
	static *staticFiles
	outage *outage
	// proxies are the peers whose X-Forwarded-For is believed.
	proxies []netip.Prefix
}

// New builds the Fiber app with every route. Templates and static files are
// loaded here, so a missing template stops the start, not a request.
func New(d Deps) (*fiber.App, error) {
	h, err := newHandler(d)
	if err != nil {
		return nil, err
	}
	app := h.newApp()
	h.routes(app, api.New(api.Deps{Auth: d.Auth, Training: d.Training, Reports: d.Reports, Audit: d.Audit, Authoring: d.Authoring, Session: currentSession, Client: clientAddr, MFARequired: d.Config.MFARequired,
		DataDir: d.Config.DataDir, Log: d.Log}))
	return app, nil
}

func newHandler(d Deps) (*handler, error) {
	tpl, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	st, err := loadStatic(d.Assets, d.Config.LogoFile)
	if err != nil {
		return nil, err
	}
	return &handler{Deps: d, tpl: tpl, static: st, outage: newOutage(d.DB, d.Log),
		proxies: trustedProxies(d.Config.TrustedProxies)}, nil
}

// newApp is the Fiber app with the portal's settings and no routes.
func (h *handler) newApp() *fiber.App {
	d := h.Deps
	app := fiber.New(fiber.Config{
		AppName:               "conduct-portal",
		DisableStartupMessage: true,
		Immutable:             true, // request strings outlive the handler in storage calls and logs
		BodyLimit:             1 << 20,
		ReadTimeout:           d.Config.ReadTimeout,
		WriteTimeout:          d.Config.WriteTimeout,
		IdleTimeout:           d.Config.IdleTimeout,
		ErrorHandler:          h.handleError,
	})
	app.Hooks().OnShutdown(h.outage.close)
	return app
}

// Locals keys.
const (
	localUser    = "user"
	localSession = "session"
	localLang    = "lang"
	// A session whose second factor is still due, and its user.
	localPending     = "pending_session"
	localPendingUser = "pending_user"
	// localClient is the client address resolveClient found.
	localClient = "client_addr"
	// localRequestID is shared with the api package, which puts it in errors.
	localRequestID = api.LocalRequestID
)

// currentSession returns the user and session loaded by the session middleware.
func currentSession(c *fiber.Ctx) (*model.User, *model.Session) {
	u, _ := c.Locals(localUser).(*model.User)
	s, _ := c.Locals(localSession).(*model.Session)
	return u, s
}

// ctx is the request's context, with the deadline set by the middleware.
func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }

// errStatus is the HTTP status of err: Fiber's own, else the one of its
// kind in fault's table, else 503 for a database out of reach, else 500.
func errStatus(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	if a, ok := fault.Of(err); ok && a.Kind != fault.Unavailable {
		return a.Status
	}
	if isUnavailable(err) {
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}

// messageKey is the catalog key of err's message (see package fault), ""
// for an error of no kind.
func messageKey(err error) string {
	a, _ := fault.Of(err)
	return a.Key
}
