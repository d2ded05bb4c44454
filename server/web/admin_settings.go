package web

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"

	"conductportal/server/channel"
	"conductportal/server/config"
	"conductportal/server/locale"
	"conductportal/server/notify"

	"github.com/gofiber/fiber/v2"
)

// The admin's settings page: the effective configuration, where each
// value came from, and a test message to the admin's own address.

type settingsGroup struct {
	Key  string
	Rows []config.Setting
}

type settingsPage struct {
	Groups []settingsGroup
	Email  string // where a test message goes: the admin's own address
}

// sourceStored marks a setting HR keeps in the database, not the environment.
const sourceStored = "stored"

func (h *handler) settingsShow(c *fiber.Ctx) error {
	return h.renderSettings(c, fiber.StatusOK, "", "")
}

func (h *handler) renderSettings(c *fiber.Ctx, status int, notice, errMsg string) error {
	u, _ := currentSession(c)
	p := settingsPage{Email: u.Email}
	chs, err := h.Channels.Channels(ctx(c))
	if err != nil {
		return err
	}
	for _, s := range h.Config.Settings() {
		if len(p.Groups) == 0 || p.Groups[len(p.Groups)-1].Key != s.Group {
			p.Groups = append(p.Groups, settingsGroup{Key: s.Group})
			if s.Group == "channels" {
				// Channels live in the database once made: HR's page manages them.
				g := &p.Groups[len(p.Groups)-1]
				g.Rows = append(g.Rows, config.Setting{Group: "channels", Key: "channels_stored", Value: strconv.Itoa(len(chs)), Source: sourceStored})
			}
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Rows = append(g.Rows, s)
	}
	c.Status(status)
	return h.renderPage(c, "admin_settings", &page{Title: locale.T(langOf(c), "settings.title"), Data: p, Notice: notice, Error: errMsg})
}

// settingsTest emails the admin a test message now and says on the page
// how it went, in the admin's language (the server's own words after it).
func (h *handler) settingsTest(c *fiber.Ctx) error {
	u, _ := currentSession(c)
	lang := langOf(c)
	to, err := h.Notify.SendTest(ctx(c), u, clientAddr(c))
	if errors.Is(err, notify.ErrNotRecorded) {
		return err // sent or not, unrecorded: the generic error page
	}
	if err == nil {
		return h.renderSettings(c, fiber.StatusOK, locale.T(lang, "settings.test.sent", to), "")
	}
	var op *net.OpError
	var reply *textproto.Error
	switch {
	case errors.Is(err, notify.ErrNoMailer):
		return h.renderSettings(c, fiber.StatusUnprocessableEntity, "", locale.T(lang, "settings.test.no_mailer"))
	case errors.Is(err, notify.ErrNoAddress):
		return h.renderSettings(c, fiber.StatusUnprocessableEntity, "", locale.T(lang, "settings.test.no_address"))
	case errors.Is(err, context.DeadlineExceeded):
		err = errors.New(locale.T(lang, "settings.test.timeout"))
	case errors.As(err, &op) && op.Op == "dial":
		err = errors.New(locale.T(lang, "settings.test.unreachable"))
	case errors.Is(err, channel.ErrSMTPAuth) && errors.As(err, &reply):
		err = errors.New(locale.T(lang, "settings.test.auth", reply.Error()))
	case errors.Is(err, channel.ErrSMTPRecipient) && errors.As(err, &reply):
		err = errors.New(locale.T(lang, "settings.test.recipient", reply.Error()))
	case errors.As(err, &reply):
		err = errors.New(locale.T(lang, "settings.test.reply", reply.Error()))
	}
	h.Log.WarnContext(ctx(c), "test message not sent", "to", to, "err", err)
	return h.renderSettings(c, fiber.StatusBadGateway, "", locale.T(lang, "settings.test.failed", to, err.Error()))
}
