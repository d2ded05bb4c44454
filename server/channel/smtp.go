package channel

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// What a mail server refused, for a caller that explains it (the admin's
// test message); the server's own reply is wrapped beside it.
var (
	ErrSMTPAuth      = errors.New("channel: the mail server refused the sign-in")
	ErrSMTPRecipient = errors.New("channel: the mail server refused the recipient")
)

// Mail is one message to send.
type Mail struct {
	To      []string
	Subject string
	Body    string // plain text
}

// Mailer sends mail.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMTP sends mail through the server of PORTAL_SMTP_URL:
// smtp://[user:password@]host[:port][?from=address], port 587 by default.
// It upgrades to TLS when the server offers STARTTLS; net/smtp refuses to
// send a password unencrypted except to localhost.
type SMTP struct {
	addr     string
	host     string
	from     mail.Address
	username string
	password string
}

// NewSMTP parses an smtp:// URL. fromName is the sender's display name.
func NewSMTP(raw, fromName string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, fmt.Errorf("channel: PORTAL_SMTP_URL must look like smtp://user:password@host:587?from=portal@example.com")
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	s := &SMTP{addr: net.JoinHostPort(u.Hostname(), port), host: u.Hostname()}
	from := u.Query().Get("from")
	if from == "" {
		from = "portal@" + u.Hostname()
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("channel: PORTAL_SMTP_URL from=%q: %w", from, err)
	}
	s.from = mail.Address{Name: fromName, Address: a.Address}
	if u.User != nil {
		s.username = u.User.Username()
		s.password, _ = u.User.Password()
	}
	return s, nil
}

// Send delivers m, within ctx's deadline.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("channel: smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("channel: smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("channel: smtp starttls: %w", err)
		}
	}
	if s.username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.username, s.password, s.host)); err != nil {
			return fmt.Errorf("channel: smtp auth: %w: %w", ErrSMTPAuth, err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("channel: smtp mail from: %w", err)
	}
	for _, to := range m.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("channel: smtp rcpt %s: %w: %w", to, ErrSMTPRecipient, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("channel: smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("channel: smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("channel: smtp data: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("channel: smtp quit: %w", err)
	}
	return nil
}

// message renders m as an RFC 5322 message: UTF-8 text, quoted-printable,
// the subject encoded for non-ASCII.
func (s *SMTP) message(m Mail) ([]byte, error) {
	for _, to := range m.To {
		if strings.ContainsAny(to, "\r\n") {
			return nil, fmt.Errorf("channel: bad recipient %q", to)
		}
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", s.from.String())
	hdr("To", strings.Join(m.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", strings.ReplaceAll(m.Subject, "\n", " ")))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+s.host+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=UTF-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("channel: message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("channel: message: %w", err)
	}
	return b.Bytes(), nil
}
