// Package notify reminds people of their training: reminders a manager or
// HR sends, and the daily job that reminds people before their due date
// and escalates to their manager when they are late. Each message is an
// in-app notification, an email when SMTP is configured and the person
// has an address, and a post to their department's channels (WeCom,
// DingTalk, email groups) when HR has set some up.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"conductportal/server/channel"
	"conductportal/server/locale"
	"conductportal/server/metrics"
	"conductportal/server/model"
	"conductportal/server/report"
	"conductportal/server/training"
)

// Config is what the reminders need to know.
type Config struct {
	RemindDays   int    // remind people this many days before their due date
	EscalateDays int    // tell their manager when they are this many days overdue
	BaseURL      string // for links in emails
}

// Store is what notifications read and write of the database (storage.Storage
// is one; cli hands it in).
type Store interface {
	AllProgress(ctx context.Context) (map[string]model.Progress, error)
	Audit(ctx context.Context, e *model.AuditEntry) error
	CreateNotification(ctx context.Context, n *model.Notification) (bool, error)
	ExistingNotifications(ctx context.Context, ids []string) (map[string]bool, error)
	Lessons(ctx context.Context) ([]model.Lesson, error)
	MarkNotificationsRead(ctx context.Context, userID string) error
	Notifications(ctx context.Context, userID string, limit int64) ([]model.Notification, error)
	Progress(ctx context.Context, userID string) (*model.Progress, error)
	ProgressOf(ctx context.Context, ids []string) (map[string]model.Progress, error)
	ResolveNotifications(ctx context.Context, userID string, ids []string) error
	SetNotificationEmailed(ctx context.Context, id string, at time.Time, errText string) error
	User(ctx context.Context, id string) (*model.User, error)
}

// Service sends notifications.
type Service struct {
	store   Store
	reports *report.Service
	mailer  Mailer // nil: in-app only
	cfg     Config
	log     *slog.Logger
	now     func() time.Time

	mails sync.WaitGroup

	metrics *metrics.Metrics // counts the notifications sent; nil: not counted
	// channels, when set, gets every stored notification for the
	// channels of the person's department.
	channels *channel.Service
}

// SetMetrics makes the service count the notifications it stores in m.
func (s *Service) SetMetrics(m *metrics.Metrics) { s.metrics = m }

// New returns a Service. mailer may be nil; now may be nil for the wall clock.
func New(store Store, reports *report.Service, mailer Mailer, cfg Config, log *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, reports: reports, mailer: mailer, cfg: cfg, log: log, now: now}
}

// SetChannels makes the service post to the departments' channels.
func (s *Service) SetChannels(c *channel.Service) { s.channels = c }

// Mail and Mailer are the channel package's: email is one of the channels.
type (
	Mail   = channel.Mail
	Mailer = channel.Mailer
)

// NewSMTP parses PORTAL_SMTP_URL (see channel.NewSMTP).
func NewSMTP(raw, fromName string) (*channel.SMTP, error) { return channel.NewSMTP(raw, fromName) }

// day is the calendar day of t where the portal runs.
func day(t time.Time) string { return t.In(time.Local).Format("2006-01-02") }

// dayStart is midnight of t's day where the portal runs.
func dayStart(t time.Time) time.Time {
	l := t.In(time.Local)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.Local)
}

// Key is a notification's _id: its kind, the person concerned, the day.
func Key(kind, userID, day string) string { return kind + "/" + userID + "/" + day }

// Sent says what a reminder call did.
type Sent struct {
	Stored  int // notifications stored now
	Already int // already sent today
	Nothing int // people with nothing left to do
}

// RemindPerson reminds one person, as viewer from client, of every lesson
// they have not finished: at most once a day. Audited (remind.person).
func (s *Service) RemindPerson(ctx context.Context, viewer *model.User, login, client string) (Sent, error) {
	dir, err := s.reports.Directory(ctx)
	if err != nil {
		return Sent{}, err
	}
	u := dir.ByLogin(login)
	if u == nil || !report.CanSeePerson(viewer, u) {
		return Sent{}, report.ErrForbidden
	}
	sent, err := s.remind(ctx, viewer, []*model.User{u}, false)
	if err != nil {
		return sent, err
	}
	return sent, s.audit(ctx, viewer.Login, client, "remind.person", login, "")
}

// RemindOverdue reminds, as viewer from client, everyone in scope who is
// overdue. Audited (remind.overdue, with the counts).
func (s *Service) RemindOverdue(ctx context.Context, viewer *model.User, scope report.Scope, client string) (Sent, error) {
	p, err := s.OverdueReminders(ctx, viewer, scope)
	if err != nil {
		return Sent{}, err
	}
	sent, err := s.send(ctx, p)
	if err != nil {
		return sent, err
	}
	return sent, s.audit(ctx, viewer.Login, client, "remind.overdue", scope.Manager+"/"+scope.Department, fmt.Sprintf("stored=%d already=%d", sent.Stored, sent.Already))
}

// audit records reminders already stored. It is written after them (an
// entry for reminders that then failed would be false); its failure is
// the caller's error, saying the reminders are sent.
func (s *Service) audit(ctx context.Context, actor, client, action, target, detail string) error {
	e := &model.AuditEntry{At: s.now(), Actor: actor, Action: action, Target: target, Detail: detail, Client: client}
	if err := s.store.Audit(ctx, e); err != nil {
		return fmt.Errorf("notify: %s %s is done but its audit entry is not stored: %w", action, target, err)
	}
	return nil
}

// Reminder is a reminder about to be sent: to whom, and the message.
type Reminder struct {
	To *model.User
	N  *model.Notification
}

// Planned are the reminders an action would send, for a confirmation to
// show before anything is sent.
type Planned struct {
	Reminders []Reminder
	Lessons   []model.Lesson // the lessons, to put the messages in words
	Nothing   int            // people with nothing left to do
}

// OverdueReminders are the reminders RemindOverdue would send, as viewer,
// in scope: one per person with overdue lessons, in the team's order.
func (s *Service) OverdueReminders(ctx context.Context, viewer *model.User, scope report.Scope) (*Planned, error) {
	t, err := s.reports.Team(ctx, scope, report.Filter{Overdue: true})
	if err != nil {
		return nil, err
	}
	dir, err := s.reports.Directory(ctx)
	if err != nil {
		return nil, err
	}
	var people []*model.User
	for _, r := range t.Rows {
		if u := dir.ByID(r.ID); u != nil && report.CanSeePerson(viewer, u) {
			people = append(people, u)
		}
	}
	return s.plan(ctx, viewer, people, true)
}

func (s *Service) remind(ctx context.Context, viewer *model.User, people []*model.User, overdueOnly bool) (Sent, error) {
	p, err := s.plan(ctx, viewer, people, overdueOnly)
	if err != nil {
		return Sent{}, err
	}
	return s.send(ctx, p)
}

// plan writes, as of now, the reminder each person would get: their open
// lessons (only the overdue ones when overdueOnly) and the earliest due date.
func (s *Service) plan(ctx context.Context, viewer *model.User, people []*model.User, overdueOnly bool) (*Planned, error) {
	lessons, err := s.store.Lessons(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(people))
	for i, u := range people {
		ids[i] = u.ID
	}
	prog, err := s.store.ProgressOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	p := &Planned{Lessons: lessons}
	now := s.now().UTC().Truncate(time.Millisecond)
	for _, u := range people {
		var open []string
		var due time.Time
		for _, l := range lessons {
			if l.Current == 0 || !training.Assigned(&l, u) {
				continue
			}
			st := training.StandingFor(l, prog[u.ID].Lessons[l.Slug], u, now)
			if st.Code == training.StatusDone || (overdueOnly && !st.Overdue) {
				continue
			}
			open = append(open, l.Slug)
			if due.IsZero() || st.Due.Before(due) {
				due = st.Due
			}
		}
		if len(open) == 0 {
			p.Nothing++
			continue
		}
		p.Reminders = append(p.Reminders, Reminder{To: u, N: &model.Notification{
			ID: Key(model.NotifyReminder, u.ID, day(now)), Kind: model.NotifyReminder, UserID: u.ID,
			About: u.ID, AboutName: u.Name, AboutLogin: u.Login, Lessons: open, Due: due, Day: day(now),
			From: viewer.Login, FromName: viewer.Name, Created: now,
		}})
	}
	return p, nil
}

// send delivers planned reminders: each at most once a day (its key).
func (s *Service) send(ctx context.Context, p *Planned) (Sent, error) {
	sent := Sent{Nothing: p.Nothing}
	for _, r := range p.Reminders {
		stored, err := s.deliver(ctx, r.N, r.To, r.To, p.Lessons)
		if err != nil {
			return sent, err
		}
		if stored {
			sent.Stored++
		} else {
			sent.Already++
		}
	}
	return sent, nil
}

// Run is the daily job, at now: it reminds people RemindDays before a due
// date and tells their manager when they are EscalateDays overdue. It
// catches up on days it did not run, and is safe to run often and from
// several instances at once: each message's key (kind, person, day of the
// milestone) is inserted once.
func (s *Service) Run(ctx context.Context, now time.Time) (Sent, error) {
	var sent Sent
	lessons, err := s.store.Lessons(ctx)
	if err != nil {
		return sent, err
	}
	dir, err := s.reports.Directory(ctx)
	if err != nil {
		return sent, err
	}
	prog, err := s.store.AllProgress(ctx)
	if err != nil {
		return sent, err
	}
	today := dayStart(now)
	type pending struct {
		n     *model.Notification
		to    *model.User
		about *model.User
	}
	byKey := map[string]*pending{}
	var keys []string
	add := func(kind string, u, to *model.User, slug string, milestone, due time.Time) {
		k := Key(kind, u.ID, day(milestone))
		p := byKey[k]
		if p == nil {
			p = &pending{to: to, about: u, n: &model.Notification{ID: k, Kind: kind, UserID: to.ID, About: u.ID,
				AboutName: u.Name, AboutLogin: u.Login, Due: due, Day: day(milestone), From: "system",
				Created: now.UTC().Truncate(time.Millisecond)}}
			byKey[k] = p
			keys = append(keys, k)
		}
		p.n.Lessons = append(p.n.Lessons, slug)
	}
	for i := range dir.Users {
		u := dir.Users[i]
		if !u.Active {
			continue
		}
		for _, l := range lessons {
			if l.Current == 0 || !training.Assigned(&l, u) {
				continue
			}
			st := training.StandingFor(l, prog[u.ID].Lessons[l.Slug], u, now)
			if st.Code == training.StatusDone {
				// A signature that ages out soon: remind the person before.
				if !st.Expires.IsZero() {
					expDay := dayStart(st.Expires)
					if remindOn := expDay.AddDate(0, 0, -s.cfg.RemindDays); !today.Before(remindOn) && today.Before(expDay) {
						add(model.NotifyDueSoon, u, u, l.Slug, remindOn, st.Expires)
					}
				}
				continue
			}
			dueDay := dayStart(st.Due)
			if remindOn := dueDay.AddDate(0, 0, -s.cfg.RemindDays); !st.Overdue && !today.Before(remindOn) {
				add(model.NotifyDueSoon, u, u, l.Slug, remindOn, st.Due)
			}
			if escalateOn := dueDay.AddDate(0, 0, s.cfg.EscalateDays); st.Overdue && !today.Before(escalateOn) {
				if m := dir.ByLogin(u.Manager); m != nil && m.Active {
					add(model.NotifyEscalation, u, m, l.Slug, escalateOn, st.Due)
				}
			}
		}
	}
	existing, err := s.store.ExistingNotifications(ctx, keys)
	if err != nil {
		return sent, err
	}
	for _, k := range keys {
		if existing[k] {
			sent.Already++
			continue
		}
		p := byKey[k]
		stored, err := s.deliver(ctx, p.n, p.to, p.about, lessons)
		if err != nil {
			return sent, err
		}
		if stored {
			sent.Stored++
		} else {
			sent.Already++
		}
	}
	return sent, nil
}

// Schedule runs the job now and then every interval until ctx ends.
func (s *Service) Schedule(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if sent, err := s.Run(ctx, s.now()); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("reminder job", "err", err)
		} else if sent.Stored > 0 {
			s.log.Info("reminders sent", "count", sent.Stored)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliver stores n and, when this call stored it, emails it to to and
// queues it for the channels of the department of about (the person
// concerned). The email and the channel posts go out in the background:
// the caller waits for neither a mail server nor a robot.
func (s *Service) deliver(ctx context.Context, n *model.Notification, to, about *model.User, lessons []model.Lesson) (bool, error) {
	stored, err := s.store.CreateNotification(ctx, n)
	if err != nil || !stored {
		return stored, err
	}
	s.metrics.Notification(n.Kind)
	// A new version's channel announcement mentions everyone who must
	// sign it in one message; one more post per person would bury it.
	if s.channels != nil && n.Kind != model.NotifyResign {
		s.post(ctx, n, to, about, lessons)
	}
	if s.mailer == nil || to.Email == "" {
		return true, nil
	}
	m := s.Compose(n, to, lessons)
	s.mails.Add(1)
	// The email outlives the request that caused it: it gets its own
	// deadline, not the request's cancellation (its values, the request id, stay).
	go func() { // #nosec G118 -- deliberately detached from the request
		defer s.mails.Done()
		cx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		errText := ""
		if err := s.mailer.Send(cx, m); err != nil {
			s.log.WarnContext(cx, "reminder email not sent", "notification", n.ID, "err", err)
			errText = truncate(err.Error(), 300)
		}
		if err := s.store.SetNotificationEmailed(cx, n.ID, time.Now().UTC(), errText); err != nil {
			s.log.WarnContext(cx, "reminder email not recorded", "notification", n.ID, "err", err)
		}
	}()
	return true, nil
}

// post queues n for the channels of about's department, in each
// channel's language, mentioning the recipient. A failure here is logged:
// the notification is stored and the inbox has it.
func (s *Service) post(ctx context.Context, n *model.Notification, to, about *model.User, lessons []model.Lesson) {
	_, err := s.channels.Queue(ctx, channel.Note{Key: n.ID, Kind: n.Kind, Person: n.AboutLogin, Lessons: n.Lessons},
		func(ch *model.Channel) (channel.Message, []*model.User, bool) {
			if !channel.Serves(ch, about.Department) {
				return channel.Message{}, nil, false
			}
			title, body, link := Text(ch.Lang, n, lessons)
			if n.Kind != model.NotifyEscalation {
				body = locale.T(ch.Lang, "channel.to", to.Name) + body
			}
			return channel.Message{Title: title, Text: body, Link: s.cfg.BaseURL + link,
				LinkText: locale.T(ch.Lang, "channel.open")}, []*model.User{to}, true
		})
	if err != nil {
		s.log.Warn("channel posts not queued", "notification", n.ID, "err", err)
	}
}

// Announce tells the people a new version of a lesson asks to sign again,
// each in their inbox (and by email), and the channels, once per version
// and channel, mentioning the people of the channel's department who must
// sign. It is called after a publish and never fails or holds up the
// publish: the work goes on in the background (Wait waits for it).
func (s *Service) Announce(ctx context.Context, slug string, version int) {
	s.mails.Add(1)
	go func() { // #nosec G118 -- outlives the publish request on purpose
		defer s.mails.Done()
		cx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		if err := s.askToSign(cx, slug, version); err != nil {
			s.log.WarnContext(cx, "sign-again notices not stored", "lesson", slug, "version", version, "err", err)
		}
		if s.channels == nil {
			return
		}
		if err := s.announce(cx, slug, version); err != nil {
			s.log.WarnContext(cx, "announcement not queued", "lesson", slug, "version", version, "err", err)
		}
	}()
}

// askToSign stores a notification for each active person who signed an
// earlier version of the lesson and must now sign version. Its key names
// the person and the version, so a retry stores nothing twice.
func (s *Service) askToSign(ctx context.Context, slug string, version int) error {
	lessons, err := s.store.Lessons(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(lessons, func(l model.Lesson) bool { return l.Slug == slug })
	if i < 0 || lessons[i].Required != version {
		return nil // a minor change: nobody signs again
	}
	l := lessons[i]
	dir, err := s.reports.Directory(ctx)
	if err != nil {
		return err
	}
	prog, err := s.store.AllProgress(ctx)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	for i := range dir.Users {
		u := dir.Users[i]
		if !u.Active || !training.Assigned(&l, u) {
			continue
		}
		lp := prog[u.ID].Lessons[slug]
		st := training.StandingFor(l, lp, u, now)
		if lp.AckVersion == 0 || st.Code != training.StatusNeedsReack {
			continue
		}
		n := &model.Notification{ID: Key(model.NotifyResign, u.ID, model.VersionID(slug, version)), Kind: model.NotifyResign,
			UserID: u.ID, About: u.ID, AboutName: u.Name, AboutLogin: u.Login, Lessons: []string{slug},
			Version: version, Due: st.Due, Day: day(now), From: "system", Created: now}
		if _, err := s.deliver(ctx, n, u, u, lessons); err != nil {
			return err
		}
	}
	return nil
}

// maxMentions bounds the people one announcement mentions.
const maxMentions = 50

func (s *Service) announce(ctx context.Context, slug string, version int) error {
	lessons, err := s.store.Lessons(ctx)
	if err != nil {
		return err
	}
	var l *model.Lesson
	for i := range lessons {
		if lessons[i].Slug == slug {
			l = &lessons[i]
		}
	}
	if l == nil || l.Required != version {
		return nil // a minor change: nobody acknowledges again
	}
	dir, err := s.reports.Directory(ctx)
	if err != nil {
		return err
	}
	due := l.RequiredAt.AddDate(0, 0, l.GraceDays)
	_, err = s.channels.Queue(ctx, channel.Note{Key: "announcement/" + model.VersionID(slug, version), Kind: model.DeliveryAnnouncement, Lessons: []string{slug}},
		func(ch *model.Channel) (channel.Message, []*model.User, bool) {
			// The department's people who must sign; a department with
			// nobody to sign hears nothing.
			var people []*model.User
			for i := range dir.Users {
				u := dir.Users[i]
				if u.Active && len(people) < maxMentions && channel.Serves(ch, u.Department) && training.Assigned(l, u) {
					people = append(people, u)
				}
			}
			if len(people) == 0 {
				return channel.Message{}, nil, false
			}
			lang := ch.Lang
			return channel.Message{Title: locale.T(lang, "channel.announce.title", l.Title(lang)),
				Text: locale.T(lang, "channel.announce.body", l.Title(lang), version, due.In(time.Local).Format(locale.T(lang, "notify.date"))),
				Link: s.cfg.BaseURL + "/lessons/" + slug, LinkText: locale.T(lang, "channel.open")}, people, true
		})
	return err
}

// Wait waits for the emails being sent and the announcements being made.
func (s *Service) Wait() { s.mails.Wait() }

// Compose writes the email of a notification, in the recipient's language.
func (s *Service) Compose(n *model.Notification, to *model.User, lessons []model.Lesson) Mail {
	lang := to.Lang
	if !locale.Supported(lang) {
		lang = model.LangZH
	}
	title, body, link := Text(lang, n, lessons)
	return Mail{To: []string{to.Email}, Subject: title,
		Body: locale.T(lang, "mail.greeting", to.Name) + "\n\n" + body + "\n\n" + s.cfg.BaseURL + link + "\n\n" + locale.T(lang, "mail.footer")}
}

// Text is a notification in words: its title, its text, and the path it
// links to.
func Text(lang string, n *model.Notification, lessons []model.Lesson) (title, body, link string) {
	titles := make([]string, 0, len(n.Lessons))
	for _, slug := range n.Lessons {
		t := slug
		for _, l := range lessons {
			if l.Slug == slug {
				t = l.Title(lang)
			}
		}
		titles = append(titles, t)
	}
	list := strings.Join(titles, locale.T(lang, "notify.list.sep"))
	due := n.Due.In(time.Local).Format(locale.T(lang, "notify.date"))
	switch n.Kind {
	case model.NotifyEscalation:
		return locale.T(lang, "notify.escalation.title", n.AboutName),
			locale.T(lang, "notify.escalation.body", n.AboutName, n.AboutLogin, list, due),
			"/people/" + n.AboutLogin
	case model.NotifyDueSoon:
		return locale.T(lang, "notify.due_soon.title", due),
			locale.T(lang, "notify.due_soon.body", list, due), lessonLink(n)
	case model.NotifyResign:
		return locale.T(lang, "notify.resign.title", list),
			locale.T(lang, "notify.resign.body", list, n.Version, due), lessonLink(n)
	default:
		return locale.T(lang, "notify.reminder.title", len(n.Lessons)),
			locale.T(lang, "notify.reminder.body", Sender(lang, n), list), lessonLink(n)
	}
}

// Sender names who sent n, in lang: the sender's name (their login for
// messages stored before names were kept), or the portal itself.
func Sender(lang string, n *model.Notification) string {
	switch {
	case n.From == "system" || n.From == "":
		return locale.T(lang, "notify.sender.system")
	case n.FromName != "":
		return n.FromName
	}
	return n.From
}

func lessonLink(n *model.Notification) string {
	if len(n.Lessons) == 1 {
		return "/lessons/" + n.Lessons[0]
	}
	return "/"
}

// Resolve marks read u's unread notifications that ask for lessons now
// all done: a reminder is answered by doing what it asked. It reads the
// inbox only when u has unread notifications (u's count is read afresh by
// _id: the caller's copy may be older than the last reminder).
func (s *Service) Resolve(ctx context.Context, u *model.User) error {
	fresh, err := s.store.User(ctx, u.ID)
	if err != nil {
		return err
	}
	if fresh.Unread <= 0 {
		return nil
	}
	ns, err := s.store.Notifications(ctx, u.ID, 200)
	if err != nil {
		return err
	}
	lessons, err := s.store.Lessons(ctx)
	if err != nil {
		return err
	}
	prog, err := s.store.Progress(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	done := map[string]bool{}
	for _, l := range lessons {
		if l.Current > 0 && training.Assigned(&l, u) {
			done[l.Slug] = training.StandingFor(l, prog.Lessons[l.Slug], u, now).Code == training.StatusDone
		} else {
			done[l.Slug] = true // no longer asked of u
		}
	}
	var ids []string
	for _, n := range ns {
		if n.Read || n.UserID != u.ID || n.Kind == model.NotifyEscalation {
			continue
		}
		if !slices.ContainsFunc(n.Lessons, func(slug string) bool { return !done[slug] }) {
			ids = append(ids, n.ID)
		}
	}
	return s.store.ResolveNotifications(ctx, u.ID, ids)
}

// Inbox returns the user's notifications, newest first, and marks them read.
func (s *Service) Inbox(ctx context.Context, u *model.User, markRead bool) ([]model.Notification, error) {
	ns, err := s.store.Notifications(ctx, u.ID, 200)
	if err != nil {
		return nil, err
	}
	unread := u.Unread > 0 || slices.ContainsFunc(ns, func(n model.Notification) bool { return !n.Read })
	if markRead && unread {
		if err := s.store.MarkNotificationsRead(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	return ns, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
