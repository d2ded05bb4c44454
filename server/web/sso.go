package web

import (
	"context"
	"errors"
	"net/url"
	"time"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/sso"

	"github.com/gofiber/fiber/v2"
)

// providerTimeout bounds the calls to the sign-on provider in a callback
// (code exchange, keys, userinfo); the request's own deadline is for the
// database.
const providerTimeout = 15 * time.Second

// ssoPendingCookie holds a started sign-on (state, nonce, PKCE verifier),
// signed, until the provider sends the browser back.
func (h *handler) ssoPendingCookie() string {
	if h.Config.CookieSecure {
		return "__Host-portal_oidc"
	}
	return "portal_oidc"
}

// ssoCookie marks a session opened by sign-on and keeps the ID token as
// the logout hint for the provider.
func (h *handler) ssoCookie() string {
	if h.Config.CookieSecure {
		return "__Host-portal_sso"
	}
	return "portal_sso"
}

// ssoStart sends the browser to the provider. GET, and it stores nothing:
// the sign-on's state lives in a signed cookie.
func (h *handler) ssoStart(c *fiber.Ctx) error {
	if h.SSO == nil {
		return fiber.ErrNotFound
	}
	next := safeNext(c.Query("next"))
	authURL, cookie, err := h.SSO.Start(ctx(c), next)
	if err != nil {
		h.Log.WarnContext(ctx(c), "sign-on provider unreachable", "err", err)
		return h.ssoRefuse(c, fiber.StatusBadGateway, "sso.unavailable", h.Config.OIDC.Name)
	}
	h.setCookie(c, h.ssoPendingCookie(), cookie, sso.PendingTTL)
	return c.Redirect(authURL, fiber.StatusSeeOther)
}

// ssoCallback finishes a sign-on and opens a portal session as a
// password login does (second factor included, when the account has one).
func (h *handler) ssoCallback(c *fiber.Ctx) error {
	if h.SSO == nil {
		return fiber.ErrNotFound
	}
	provider := h.Config.OIDC.Name
	pending := c.Cookies(h.ssoPendingCookie())
	h.setCookie(c, h.ssoPendingCookie(), "", -1) // one answer per start
	if c.Query("error") != "" {
		// The person cancelled, or the provider refused them.
		return h.ssoRefuse(c, fiber.StatusUnauthorized, "sso.failed", provider)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), providerTimeout)
	defer cancel()
	signed, err := h.SSO.Finish(pctx, pending, c.Query("state"), c.Query("code"))
	switch {
	case errors.Is(err, sso.ErrState), errors.Is(err, sso.ErrToken):
		h.Log.WarnContext(ctx(c), "sign-on refused", "err", err)
		return h.ssoRefuse(c, fiber.StatusBadRequest, "sso.failed", provider)
	case errors.Is(err, sso.ErrClaims):
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.nologin", provider)
	case errors.Is(err, sso.ErrProvider):
		h.Log.WarnContext(ctx(c), "sign-on provider failed", "err", err)
		return h.ssoRefuse(c, fiber.StatusBadGateway, "sso.unavailable", provider)
	case err != nil:
		return err
	}
	login := signed.Identity.Login
	if auth.CheckLogin(login) != nil {
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.nologin", provider)
	}
	client, agent := clientInfo(c)
	res, err := h.Auth.SSOLogin(ctx(c), signed.Identity, h.Config.OIDC.JIT(), model.Origin{Client: client}, provider)
	switch {
	case errors.Is(err, auth.ErrSSOUnknown):
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.unknown", provider, login)
	case errors.Is(err, auth.ErrSSOInactive):
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.inactive")
	case errors.Is(err, auth.ErrSSOBound):
		// Another provider account claims the login of a bound account.
		h.Log.WarnContext(ctx(c), "sign-on refused: the login is bound to another provider account", "login", login,
			"issuer", signed.Identity.Issuer, "sub", signed.Identity.Subject)
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.bound", login, provider)
	case errors.Is(err, auth.ErrSSONoSubject):
		return h.ssoRefuse(c, fiber.StatusForbidden, "sso.nologin", provider)
	case err != nil:
		return err
	}
	// From here the account's own login names the person: the claim may
	// be another account's.
	u := res.User
	if res.LoginTaken != "" {
		h.Log.WarnContext(ctx(c), "sign-on login claim belongs to another account; login left unchanged",
			"login", u.Login, "claimed", res.LoginTaken, "sub", signed.Identity.Subject)
	}
	if old := c.Cookies(h.sessionCookie()); old != "" {
		_ = h.Auth.EndSession(ctx(c), old)
	}
	hint := signed.IDToken
	if len(hint) > 3000 {
		hint = "-" // too big for a cookie; logout then names the client only
	}
	h.setCookie(c, h.ssoCookie(), hint, 0)
	h.Metrics.Login("sso", true)
	if u.MFA.Enabled {
		tok, err := h.Auth.StartPendingSession(ctx(c), u, client)
		if err != nil {
			return err
		}
		h.setCookie(c, h.sessionCookie(), tok, 0)
		return c.Redirect("/login/mfa?next="+url.QueryEscape(signed.Next), fiber.StatusSeeOther)
	}
	tok, err := h.Auth.SignIn(ctx(c), u, model.Origin{Client: client, Via: model.ViaSSO}, agent)
	if err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), tok, 0)
	return c.Redirect(safeNext(signed.Next), fiber.StatusSeeOther)
}

// ssoRefuse shows the login page with why the sign-on did not go through.
func (h *handler) ssoRefuse(c *fiber.Ctx, status int, key string, args ...any) error {
	h.Metrics.Login("sso", false)
	lang := langOf(c)
	c.Status(status)
	return h.renderPage(c, "login", &page{Title: locale.T(lang, "login.title"), Error: locale.T(lang, key, args...),
		Data: h.loginData("", "/")})
}

// ssoLogoutURL is where to send the browser after the portal session of
// a sign-on ended: the provider's end-session endpoint, or "".
func (h *handler) ssoLogoutURL(c *fiber.Ctx) string {
	hint := c.Cookies(h.ssoCookie())
	if hint == "" || h.SSO == nil {
		return ""
	}
	h.setCookie(c, h.ssoCookie(), "", -1)
	if hint == "-" {
		hint = ""
	}
	return h.SSO.LogoutURL(ctx(c), hint)
}
