package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"conductportal/server/model"
	"conductportal/server/secret"
)

// Store is what channels and their delivery queue read and write of the
// database (storage.Storage is one; cli hands it in).
type Store interface {
	AttemptClaimed(ctx context.Context, deliveryID string, n int) (time.Time, error)
	Audit(ctx context.Context, e *model.AuditEntry) error
	Channel(ctx context.Context, id string) (*model.Channel, error)
	Channels(ctx context.Context) ([]model.Channel, error)
	ClaimAttempt(ctx context.Context, deliveryID string, n int, at time.Time) (bool, error)
	DeleteChannel(ctx context.Context, id string) error
	Deliveries(ctx context.Context, channelID, status string, limit int64) ([]model.Delivery, error)
	DeliveriesPage(ctx context.Context, channelID, status string, after model.Cursor, limit int) ([]model.Delivery, bool, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int64) ([]model.Delivery, error)
	PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error)
	QueueDelivery(ctx context.Context, d *model.Delivery) (bool, error)
	SaveChannel(ctx context.Context, ch *model.Channel) error
	SetDeliveryOutcome(ctx context.Context, d *model.Delivery) error
}

// Service keeps the channels and delivers messages to them.
type Service struct {
	store  Store
	box    *secret.Box // nil: no key, secrets cannot be stored
	sender *Sender
	log    *slog.Logger
	now    func() time.Time
	kick   chan struct{}

	// A reminder run queues one message per person: the channels are read
	// once per cacheFor, and at once after a change made here.
	cacheMu  sync.Mutex
	cached   []model.Channel
	cachedAt time.Time

	// MaxAttempts is how often a message is tried before it counts as
	// failed; Backoff is the wait after the first failure, doubled after
	// each next one.
	MaxAttempts int
	Backoff     time.Duration
}

// NewService returns a Service. box may be nil (no PORTAL_SECRET_KEY); now
// may be nil for the wall clock.
func NewService(store Store, box *secret.Box, sender *Sender, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, box: box, sender: sender, log: log, now: now, kick: make(chan struct{}, 1),
		MaxAttempts: 5, Backoff: time.Minute}
}

// SetTimeout sets how long one attempt may take (Timeout by default).
func (s *Service) SetTimeout(d time.Duration) { s.sender.Timeout = d }

// HasKey reports whether secrets can be stored.
func (s *Service) HasKey() bool { return s.box != nil }

// FieldError is a form value HR must fix; Key names the message in the
// locale, Field the form field.
type FieldError struct {
	Field string
	Key   string
}

func (e *FieldError) Error() string { return "channel: invalid " + e.Field + " (" + e.Key + ")" }

// Input is a channel as HR's form (or PORTAL_CHANNELS) gives it. Empty
// secrets keep the stored ones; ClearSecret removes the signing secret.
type Input struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Department  string `json:"department"`
	Lang        string `json:"lang"`
	Enabled     bool   `json:"enabled"`
	Webhook     string `json:"webhook"`
	Secret      string `json:"secret"`
	To          string `json:"to"`
	SMTPURL     string `json:"smtp_url"`
	ClearSecret bool   `json:"-"`
}

// Serves reports whether ch takes the messages of department dept.
func Serves(ch *model.Channel, dept string) bool {
	return ch.Enabled && (ch.Department == "" || ch.Department == dept)
}

// Channels returns every channel.
func (s *Service) Channels(ctx context.Context) ([]model.Channel, error) {
	return s.store.Channels(ctx)
}

// cacheFor is how long another instance's change to the channels may take
// to be seen here.
const cacheFor = 10 * time.Second

// current returns the channels, read at most once per cacheFor.
func (s *Service) current(ctx context.Context) ([]model.Channel, error) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if s.cached != nil && time.Since(s.cachedAt) < cacheFor {
		return s.cached, nil
	}
	chans, err := s.store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	if chans == nil {
		chans = []model.Channel{}
	}
	s.cached, s.cachedAt = chans, time.Now()
	return chans, nil
}

func (s *Service) forget() {
	s.cacheMu.Lock()
	s.cached = nil
	s.cacheMu.Unlock()
}

// Channel returns one channel, model.ErrNotFound when there is none.
func (s *Service) Channel(ctx context.Context, id string) (*model.Channel, error) {
	return s.store.Channel(ctx, id)
}

// Save validates in and stores it as a new channel (old nil) or over old,
// and audits it (channel.create or channel.update, secrets not named).
// Secrets are sealed before they are stored.
func (s *Service) Save(ctx context.Context, by model.Actor, old *model.Channel, in Input) (*model.Channel, error) {
	ch, err := s.save(ctx, by.Login, old, in)
	if err != nil {
		return nil, err
	}
	action, detail := "channel.create", Detail(ch)
	if old != nil {
		action = "channel.update"
		var changed []string
		if old.Webhook != ch.Webhook {
			changed = append(changed, "webhook")
		}
		if old.Secret != ch.Secret {
			changed = append(changed, "signing secret")
		}
		if old.SMTPURL != ch.SMTPURL {
			changed = append(changed, "smtp url")
		}
		if len(changed) > 0 {
			detail += "; new " + strings.Join(changed, ", ")
		}
	}
	if err := s.audit(ctx, by, action, ch.Name, detail); err != nil {
		return nil, err
	}
	return ch, nil
}

// Detail describes a channel for the audit log, without secrets.
func Detail(ch *model.Channel) string {
	d := fmt.Sprintf("kind=%s department=%q lang=%s enabled=%t", ch.Kind, ch.Department, ch.Lang, ch.Enabled)
	if ch.WebhookHost != "" {
		d += " host=" + ch.WebhookHost
	}
	if ch.To != "" {
		d += " to=" + ch.To
	}
	return d
}

// audit records a change already stored. It is written after the change
// (an entry for a change that then failed would be false); its failure is
// the caller's error, saying the change is made.
func (s *Service) audit(ctx context.Context, by model.Actor, action, target, detail string) error {
	e := &model.AuditEntry{At: s.now(), Actor: by.Login, Action: action, Target: target, Detail: detail, Client: by.Client}
	if err := s.store.Audit(ctx, e); err != nil {
		return fmt.Errorf("channel: %s %s is done but its audit entry is not stored: %w", action, target, err)
	}
	return nil
}

// save is Save without the audit entry (Seed's first set-up is not HR's).
func (s *Service) save(ctx context.Context, by string, old *model.Channel, in Input) (*model.Channel, error) {
	in = in.trimmed()
	if err := in.check(old); err != nil {
		return nil, err
	}
	ch := &model.Channel{ID: model.NewID(), Created: s.now().UTC().Truncate(time.Millisecond)}
	if old != nil {
		c := *old
		ch = &c
	}
	ch.Name, ch.Kind, ch.Department, ch.Lang, ch.Enabled = in.Name, in.Kind, in.Department, in.Lang, in.Enabled
	var err error
	switch in.Kind {
	case KindWeCom, KindDingTalk:
		err = s.setWebhook(ch, in)
	case KindEmail:
		err = s.setEmail(ch, in)
	}
	if err != nil {
		return nil, err
	}
	ch.By, ch.Updated = by, s.now().UTC().Truncate(time.Millisecond)
	defer s.forget()
	if err := s.store.SaveChannel(ctx, ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// trimmed is in without surrounding spaces, in Chinese unless it says.
func (in Input) trimmed() Input {
	in.Name, in.Department = strings.TrimSpace(in.Name), strings.TrimSpace(in.Department)
	in.Webhook, in.Secret, in.To, in.SMTPURL = strings.TrimSpace(in.Webhook), strings.TrimSpace(in.Secret), strings.TrimSpace(in.To), strings.TrimSpace(in.SMTPURL)
	if in.Lang == "" {
		in.Lang = model.LangZH
	}
	return in
}

// check checks the fields every kind has; a saved channel keeps its kind.
func (in Input) check(old *model.Channel) error {
	switch {
	case in.Name == "" || len([]rune(in.Name)) > 60:
		return &FieldError{"name", "hr.channels.bad_name"}
	case !slices.Contains(Kinds, in.Kind) || (old != nil && old.Kind != in.Kind):
		return &FieldError{"kind", "hr.channels.bad_kind"}
	case !slices.Contains(model.Languages, in.Lang):
		return &FieldError{"lang", "hr.channels.bad_lang"}
	case len([]rune(in.Department)) > 100:
		return &FieldError{"department", "hr.channels.bad_department"}
	}
	return nil
}

// seal stores plain sealed in *to; without a key, the field says so.
func (s *Service) seal(field, plain string, to *string) error {
	sealed, err := s.box.Seal(plain)
	if errors.Is(err, secret.ErrNoKey) {
		return &FieldError{field, "hr.channels.no_key"}
	}
	if err != nil {
		return err
	}
	*to = sealed
	return nil
}

// setWebhook sets a group chat's webhook (an empty one keeps the saved
// webhook) and, for DingTalk, its signing secret.
func (s *Service) setWebhook(ch *model.Channel, in Input) error {
	ch.To, ch.SMTPURL = "", ""
	if in.Webhook != "" {
		u, err := url.Parse(in.Webhook)
		if err != nil || !webhookScheme(u) || u.Host == "" || len(in.Webhook) > 500 {
			return &FieldError{"webhook", "hr.channels.bad_webhook"}
		}
		if err := s.seal("webhook", in.Webhook, &ch.Webhook); err != nil {
			return err
		}
		ch.WebhookHost = u.Host
	}
	if ch.Webhook == "" {
		return &FieldError{"webhook", "hr.channels.bad_webhook"}
	}
	if in.Kind != KindDingTalk {
		ch.Secret = ""
		return nil
	}
	if in.ClearSecret {
		ch.Secret = ""
	}
	if in.Secret == "" {
		return nil
	}
	if len(in.Secret) > 200 {
		return &FieldError{"secret", "hr.channels.bad_secret"}
	}
	return s.seal("secret", in.Secret, &ch.Secret)
}

// setEmail sets an email channel's addresses and its own SMTP server (an
// empty one keeps the saved server).
func (s *Service) setEmail(ch *model.Channel, in Input) error {
	ch.Webhook, ch.WebhookHost, ch.Secret = "", "", ""
	to := splitList(in.To)
	if len(to) == 0 || len(to) > 20 {
		return &FieldError{"to", "hr.channels.bad_to"}
	}
	for _, a := range to {
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
			return &FieldError{"to", "hr.channels.bad_to"}
		}
	}
	ch.To = strings.Join(to, ", ")
	if in.ClearSecret {
		ch.SMTPURL = ""
	}
	if in.SMTPURL == "" {
		return nil
	}
	if _, err := NewSMTP(in.SMTPURL, ""); err != nil {
		return &FieldError{"smtp_url", "hr.channels.bad_smtp"}
	}
	return s.seal("smtp_url", in.SMTPURL, &ch.SMTPURL)
}

// Delete removes a channel and audits it; its queued messages are dropped
// when due. A channel already gone (deleted at the same time) is audited
// too and its not-found error returned, as the page has always shown it.
func (s *Service) Delete(ctx context.Context, by model.Actor, ch *model.Channel) error {
	defer s.forget()
	err := s.store.DeleteChannel(ctx, ch.ID)
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return err
	}
	if aerr := s.audit(ctx, by, "channel.delete", ch.Name, Detail(ch)); aerr != nil {
		return aerr
	}
	return err
}

// Seed creates the channels of PORTAL_CHANNELS (a JSON array of Input)
// when there are none yet: the first set-up. Afterwards HR's page rules.
func (s *Service) Seed(ctx context.Context, raw string) (int, error) {
	if strings.TrimSpace(raw) == "" {
		return 0, nil
	}
	var ins []Input
	if err := json.Unmarshal([]byte(raw), &ins); err != nil {
		return 0, errors.New("channel: PORTAL_CHANNELS must be a JSON array like [{\"name\":\"…\",\"kind\":\"wecom\",\"department\":\"…\",\"webhook\":\"https://…\"}]")
	}
	have, err := s.store.Channels(ctx)
	if err != nil || len(have) > 0 {
		return 0, err
	}
	for i, in := range ins {
		in.Enabled = true
		if _, err := s.save(ctx, "system", nil, in); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				return i, fmt.Errorf("channel: PORTAL_CHANNELS entry %d: bad %s", i+1, fe.Field)
			}
			return i, err
		}
	}
	return len(ins), nil
}

// Note is one message for the channels, before it is fitted to each.
type Note struct {
	Key     string // the message's unique key: the notification id, announcement/slug@N ...
	Kind    string
	Person  string // the login concerned
	Lessons []string
}

// Queue queues a message for every enabled channel that build accepts;
// build writes it in the channel's language and names whom to mention.
// A message already queued for a channel is not queued again. The worker
// is woken; nothing is sent here.
func (s *Service) Queue(ctx context.Context, n Note, build func(ch *model.Channel) (Message, []*model.User, bool)) (int, error) {
	chans, err := s.current(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	queued := 0
	for i := range chans {
		ch := &chans[i]
		if !ch.Enabled {
			continue
		}
		m, mention, ok := build(ch)
		if !ok {
			continue
		}
		mobiles, ids := Mentions(ch.Kind, mention)
		d := &model.Delivery{ID: n.Key + "|" + ch.ID, Message: n.Key, ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: ch.Kind,
			Kind: n.Kind, Person: n.Person, Lessons: n.Lessons, Title: m.Title, Text: m.Text, Link: m.Link, LinkText: m.LinkText,
			Mobiles: mobiles, UserIDs: ids, Status: model.DeliveryPending, Next: now, Created: now, Updated: now}
		stored, err := s.store.QueueDelivery(ctx, d)
		if err != nil {
			return queued, err
		}
		if stored {
			queued++
		}
	}
	if queued > 0 {
		s.Wake()
	}
	return queued, nil
}

// Mentions picks how a channel kind mentions people: DingTalk by mobile
// number and DingTalk user id, WeCom by WeCom user id, email not at all.
func Mentions(kind string, people []*model.User) (mobiles, ids []string) {
	for _, u := range people {
		switch kind {
		case KindDingTalk:
			if u.Mobile != "" {
				mobiles = append(mobiles, u.Mobile)
			}
			if u.DingTalkID != "" {
				ids = append(ids, u.DingTalkID)
			}
		case KindWeCom:
			if u.WeComID != "" {
				ids = append(ids, u.WeComID)
			}
		}
	}
	return mobiles, ids
}

// Test queues a test message for one channel, and audits it.
func (s *Service) Test(ctx context.Context, by model.Actor, ch *model.Channel, m Message) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	key := "test/" + model.NewID()
	d := &model.Delivery{ID: key + "|" + ch.ID, Message: key, ChannelID: ch.ID, ChannelName: ch.Name, ChannelKind: ch.Kind,
		Kind: model.DeliveryTest, Title: m.Title, Text: m.Text, Link: m.Link, LinkText: m.LinkText,
		Status: model.DeliveryPending, Next: now, Created: now, Updated: now}
	if _, err := s.store.QueueDelivery(ctx, d); err != nil {
		return err
	}
	s.Wake()
	return s.audit(ctx, by, "channel.test", ch.Name, "test message queued")
}

// Deliveries returns the newest deliveries, of one channel when channelID
// is set, in one state when status is.
func (s *Service) Deliveries(ctx context.Context, channelID, status string, limit int64) ([]model.Delivery, error) {
	return s.store.Deliveries(ctx, channelID, status, limit)
}

// DeliveriesPage returns a page of the delivery log, newest change first,
// after the cursor, and whether more follow (see Store.DeliveriesPage).
func (s *Service) DeliveriesPage(ctx context.Context, channelID, status string, after model.Cursor, limit int) ([]model.Delivery, bool, error) {
	return s.store.DeliveriesPage(ctx, channelID, status, after, limit)
}

// Wake asks the worker for a pass now.
func (s *Service) Wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// webhookScheme allows https, and plain http only to this machine (a
// relay or a test receiver): the URL carries the robot's key.
func webhookScheme(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

var listSep = regexp.MustCompile(`[,;，；\s]+`)

func splitList(s string) []string {
	var out []string
	for _, p := range listSep.Split(s, -1) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
