package web

import (
	"errors"
	"html/template"
	"net/url"
	"strings"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

type mfaLoginPage struct{ Next string }

func (h *handler) pending(c *fiber.Ctx) (*model.User, *model.Session) {
	u, _ := c.Locals(localPendingUser).(*model.User)
	s, _ := c.Locals(localPending).(*model.Session)
	return u, s
}

func (h *handler) mfaLoginShow(c *fiber.Ctx) error {
	if u, _ := h.pending(c); u == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return h.render(c, "mfa_login", locale.T(langOf(c), "mfa.login.title"), mfaLoginPage{Next: safeNext(c.Query("next"))})
}

// mfaLoginSubmit checks the code after the password. Wrong codes count
// towards the login throttle like wrong passwords.
func (h *handler) mfaLoginSubmit(c *fiber.Ctx) error {
	u, sess := h.pending(c)
	if u == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	lang, next := langOf(c), safeNext(c.FormValue("next"))
	client, agent := clientInfo(c)
	again := func(status int, msg string) error {
		c.Status(status)
		return h.renderPage(c, "mfa_login", &page{Title: locale.T(lang, "mfa.login.title"), Error: msg, Data: mfaLoginPage{Next: next}})
	}
	// Each code check claims one of the pending session's CodeTries first,
	// so a burst of codes gets no more checks than a slow series.
	last, err := h.Auth.BeginCode(ctx(c), sess.ID, sess.Expires)
	if errors.Is(err, auth.ErrThrottled) {
		h.auditRefused(c, u.Login, "login.throttled", "second factor", h.Auth.ThrottleWindow())
		return h.codesUsedUp(c, u, sess, fiber.StatusTooManyRequests)
	}
	if err != nil {
		return err
	}
	err = h.Auth.CheckSecondFactor(ctx(c), u, c.FormValue("code"))
	if errors.Is(err, auth.ErrBadCode) {
		h.auditRefused(c, u.Login, "login.failed", "second factor", h.Auth.ThrottleWindow())
		if err := h.Auth.CodeFailed(ctx(c), u.Login); err != nil {
			return err
		}
		if last {
			// The last try was checked: 401, and the pending session ends.
			return h.codesUsedUp(c, u, sess, fiber.StatusUnauthorized)
		}
		return again(fiber.StatusUnauthorized, locale.T(lang, "mfa.bad_code"))
	}
	if err != nil {
		return err
	}
	// The half-open session ends; a fresh one starts.
	_ = h.Auth.EndSessionID(ctx(c), sess.ID)
	tok, err := h.Auth.SignIn(ctx(c), u, model.Origin{Client: client}, agent)
	if err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), tok, 0)
	return c.Redirect(next, fiber.StatusSeeOther)
}

// codesUsedUp ends a pending session whose code tries are used up: the
// password must be given again (and is throttled).
func (h *handler) codesUsedUp(c *fiber.Ctx, u *model.User, sess *model.Session, status int) error {
	if err := h.Auth.EndSessionID(ctx(c), sess.ID); err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), "", -1)
	if status == fiber.StatusTooManyRequests {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	c.Status(status)
	lang := langOf(c)
	return h.renderPage(c, "login", &page{Title: locale.T(lang, "login.title"), Error: locale.T(lang, "mfa.too_many", auth.CodeTries),
		Data: h.loginData(u.Login, "/")})
}

type mfaSetupPage struct {
	Enrolment *auth.Enrolment
	QR        template.URL // the QR code as a data: URL, made here, not from input
	Codes     []string     // recovery codes, shown once after confirming
	Required  bool
	Enabled   bool
	Renewed   bool // the codes replace earlier ones
}

// CodesFile is the recovery codes as a text file to download: a data: URL
// made here from the codes (letters and digits), not from input.
func (p mfaSetupPage) CodesFile() template.URL {
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(strings.Join(p.Codes, "\r\n")+"\r\n")) // #nosec G203 -- the portal's own codes
}

func (h *handler) issuer() string {
	if h.Config.CompanyName != "" {
		return h.Config.CompanyName
	}
	return "Conduct Portal"
}

// mfaSetupShow shows the secret being set up (a GET changes nothing; the
// secret is made by mfaSetupStart).
func (h *handler) mfaSetupShow(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	return h.setupPage(c, u, "", fiber.StatusOK)
}

func (h *handler) mfaSetupStart(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	err := h.Auth.StartEnrolment(ctx(c), u)
	if errors.Is(err, auth.ErrNoKey) {
		return h.setupPage(c, u, locale.T(langOf(c), "mfa.no_key"), fiber.StatusServiceUnavailable)
	}
	if err != nil && !errors.Is(err, auth.ErrMFAEnabled) {
		return err
	}
	return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
}

func (h *handler) mfaSetupSubmit(c *fiber.Ctx) error {
	u, sess := currentSession(c)
	lang := langOf(c)
	// Whoever held another session with the password alone is out then.
	codes, err := h.Auth.EnableMFA(ctx(c), u, sess.ID, strings.TrimSpace(c.FormValue("code")), clientAddr(c))
	switch {
	case errors.Is(err, auth.ErrBadCode):
		return h.setupPage(c, u, locale.T(lang, "mfa.bad_code"), fiber.StatusUnprocessableEntity)
	case errors.Is(err, auth.ErrMFAEnabled), errors.Is(err, auth.ErrNoEnrolment):
		return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return h.render(c, "mfa_setup", locale.T(lang, "mfa.setup.title"), mfaSetupPage{Codes: codes, Enabled: true})
}

// mfaNewCodes replaces the recovery codes after a current code and shows
// the new ones this once.
func (h *handler) mfaNewCodes(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	codes, err := h.Auth.NewRecoveryCodes(ctx(c), u, strings.TrimSpace(c.FormValue("code")), clientAddr(c))
	switch {
	case errors.Is(err, auth.ErrBadCode):
		return h.setupPage(c, u, locale.T(lang, "mfa.bad_code"), fiber.StatusUnprocessableEntity)
	case errors.Is(err, auth.ErrNoEnrolment):
		return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return h.render(c, "mfa_setup", locale.T(lang, "mfa.setup.title"), mfaSetupPage{Codes: codes, Enabled: true, Renewed: true})
}

// mfaOff turns the person's own second step off after a current code,
// unless their role must use it.
func (h *handler) mfaOff(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	err := h.Auth.TurnOffMFA(ctx(c), u, strings.TrimSpace(c.FormValue("code")), h.Config.MFARequired, clientAddr(c))
	switch {
	case errors.Is(err, auth.ErrBadCode):
		return h.setupPage(c, u, locale.T(lang, "mfa.bad_code"), fiber.StatusUnprocessableEntity)
	case errors.Is(err, auth.ErrMFARequired):
		return h.setupPage(c, u, locale.T(lang, "mfa.off.required"), fiber.StatusForbidden)
	case errors.Is(err, auth.ErrNoEnrolment):
		return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	return c.Redirect("/mfa/setup?m=mfa.off.done", fiber.StatusSeeOther)
}

func (h *handler) setupPage(c *fiber.Ctx, u *model.User, errMsg string, status int) error {
	e, err := h.Auth.Enrolment(u, h.issuer())
	if err != nil {
		return err
	}
	p := mfaSetupPage{Enrolment: e, Enabled: u.MFA.Enabled, Required: auth.MFARequired(u, h.Config.MFARequired)}
	if e != nil {
		p.QR = template.URL(e.QRCode) // #nosec G203 -- a PNG encoded by auth, no user input
	}
	c.Status(status)
	return h.renderPage(c, "mfa_setup", &page{Title: locale.T(langOf(c), "mfa.setup.title"), Error: errMsg, Data: p})
}
