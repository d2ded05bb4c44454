package notify

import (
	"context"
	"time"

	"conductportal/server/locale"
	"conductportal/server/model"
)

// SendInvitation emails u their invitation link, in their language, and
// says how it went out: "email", or "" when the portal has no mail server
// or the person no address. The link is a password in all but name, so it
// goes only where the person alone reads it: never to a group channel,
// where everyone in the department would see it. The mail goes out in the
// background, like reminders; a failure is logged without the link.
func (s *Service) SendInvitation(ctx context.Context, u *model.User, link string) (string, error) {
	if s.mailer == nil || u.Email == "" {
		return "", nil
	}
	lang := u.Lang
	if !locale.Supported(lang) {
		lang = model.LangZH
	}
	m := Mail{To: []string{u.Email}, Subject: locale.T(lang, "invite.mail.subject"),
		Body: locale.T(lang, "mail.greeting", u.Name) + "\n\n" + locale.T(lang, "invite.mail.body") + "\n\n" + link + "\n\n" + locale.T(lang, "mail.footer")}
	s.mails.Add(1)
	go func() { // #nosec G118 -- deliberately detached from the request
		defer s.mails.Done()
		cx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := s.mailer.Send(cx, m); err != nil {
			s.log.WarnContext(cx, "invitation email not sent", "user", u.ID, "err", err)
		}
	}()
	return "email", nil
}
