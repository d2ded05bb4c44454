package web

import (
	"errors"

	"conductportal/server/auth"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

// invitePage is the page an invitation link opens.
type invitePage struct {
	Token   string
	Name    string
	Expired bool // the link is past its 7 days: ask HR for a new one
	Invalid bool // used, revoked or mistyped
}

// inviteShow answers GET /invite/:token: the form to choose a password,
// or why the link no longer works.
func (h *handler) inviteShow(c *fiber.Ctx) error {
	return h.invitePage(c, c.Params("token"), "")
}

func (h *handler) invitePage(c *fiber.Ctx, tok, msg string) error {
	lang := langOf(c)
	p := &page{Title: locale.T(lang, "invite.title"), Error: msg}
	_, u, err := h.Auth.OpenInvitation(ctx(c), tok)
	switch {
	case errors.Is(err, auth.ErrInvitationExpired):
		c.Status(fiber.StatusGone)
		p.Data = invitePage{Expired: true}
	case errors.Is(err, auth.ErrInvitationInvalid):
		c.Status(fiber.StatusNotFound)
		p.Data = invitePage{Invalid: true}
	case err != nil:
		return err
	default:
		if msg != "" {
			c.Status(fiber.StatusUnprocessableEntity)
		}
		p.Data = invitePage{Token: tok, Name: u.Name}
	}
	return h.renderPage(c, "invite", p)
}

// inviteSubmit answers POST /invite/:token: the person's own password is
// stored, the link closed, and a session opened; a role that requires a
// second factor is sent to enrol it, as after any login.
func (h *handler) inviteSubmit(c *fiber.Ctx) error {
	lang := langOf(c)
	tok, next, confirm := c.Params("token"), c.FormValue("new"), c.FormValue("confirm")
	switch err := auth.CheckPasswordPolicy(next); {
	case errors.Is(err, auth.ErrPasswordShort):
		return h.invitePage(c, tok, locale.T(lang, "password.short", auth.MinPasswordLen))
	case errors.Is(err, auth.ErrPasswordLong):
		return h.invitePage(c, tok, locale.T(lang, "password.long", auth.MaxPasswordLen))
	case errors.Is(err, auth.ErrPasswordCommon):
		return h.invitePage(c, tok, locale.T(lang, "password.common"))
	case next != confirm:
		return h.invitePage(c, tok, locale.T(lang, "password.mismatch"))
	}
	u, err := h.Auth.AcceptInvitation(ctx(c), tok, next)
	if errors.Is(err, auth.ErrInvitationInvalid) || errors.Is(err, auth.ErrInvitationExpired) {
		return h.invitePage(c, tok, "")
	}
	if err != nil {
		return err
	}
	if old := c.Cookies(h.sessionCookie()); old != "" {
		_ = h.Auth.EndSession(ctx(c), old)
	}
	client, agent := clientInfo(c)
	sess, err := h.Auth.SignIn(ctx(c), u, model.Origin{Client: client, Via: model.ViaInvite}, agent)
	if err != nil {
		return err
	}
	h.setCookie(c, h.sessionCookie(), sess, 0)
	return c.Redirect("/?m=invite.done", fiber.StatusSeeOther)
}

// hrPersonInvite answers POST /hr/people/:login/invite: a new invitation,
// the old link stops working.
func (h *handler) hrPersonInvite(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	u, err := h.person(c)
	if err != nil {
		return err
	}
	if !u.Active {
		return c.Redirect("/hr/people/"+u.Login+"?m=invite.inactive", fiber.StatusSeeOther)
	}
	res, err := h.Auth.Invite(ctx(c), by.Login, u)
	if err != nil {
		return err
	}
	m := "invite.sent"
	switch {
	case res.SSO:
		m = "invite.sso"
	case res.Sent == "":
		m = "invite.unsent"
	}
	return c.Redirect("/hr/people/"+u.Login+"?m="+m, fiber.StatusSeeOther)
}

// hrPersonInviteRevoke answers POST /hr/people/:login/invite/revoke.
func (h *handler) hrPersonInviteRevoke(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	u, err := h.person(c)
	if err != nil {
		return err
	}
	if err := h.Auth.RevokeInvitation(ctx(c), by.Login, u); err != nil {
		return err
	}
	return c.Redirect("/hr/people/"+u.Login+"?m=invite.revoked", fiber.StatusSeeOther)
}
