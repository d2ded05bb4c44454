package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

type loginPage struct {
	Login string
	Next  string
	// Local: the password form is offered. SSO: the name of the sign-on
	// provider on its button, "" when there is none.
	Local bool
	SSO   string
}

func (h *handler) loginData(login, next string) loginPage {
	p := loginPage{Login: login, Next: next, Local: h.Config.LocalLogin}
	if h.SSO != nil {
		p.SSO = h.Config.OIDC.Name
	}
	return p
}

func (h *handler) loginShow(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return h.render(c, "login", locale.T(langOf(c), "login.title"), h.loginData("", safeNext(c.Query("next"))))
}

func (h *handler) loginSubmit(c *fiber.Ctx) error {
	lang := langOf(c)
	login, password, next := strings.TrimSpace(c.FormValue("login")), c.FormValue("password"), safeNext(c.FormValue("next"))
	client, agent := clientInfo(c)
	again := func(status int, msg string) error {
		c.Status(status)
		return h.renderPage(c, "login", &page{Title: locale.T(lang, "login.title"), Error: msg, Data: h.loginData(login, next)})
	}
	if !h.Config.LocalLogin {
		// Passwords are off: the company's sign-on is the only way in.
		h.Metrics.Login("password", false)
		return again(fiber.StatusForbidden, locale.T(lang, "login.local_off", h.Config.OIDC.Name))
	}
	if login == "" || password == "" {
		// Nothing to check, nothing learned: no slot, no hash.
		return again(fiber.StatusUnauthorized, locale.T(lang, "login.invalid"))
	}
	// Every try claims a throttle slot before the password is checked, so
	// a burst gets no more checks than a slow series, and guessing learns
	// nothing while the window runs.
	try, err := h.Auth.BeginLogin(ctx(c), login, client)
	if err != nil {
		return h.loginRefused(c, login, "", err, again)
	}
	u, err := h.Auth.Login(ctx(c), login, password)
	if errors.Is(err, auth.ErrInvalid) {
		h.Metrics.Login("password", false)
		h.auditRefused(c, login, "login.failed", "", try.Window())
		if err := try.Failed(ctx(c)); err != nil {
			return err
		}
		return again(fiber.StatusUnauthorized, locale.T(lang, "login.invalid"))
	}
	if err != nil {
		_ = try.Abandon(ctx(c))
		return h.loginRefused(c, login, "", err, again)
	}
	// A new session id at login: whatever session the browser had is ended,
	// and with it any sign-on's logout hint.
	if old := c.Cookies(h.sessionCookie()); old != "" {
		_ = h.Auth.EndSession(ctx(c), old)
	}
	if c.Cookies(h.ssoCookie()) != "" {
		h.setCookie(c, h.ssoCookie(), "", -1)
	}
	if u.MFA.Enabled {
		// The password was right; the session opens once the code is too.
		if err := try.SecondFactor(ctx(c)); err != nil {
			return err
		}
		tok, err := h.Auth.StartPendingSession(ctx(c), u, client)
		if err != nil {
			return err
		}
		h.setCookie(c, h.sessionCookie(), tok, 0)
		return c.Redirect("/login/mfa?next="+url.QueryEscape(next), fiber.StatusSeeOther)
	}
	if err := try.Succeeded(ctx(c)); err != nil {
		return err
	}
	tok, err := h.Auth.SignIn(ctx(c), u, model.Origin{Client: client}, agent)
	if err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), tok, 0)
	h.Metrics.Login("password", true)
	if u.MustChangePassword {
		return c.Redirect("/password", fiber.StatusSeeOther)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (h *handler) logout(c *fiber.Ctx) error {
	if err := h.Auth.EndSession(ctx(c), c.Cookies(h.sessionCookie())); err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), "", -1)
	// A sign-on session ends at the provider too, when it offers that.
	if u := h.ssoLogoutURL(c); u != "" {
		return c.Redirect(u, fiber.StatusSeeOther)
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// langSwitch remembers the chosen language for the user and the browser.
func (h *handler) langSwitch(c *fiber.Ctx) error {
	lang := c.FormValue("lang")
	if !locale.Supported(lang) {
		return fiber.ErrBadRequest
	}
	if u, _ := currentSession(c); u != nil {
		if err := h.Auth.SetLanguage(ctx(c), u, lang); err != nil {
			return err
		}
	}
	h.setCookie(c, "lang", lang, 365*24*time.Hour)
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

// passwordPage is the password form; Min is the shortest password, for
// the rules shown before typing.
// NoCurrent: the one-time password was typed moments ago to log in, so
// the form does not ask for it again.
type passwordPage struct {
	Must      bool
	Min       int
	NoCurrent bool
}

func (h *handler) passwordData(u *model.User, sess *model.Session) passwordPage {
	return passwordPage{Must: u.MustChangePassword, Min: auth.MinPasswordLen, NoCurrent: h.Auth.FirstPasswordWithoutCurrent(u, sess)}
}

func (h *handler) passwordShow(c *fiber.Ctx) error {
	u, sess := currentSession(c)
	return h.render(c, "password", locale.T(langOf(c), "password.title"), h.passwordData(u, sess))
}

func (h *handler) passwordSubmit(c *fiber.Ctx) error {
	u, sess := currentSession(c)
	lang := langOf(c)
	current, next, confirm := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	fail := func(key string, args ...any) error {
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderPage(c, "password", &page{Title: locale.T(lang, "password.title"),
			Error: locale.T(lang, key, args...), Data: h.passwordData(u, sess)})
	}
	switch err := auth.CheckNewPassword(next, u, h.Config.CompanyName); {
	case errors.Is(err, auth.ErrPasswordShort):
		return fail("password.short", auth.MinPasswordLen)
	case errors.Is(err, auth.ErrPasswordLong):
		return fail("password.long", auth.MaxPasswordLen)
	case errors.Is(err, auth.ErrPasswordCommon):
		return fail("password.common")
	case errors.Is(err, auth.ErrPasswordPersonal):
		return fail("password.personal")
	case errors.Is(err, auth.ErrPasswordGuessable):
		return fail("password.guessable")
	case next != confirm:
		return fail("password.mismatch")
	case next == current:
		return fail("password.same")
	}
	if h.Auth.FirstPasswordWithoutCurrent(u, sess) {
		switch err := h.Auth.SetFirstPassword(ctx(c), u, sess, next, clientAddr(c)); {
		case errors.Is(err, auth.ErrPasswordSame):
			return fail("password.same")
		case errors.Is(err, auth.ErrInvalid): // the window closed just now: the form asks for it
			return fail("password.wrong")
		case err != nil:
			return err
		}
		return c.Redirect("/?m=password.saved", fiber.StatusSeeOther)
	}
	// Guessing the current password is throttled like logging in.
	client, _ := clientInfo(c)
	busy := func(status int, msg string) error {
		c.Status(status)
		return h.renderPage(c, "password", &page{Title: locale.T(lang, "password.title"), Error: msg, Data: h.passwordData(u, sess)})
	}
	try, err := h.Auth.BeginLogin(ctx(c), u.Login, client)
	if err != nil {
		return h.loginRefused(c, u.Login, "password change", err, busy)
	}
	err = h.Auth.ChangePassword(ctx(c), u, current, next, sess.ID, clientAddr(c))
	if errors.Is(err, auth.ErrInvalid) {
		if err := try.Failed(ctx(c)); err != nil {
			return err
		}
		return fail("password.wrong")
	}
	if err != nil {
		_ = try.Abandon(ctx(c))
		return err
	}
	if err := try.Succeeded(ctx(c)); err != nil {
		return err
	}
	return c.Redirect("/?m=password.saved", fiber.StatusSeeOther)
}

// loginRefused answers a sign-in that was not checked: throttled (429,
// audited as one counted row per key and window) or every password check
// busy (503, try again in a second); anything else is the error page's.
func (h *handler) loginRefused(c *fiber.Ctx, login, detail string, err error, again func(int, string) error) error {
	lang := langOf(c)
	switch {
	case errors.Is(err, auth.ErrThrottled):
		h.Metrics.Login("password", false)
		h.auditRefused(c, login, "login.throttled", detail, h.Auth.ThrottleWindow())
		wait := auth.RetryAfter(err)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(wait))
		return again(fiber.StatusTooManyRequests, locale.T(lang, "login.throttled", (wait+59)/60))
	case errors.Is(err, auth.ErrBusy):
		h.Metrics.Login("password", false)
		c.Set(fiber.HeaderRetryAfter, "1")
		return again(fiber.StatusServiceUnavailable, locale.T(lang, "login.busy"))
	}
	return err
}

// auditRefused counts a refused sign-in in one audit row per action, login,
// address and throttle window: a burst of tries is a row with its count.
func (h *handler) auditRefused(c *fiber.Ctx, login, action, detail, window string) {
	client, _ := clientInfo(c)
	sum := sha256.Sum256([]byte(action + "\x00" + login + "\x00" + client + "\x00" + window))
	e := &model.AuditEntry{Actor: login, Action: action, Detail: detail, Client: client}
	// The row is written even when the request has run out of time.
	cx, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), auditTimeout)
	defer cancel()
	if err := h.Audit.Count(cx, "n"+hex.EncodeToString(sum[:15]), e); err != nil {
		h.Log.WarnContext(ctx(c), "audit not recorded", "action", action, "err", err)
	}
}

// auditTimeout bounds an audit write made after the request's deadline.
const auditTimeout = 2 * time.Second

// actorOf is u acting from this request's client, for the services that
// audit their own changes.
func actorOf(c *fiber.Ctx, u *model.User) model.Actor {
	return model.Actor{Login: u.Login, Client: clientAddr(c)}
}

// originOf is this request's client, for the services that audit the
// changes made through the pages.
func originOf(c *fiber.Ctx) model.Origin { return model.Origin{Client: clientAddr(c)} }
