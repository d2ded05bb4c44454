package testkit

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one email a Mailbox received.
type Mail struct {
	To      []string
	Subject string
	Body    string
}

// Mailbox is a real SMTP server on a loopback port; URL is the
// PORTAL_SMTP_URL that sends to it.
type Mailbox struct {
	URL  string
	mu   sync.Mutex
	msgs []Mail
}

// StartSMTP starts a Mailbox, stopped when the test ends.
func StartSMTP(t testing.TB) *Mailbox {
	t.Helper()
	mb := &Mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{mb: mb}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.URL = "smtp://" + ln.Addr().String() + "?from=training@example.com"
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return mb
}

// Mails returns the mails received so far.
func (mb *Mailbox) Mails() []Mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]Mail(nil), mb.msgs...)
}

// WaitMails waits until n mails have arrived (or 20 s passed) and returns them.
func (mb *Mailbox) WaitMails(n int) []Mail {
	deadline := time.Now().Add(20 * time.Second)
	for len(mb.Mails()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return mb.Mails()
}

type smtpSession struct {
	mb *Mailbox
	to []string
}

func (s *smtpSession) Reset()                                    { s.to = nil }
func (s *smtpSession) Logout() error                             { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *smtpSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, Mail{To: s.to, Subject: subject, Body: string(body)})
	s.mb.mu.Unlock()
	return nil
}
