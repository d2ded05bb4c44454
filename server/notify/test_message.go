package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"conductportal/server/audit"
	"conductportal/server/locale"
	"conductportal/server/model"
)

// Why a test message could not be sent before it was tried.
var (
	ErrNoMailer  = errors.New("notify: no mail server (PORTAL_SMTP_URL is unset)")
	ErrNoAddress = errors.New("notify: the account has no email address")
	// ErrNotRecorded is a test message tried whose audit entry could not be
	// stored.
	ErrNotRecorded = errors.New("notify: settings.test is done but its audit entry is not stored")
)

// TestTimeout bounds a test message: the admin waits for the answer, within
// the page request's own deadline (4 s), which must leave time to answer.
const TestTimeout = 3 * time.Second

// SendTest emails u (an admin trying the mail set-up) a test message in
// their language, now, and returns the address it went to or why it did
// not go: ErrNoMailer, ErrNoAddress, or the mail server's error. Unlike
// reminders it waits for the server's answer, which is the point. A try
// is audited (settings.test, from client) whether it went or not; when the
// entry cannot be stored the error wraps ErrNotRecorded.
func (s *Service) SendTest(ctx context.Context, u *model.User, client string) (string, error) {
	if s.mailer == nil {
		return "", ErrNoMailer
	}
	if u.Email == "" {
		return "", ErrNoAddress
	}
	lang := u.Lang
	if !locale.Supported(lang) {
		lang = model.LangZH
	}
	m := Mail{To: []string{u.Email}, Subject: locale.T(lang, "channel.test.title"),
		Body: locale.T(lang, "mail.greeting", u.Name) + "\n\n" + locale.T(lang, "channel.test.body", u.Name) + "\n\n" +
			s.cfg.BaseURL + "/\n\n" + locale.T(lang, "mail.footer")}
	cx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	sent := s.mailer.Send(cx, m)
	d := audit.Detail{Key: "audit.detail.test_sent", Text: "the test message was sent"}
	if sent != nil {
		d = audit.Detail{Key: "audit.detail.test_failed", Text: "the test message was not sent"}
	}
	// The entry has its own deadline: the send may have spent the request's.
	ax, cancel := context.WithTimeout(context.WithoutCancel(ctx), TestTimeout)
	defer cancel()
	e := audit.Entry(model.Actor{Login: u.Login, Client: client}, "settings.test", u.Email, d)
	e.At = s.now()
	if err := s.store.Audit(ax, e); err != nil {
		return u.Email, fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	if sent != nil {
		return u.Email, fmt.Errorf("notify: test message to %s: %w", u.Email, sent)
	}
	return u.Email, nil
}
