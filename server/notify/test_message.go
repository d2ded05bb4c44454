package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
)

// Why a test message could not be sent before it was tried.
var (
	ErrNoMailer  = errors.New("notify: no mail server (PORTAL_SMTP_URL is unset)")
	ErrNoAddress = errors.New("notify: the account has no email address")
)

// TestTimeout bounds a test message: the admin waits for the answer, within
// the page request's own deadline (4 s), which must leave time to answer.
const TestTimeout = 3 * time.Second

// SendTest emails u (an admin trying the mail set-up) a test message in
// their language, now, and returns the address it went to or why it did
// not go: ErrNoMailer, ErrNoAddress, or the mail server's error. Unlike
// reminders it waits for the server's answer, which is the point.
func (s *Service) SendTest(ctx context.Context, u *model.User) (string, error) {
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
	if err := s.mailer.Send(cx, m); err != nil {
		return u.Email, fmt.Errorf("notify: test message to %s: %w", u.Email, err)
	}
	return u.Email, nil
}
