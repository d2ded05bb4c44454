package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/logging"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// requestTimeout bounds every request's database work, so an outage
// answers 503 within 5 s instead of hanging (and at once after the first
// request found it; see outage).
const requestTimeout = 4 * time.Second

// requestID names every request: in the X-Request-Id header, on error
// pages, and in every log line about it, so a user's report finds the log.
func (h *handler) requestID(c *fiber.Ctx) error {
	id := newRequestID()
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	// Every line logged with the request's context carries the id.
	c.SetUserContext(logging.WithRequestID(context.Background(), id))
	return c.Next()
}

// newRequestID is 16 random URL-safe characters (96 bits), made with one
// allocation.
func newRequestID() string {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic(fmt.Errorf("web: crypto/rand failed: %w", err))
	}
	var id [16]byte
	base64.RawURLEncoding.Encode(id[:], raw[:])
	return string(id[:])
}

// accessLog writes one line per request, after it is answered. It logs the
// route's pattern, not the path (paths hold logins), and the user's id,
// never a cookie or token. Typed attributes (LogAttrs) spare the boxing
// and parsing of key-value pairs; nothing is built when Info is off.
func (h *handler) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	cx := c.UserContext()
	if !h.Log.Enabled(cx, slog.LevelInfo) {
		return err
	}
	status := c.Response().StatusCode()
	if err != nil {
		status = errStatus(err)
	}
	attrs := [5]slog.Attr{slog.String("method", c.Method()), slog.String("route", routeOf(c)), slog.Int("status", status),
		slog.Int64("ms", time.Since(start).Milliseconds())}
	n := 4
	if u, _ := currentSession(c); u != nil {
		attrs[n] = slog.String("user", u.ID)
		n++
	}
	h.Log.LogAttrs(cx, slog.LevelInfo, "request", attrs[:n]...)
	return err
}

func requestIDOf(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

func (h *handler) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			h.Log.ErrorContext(c.UserContext(), "panic", "route", routeOf(c), "panic", r, "stack", string(debug.Stack()))
			err = fiber.ErrInternalServerError
		}
	}()
	return c.Next()
}

// securityHeaders sets the headers every answer carries. Personal pages
// must not be cached; static files override Cache-Control.
func (h *handler) securityHeaders(c *fiber.Ctx) error {
	hd := &c.Response().Header
	for _, kv := range securityHeaderList {
		hd.SetCanonical(kv[0], kv[1])
	}
	if h.Config.CookieSecure {
		hd.SetCanonical(hstsHeader[0], hstsHeader[1])
	}
	return c.Next()
}

// securityHeaderList are the headers securityHeaders sets, made into bytes
// once and written as they are (SetCanonical: no case normalizing).
var securityHeaderList = [][2][]byte{
	{[]byte("Content-Security-Policy"), []byte("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")},
	{[]byte("X-Content-Type-Options"), []byte("nosniff")},
	{[]byte("X-Frame-Options"), []byte("DENY")},
	{[]byte("Referrer-Policy"), []byte("same-origin")},
	{[]byte("Cache-Control"), []byte("no-store")},
}

var hstsHeader = [2][]byte{[]byte("Strict-Transport-Security"), []byte("max-age=31536000; includeSubDomains")}

func (h *handler) withDeadline(c *fiber.Ctx) error {
	cx, cancel := context.WithTimeout(c.UserContext(), requestTimeout)
	defer cancel()
	c.SetUserContext(cx)
	return c.Next()
}

// sessionCookie is the cookie's name; the __Host- prefix binds it to this
// exact origin over HTTPS.
func (h *handler) sessionCookie() string {
	if h.Config.CookieSecure {
		return "__Host-portal_session"
	}
	return "portal_session"
}

func (h *handler) csrfCookie() string {
	if h.Config.CookieSecure {
		return "__Host-portal_csrf"
	}
	return "portal_csrf"
}

func (h *handler) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{
		Name: name, Value: value, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: h.Config.CookieSecure,
	}
	if maxAge < 0 {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	}
	c.Cookie(ck)
}

// loadSession puts the logged-in user, if any, in the request's locals.
func (h *handler) loadSession(c *fiber.Ctx) error {
	tok := c.Cookies(h.sessionCookie())
	if tok == "" {
		return c.Next()
	}
	sess, u, err := h.Auth.Session(ctx(c), tok)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		h.setCookie(c, h.sessionCookie(), "", -1)
	case err != nil:
		return err
	case sess.Pending:
		// Password given, second factor not yet: only /login/mfa sees it.
		c.Locals(localPending, sess)
		c.Locals(localPendingUser, u)
	default:
		c.Locals(localUser, u)
		c.Locals(localSession, sess)
	}
	return c.Next()
}

// language picks the UI language: the user's choice, then the cookie, then
// the browser's Accept-Language. The cookie and the header are read as
// bytes, not copied (fiber's Immutable copies every string it hands out):
// only the language constant they select is kept.
func (h *handler) language(c *fiber.Ctx) error {
	var v any
	u, _ := currentSession(c)
	if l, ok := langValue[userLang(u)]; ok {
		v = l
	} else if l, ok := langValue[string(c.Request().Header.Cookie("lang"))]; ok {
		v = l
	} else {
		v = langValue[locale.Match(utils.UnsafeString(c.Request().Header.Peek(fiber.HeaderAcceptLanguage)))]
	}
	c.Locals(localLang, v)
	return c.Next()
}

// langValue holds each supported language (locale's catalogs are exactly
// model.Languages) as an interface value made once: storing a string in
// the locals would allocate on every request.
var langValue = func() map[string]any {
	m := map[string]any{}
	for _, l := range model.Languages {
		m[l] = l
	}
	return m
}()

func langOf(c *fiber.Ctx) string {
	if l, ok := c.Locals(localLang).(string); ok {
		return l
	}
	return model.LangZH
}

// csrfToken is the token forms must echo: the session's, or before login a
// random value kept in a cookie (double submit).
func (h *handler) csrfToken(c *fiber.Ctx) string {
	if _, s := currentSession(c); s != nil {
		return s.CSRF
	}
	if s, ok := c.Locals(localPending).(*model.Session); ok {
		return s.CSRF
	}
	if t := c.Cookies(h.csrfCookie()); len(t) >= 32 {
		return t
	}
	t := randomString()
	h.setCookie(c, h.csrfCookie(), t, 0)
	return t
}

// checkCSRF refuses a state-changing request without the right token. A
// request with a bearer token carries no ambient credential, so needs none.
func (h *handler) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if strings.HasPrefix(c.Path(), "/api/") && strings.HasPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ") {
		return c.Next()
	}
	want := ""
	if _, s := currentSession(c); s != nil {
		want = s.CSRF
	} else if s, ok := c.Locals(localPending).(*model.Session); ok {
		want = s.CSRF
	} else {
		want = c.Cookies(h.csrfCookie())
	}
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("_csrf")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &fiber.Error{Code: fiber.StatusForbidden, Message: "csrf"}
	}
	return c.Next()
}

func (h *handler) requireLogin(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u == nil {
		return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return c.Next()
}

// requirePasswordSet sends a user with a one-time password to set their own.
func (h *handler) requirePasswordSet(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u != nil && u.MustChangePassword {
		return c.Redirect("/password", fiber.StatusSeeOther)
	}
	return c.Next()
}

// requireSecondFactor sends a user whose role requires a second factor,
// and who has none, to set it up.
func (h *handler) requireSecondFactor(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u != nil && !u.MFA.Enabled && auth.MFARequired(u, h.Config.MFARequired) {
		return c.Redirect("/mfa/setup", fiber.StatusSeeOther)
	}
	return c.Next()
}

func (h *handler) notFound(c *fiber.Ctx) error {
	return fiber.ErrNotFound
}

// isUnavailable reports errors that mean the database is out of reach:
// the outage's own, storage's (fault.Unavailable), or a deadline spent.
func isUnavailable(err error) bool {
	return errors.Is(err, errDatabaseDown) || errors.Is(err, fault.Unavailable) || errors.Is(err, context.DeadlineExceeded)
}

// handleError answers every error: JSON under /api, a page elsewhere.
// Server errors are logged; their text never reaches the user.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	status := errStatus(err)
	if status == fiber.StatusServiceUnavailable {
		h.outage.report(err)
	}
	if status >= 500 && !errors.Is(err, errDatabaseDown) {
		h.Log.ErrorContext(c.UserContext(), "request failed", "method", c.Method(), "route", routeOf(c), "status", status, "err", err)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return apiError(c, status, err)
	}
	key, args := pageMessage(status, err)
	c.Status(status)
	return h.render(c, "error", locale.T(langOf(c), "error.title"), errorPage{Message: locale.T(langOf(c), key, args...), RequestID: requestIDOf(c)})
}

// pageMessage is the catalog key (and arguments) of the error page's
// message: a service error's from fault's table, else one by status.
func pageMessage(status int, err error) (string, []any) {
	if a, ok := fault.Of(err); ok && a.Status == status {
		return a.Key, a.Args
	}
	var fe *fiber.Error
	switch status {
	case fiber.StatusNotFound, fiber.StatusMethodNotAllowed, fiber.StatusRequestEntityTooLarge, fiber.StatusBadRequest:
		return "error.notfound", nil
	case fiber.StatusForbidden:
		if errors.As(err, &fe) && fe.Message == "csrf" {
			return "error.csrf", nil
		}
		return "error.forbidden", nil
	case fiber.StatusServiceUnavailable:
		return "error.unavailable", nil
	}
	return "error.server", nil
}

type errorPage struct {
	Message, RequestID string
	// Back and BackKey, when set, replace the way home with a way back
	// to where the person can go on (and that link's label).
	Back, BackKey string
}

// isFault reports a service error answered with its kind's status.
func isFault(err error, status int) bool {
	a, ok := fault.Of(err)
	return ok && a.Status == status
}

func apiError(c *fiber.Ctx, status int, err error) error {
	code, msg := "internal", "the server had a problem"
	var fe *fiber.Error
	switch {
	case status == fiber.StatusForbidden && errors.As(err, &fe) && fe.Message == "csrf":
		code, msg = "csrf", "missing or wrong X-CSRF-Token header"
	case isFault(err, status):
		a, _ := fault.Of(err)
		code, msg = a.Code, a.Message
	case status == fiber.StatusNotFound:
		code, msg = "not_found", "not found"
	case status == fiber.StatusServiceUnavailable:
		code, msg = "unavailable", "the database cannot be reached; try again shortly"
	case status < 500 && errors.As(err, &fe):
		code, msg = strings.ReplaceAll(strings.ToLower(utils.StatusMessage(status)), " ", "_"), fe.Message
	}
	return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg, "request_id": requestIDOf(c)}})
}

// safeNext returns a local path to go to after login, or "/". Browsers
// drop tabs and newlines and read "\\" as "/", so any of those, or a
// scheme or host, could turn "/x" into another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2000 {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func clientInfo(c *fiber.Ctx) (string, string) {
	return clientAddr(c), c.Get(fiber.HeaderUserAgent)
}

// clientAddr is the client's address, found by resolveClient.
func clientAddr(c *fiber.Ctx) string {
	if a, ok := c.Locals(localClient).(string); ok {
		return a
	}
	return c.Context().RemoteIP().String()
}

// resolveClient finds the client's address: the peer's, or, when the peer
// is a trusted proxy, the rightmost address in X-Forwarded-For that is not
// a trusted proxy. Only well-formed addresses are believed, so a client
// cannot write what it likes into receipts, the audit log or the throttle.
func (h *handler) resolveClient(c *fiber.Ctx) error {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr = addr.Unmap()
	if len(h.proxies) > 0 && trusted(h.proxies, addr) {
		parts := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				break
			}
			addr = hop.Unmap()
			if !trusted(h.proxies, addr) {
				break
			}
		}
	}
	c.Locals(localClient, addr.String())
	return c.Next()
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// trustedProxies parses PORTAL_TRUSTED_PROXIES (validated by config).
func trustedProxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// userLang is the language stored for u, or "" without a user.
func userLang(u *model.User) string {
	if u == nil {
		return ""
	}
	return u.Lang
}
