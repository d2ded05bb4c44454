package web

import (
	"errors"
	"net/url"
	"slices"

	"conductportal/server/channel"
	"conductportal/server/fault"
	"conductportal/server/locale"
	"conductportal/server/model"

	"github.com/gofiber/fiber/v2"
)

type channelsPage struct {
	Channels []model.Channel
	HasKey   bool
}

func (h *handler) hrChannels(c *fiber.Ctx) error {
	chans, err := h.Channels.Channels(ctx(c))
	if err != nil {
		return err
	}
	return h.render(c, "hr_channels", locale.T(langOf(c), "hr.channels.title"), channelsPage{Channels: chans, HasKey: h.Channels.HasKey()})
}

// channelPage is the form of a new or existing channel. Secrets are never
// put back into it: the form says whether one is stored.
type channelPage struct {
	Channel *model.Channel // nil for a new channel
	In      channel.Input
	Kinds   []string
	Langs   []string
	HasKey  bool
	Field   string // the field in error
}

func (h *handler) channelForm(in channel.Input, ch *model.Channel) channelPage {
	return channelPage{Channel: ch, In: in, Kinds: channel.Kinds, Langs: model.Languages, HasKey: h.Channels.HasKey()}
}

func (h *handler) hrChannelNew(c *fiber.Ctx) error {
	return h.render(c, "hr_channel", locale.T(langOf(c), "hr.channels.new"),
		h.channelForm(channel.Input{Kind: channel.KindWeCom, Lang: model.LangZH, Enabled: true}, nil))
}

// channelInput reads the channel form.
func channelInput(c *fiber.Ctx) channel.Input {
	return channel.Input{Name: c.FormValue("name"), Kind: c.FormValue("kind"), Department: c.FormValue("department"),
		Lang: c.FormValue("lang"), Enabled: c.FormValue("enabled") == "on", Webhook: c.FormValue("webhook"),
		Secret: c.FormValue("secret"), To: c.FormValue("to"), SMTPURL: c.FormValue("smtp_url"),
		ClearSecret: c.FormValue("clear_secret") == "on"}
}

// channelOf loads the channel named in the path.
func (h *handler) channelOf(c *fiber.Ctx) (*model.Channel, error) {
	id := c.Params("id")
	if id == "" || len(id) > 64 {
		return nil, fiber.ErrNotFound
	}
	return h.Channels.Channel(ctx(c), id) // none: 404, by fault's table
}

func (h *handler) hrChannelShow(c *fiber.Ctx) error {
	ch, err := h.channelOf(c)
	if err != nil {
		return err
	}
	return h.render(c, "hr_channel", ch.Name, h.channelForm(channel.Input{Name: ch.Name, Kind: ch.Kind, Department: ch.Department,
		Lang: ch.Lang, Enabled: ch.Enabled, To: ch.To}, ch))
}

func (h *handler) hrChannelCreate(c *fiber.Ctx) error { return h.saveChannel(c, nil) }

func (h *handler) hrChannelUpdate(c *fiber.Ctx) error {
	ch, err := h.channelOf(c)
	if err != nil {
		return err
	}
	return h.saveChannel(c, ch)
}

func (h *handler) saveChannel(c *fiber.Ctx, old *model.Channel) error {
	by, _ := currentSession(c)
	in := channelInput(c)
	_, err := h.Channels.Save(ctx(c), actorOf(c, by), old, in)
	var fe *channel.FieldError
	if errors.As(err, &fe) {
		lang := langOf(c)
		title := locale.T(lang, "hr.channels.new")
		if old != nil {
			title = old.Name
		}
		// The secrets typed are not sent back: HR types them again.
		in.Webhook, in.Secret, in.SMTPURL = "", "", ""
		pg := h.channelForm(in, old)
		pg.Field = fe.Field
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderPage(c, "hr_channel", &page{Title: title, Error: locale.T(lang, fe.Key), Data: pg})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/hr/channels?m=hr.channels.saved", fiber.StatusSeeOther)
}

func (h *handler) hrChannelDelete(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	ch, err := h.channelOf(c)
	if err != nil {
		return err
	}
	if err := h.Channels.Delete(ctx(c), actorOf(c, by), ch); err != nil && !errors.Is(err, fault.NotFound) {
		return err
	}
	return c.Redirect("/hr/channels?m=hr.channels.deleted", fiber.StatusSeeOther)
}

// hrChannelTest queues a test message; the worker sends it, and the
// channel's delivery log shows how it went.
func (h *handler) hrChannelTest(c *fiber.Ctx) error {
	by, _ := currentSession(c)
	ch, err := h.channelOf(c)
	if err != nil {
		return err
	}
	m := channel.Message{Title: locale.T(ch.Lang, "channel.test.title"), Text: locale.T(ch.Lang, "channel.test.body", by.Name),
		Link: h.Config.BaseURL + "/", LinkText: locale.T(ch.Lang, "channel.open")}
	if err := h.Channels.Test(ctx(c), actorOf(c, by), ch, m); err != nil {
		return err
	}
	return c.Redirect("/hr/channels/deliveries?channel="+ch.ID+"&m=hr.channels.test_queued", fiber.StatusSeeOther)
}

type deliveriesPage struct {
	Channel    *model.Channel // the channel shown, nil for all
	Status     string         // the state shown, "" for all
	Statuses   []string
	Deliveries []model.Delivery
	Next       string // the next page's address; empty on the last
	First      string // the first page's address, when this is not it
}

// deliveriesPageSize is how many deliveries a page of the log shows.
const deliveriesPageSize = 50

var deliveryStatuses = []string{model.DeliveryPending, model.DeliverySent, model.DeliveryFailed, model.DeliveryCanceled}

func (h *handler) hrDeliveries(c *fiber.Ctx) error {
	pg := deliveriesPage{Statuses: deliveryStatuses}
	if st := c.Query("status"); slices.Contains(deliveryStatuses, st) {
		pg.Status = st
	}
	title := locale.T(langOf(c), "hr.deliveries.title")
	if id := c.Query("channel"); id != "" {
		ch, err := h.Channels.Channel(ctx(c), id)
		if err != nil {
			return err
		}
		pg.Channel = ch
		title = locale.T(langOf(c), "hr.deliveries.of", ch.Name)
	}
	chID := ""
	if pg.Channel != nil {
		chID = pg.Channel.ID
	}
	filter := url.Values{}
	if chID != "" {
		filter.Set("channel", chID)
	}
	if pg.Status != "" {
		filter.Set("status", pg.Status)
	}
	after, err := model.ParseCursor(c.Query("after"))
	if err != nil {
		c.Status(fiber.StatusBadRequest)
		return h.renderPage(c, "hr_deliveries", &page{Title: title, Data: pg, Error: locale.T(langOf(c), "hr.paging.bad_cursor")})
	}
	if after.ID != "" {
		pg.First = "/hr/channels/deliveries?" + filter.Encode()
	}
	ds, more, err := h.Channels.DeliveriesPage(ctx(c), chID, pg.Status, after, deliveriesPageSize)
	if err != nil {
		return err
	}
	pg.Deliveries = ds
	if more && len(ds) > 0 {
		last := ds[len(ds)-1]
		filter.Set("after", model.Cursor{At: last.Updated, ID: last.ID}.String())
		pg.Next = "/hr/channels/deliveries?" + filter.Encode()
	}
	return h.render(c, "hr_deliveries", title, pg)
}
