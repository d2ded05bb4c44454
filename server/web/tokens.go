package web

import (
	"errors"
	"slices"
	"strings"
	"time"

	"conductportal/server/auth"
	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// API tokens: everyone manages their own at /tokens; an admin manages
// everyone's, and makes integration tokens, at /admin/tokens.

// tokenExpiries are the choices the form offers, shortest first.
var tokenExpiries = []string{"30d", "90d", "365d", "never"}

type tokenRow struct {
	Ref, Login, Name, State    string
	Scopes                     []string
	Created, Expires, LastUsed time.Time
}

type tokenForm struct {
	Name, Login, Expires string
	Scopes               []string
}

type tokensPage struct {
	Admin    bool
	Base     string // "" or "/admin": where the forms post
	Tokens   []tokenRow
	Scopes   []string // the scopes the form offers
	Expiries []string
	Form     tokenForm
	// NewToken is the token just made, shown this once.
	NewToken string
}

// requireAdmin lets only admins through.
func (h *handler) requireAdmin(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u == nil || !u.HasRole(model.RoleAdmin) {
		return fiber.ErrForbidden
	}
	return c.Next()
}

func isAdminPath(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/admin/") }

// mayHaveTokens says whether u may make API tokens of their own: managers,
// HR and admins always; someone who is only an employee when an admin
// allowed it (PORTAL_EMPLOYEE_TOKENS).
func (h *handler) mayHaveTokens(u *model.User) bool {
	return h.Config.EmployeeTokens || u.HasRole(model.RoleManager) || isHR(u) || u.HasRole(model.RoleAdmin)
}

// requireTokens refuses the own-tokens pages to those who may not have
// tokens (403, saying why).
func (h *handler) requireTokens(c *fiber.Ctx) error {
	if u, _ := currentSession(c); u != nil && !h.mayHaveTokens(u) {
		c.Status(fiber.StatusForbidden)
		return h.render(c, "error", locale.T(langOf(c), "error.title"), errorPage{Message: locale.T(langOf(c), "tokens.employee_off")})
	}
	return c.Next()
}

func (h *handler) tokensShow(c *fiber.Ctx) error {
	return h.renderTokens(c, fiber.StatusOK, tokenForm{Expires: "90d"}, "", "")
}

// renderTokens shows the list and the form, with a new token or an error.
func (h *handler) renderTokens(c *fiber.Ctx, status int, form tokenForm, newToken, errMsg string) error {
	u, _ := currentSession(c)
	admin := isAdminPath(c)
	var owner *model.User
	if !admin {
		owner = u
	}
	ts, err := h.Auth.Tokens(ctx(c), owner)
	if err != nil {
		return err
	}
	logins := map[string]string{u.ID: u.Login}
	if admin {
		users, err := h.Auth.Users(ctx(c))
		if err != nil {
			return err
		}
		for i := range users {
			logins[users[i].ID] = users[i].Login
		}
	}
	now := time.Now()
	data := tokensPage{Admin: admin, Base: map[bool]string{true: "/admin"}[admin], Tokens: make([]tokenRow, 0, len(ts)), Expiries: tokenExpiries, Form: form, NewToken: newToken}
	data.Scopes = auth.Scopes
	if !admin {
		// The learner scope is implicit in a personal token.
		data.Scopes = slices.DeleteFunc(auth.ScopesFor(u), func(s string) bool { return s == auth.ScopeLearner })
	}
	for _, t := range ts {
		row := tokenRow{Ref: t.Ref(), Login: logins[t.UserID], Name: t.Name, Scopes: t.Scopes,
			Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed, State: "active"}
		switch {
		case t.Revoked:
			row.State = "revoked"
		case !t.Expires.IsZero() && now.After(t.Expires):
			row.State = "expired"
		}
		data.Tokens = append(data.Tokens, row)
	}
	lang := langOf(c)
	title := locale.T(lang, "tokens.title")
	if admin {
		title = locale.T(lang, "tokens.admin_title")
	}
	c.Status(status)
	return h.renderPage(c, "tokens", &page{Title: title, Error: errMsg, Data: data})
}

func (h *handler) tokenCreate(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	form := tokenForm{Name: strings.TrimSpace(c.FormValue("name")), Login: strings.TrimSpace(c.FormValue("login")), Expires: c.FormValue("expires")}
	args := c.Context().PostArgs()
	for _, v := range args.PeekMulti("scope") {
		form.Scopes = append(form.Scopes, string(v))
	}
	again := func(key string) error {
		return h.renderTokens(c, fiber.StatusUnprocessableEntity, form, "", locale.T(lang, key))
	}
	ttl, err := auth.ParseTTL(form.Expires)
	if err != nil || form.Expires == "" {
		return again("tokens.err.expires")
	}
	target := u
	if isAdminPath(c) && form.Login != "" && form.Login != u.Login {
		target, err = h.Auth.UserByLogin(ctx(c), form.Login)
		if errors.Is(err, fault.NotFound) || (err == nil && !target.Active) {
			return again("tokens.err.login")
		}
		if err != nil {
			return err
		}
	}
	if len(form.Scopes) == 0 {
		if target.ID != u.ID {
			return again("tokens.err.scope")
		}
		form.Scopes = []string{auth.ScopeLearner}
	}
	tok, _, err := h.Auth.CreateToken(ctx(c), u, target, auth.TokenSpec{Name: form.Name, Scopes: form.Scopes, TTL: ttl, Client: clientAddr(c)})
	if errors.Is(err, auth.ErrTokenSpec) {
		if form.Name == "" || len([]rune(form.Name)) > 100 {
			return again("tokens.err.name")
		}
		return again("tokens.err.scope")
	}
	if err != nil {
		return err
	}
	return h.renderTokens(c, fiber.StatusOK, tokenForm{Expires: form.Expires}, tok, "")
}

func (h *handler) tokenRevoke(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	by := u
	if !isAdminPath(c) && u.HasRole(model.RoleAdmin) {
		// On their own page an admin revokes only their own tokens.
		by = &model.User{ID: u.ID, Login: u.Login}
	}
	back := "/tokens"
	if isAdminPath(c) {
		back = "/admin/tokens"
	}
	t, err := h.Auth.FindToken(ctx(c), by, c.Params("id"))
	if errors.Is(err, auth.ErrNoToken) || errors.Is(err, auth.ErrTokenSpec) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	if !confirmed(c) {
		lang := langOf(c)
		return h.askConfirm(c, confirmPage{
			Title: locale.T(lang, "tokens.revoke.confirm.title", t.Name), Intro: locale.T(lang, "tokens.revoke.confirm.intro"),
			Action: back + "/" + t.Ref() + "/revoke", Button: locale.T(lang, "tokens.revoke.confirm.yes"), Danger: true, Back: back,
		})
	}
	if _, err := h.Auth.RevokeToken(ctx(c), by, t.ID, clientAddr(c)); err != nil {
		return err
	}
	return c.Redirect(back+"?m=tokens.revoked", fiber.StatusSeeOther)
}
