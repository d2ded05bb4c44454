package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// Timeout bounds one delivery attempt: a receiver that hangs costs this
// much of one worker, never a request or another channel.
const Timeout = 5 * time.Second

// VendorError is a robot's refusal: {"errcode": non-zero, "errmsg": ...}
// (310000 a bad DingTalk signature or keyword, 93000 a bad WeCom key ...).
type VendorError struct {
	Code int
	Msg  string
}

func (e *VendorError) Error() string { return fmt.Sprintf("channel: errcode %d: %s", e.Code, e.Msg) }

// Target is where one message goes, secrets already decrypted.
type Target struct {
	Kind    string
	Webhook string // wecom, dingtalk
	Secret  string // dingtalk signing secret
	To      []string
	SMTPURL string // email: "" uses the portal's PORTAL_SMTP_URL
}

// Sender posts messages to targets.
type Sender struct {
	HTTP    *http.Client
	Mailer  Mailer // the portal's SMTP, for email channels without their own
	Now     func() time.Time
	Timeout time.Duration // of one attempt
}

// NewSender returns a Sender with the default timeout.
func NewSender(mailer Mailer) *Sender {
	// Robots answer where they are posted; a redirect is a failure, never
	// followed, so an https webhook cannot lead to plain-http addresses
	// inside the network that the channel form refuses.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Sender{HTTP: &http.Client{CheckRedirect: noRedirect}, Mailer: mailer, Now: time.Now, Timeout: Timeout}
}

// Send delivers m to t once.
func (s *Sender) Send(ctx context.Context, t Target, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	switch t.Kind {
	case KindWeCom:
		body, err := WeComPayload(m)
		if err != nil {
			return err
		}
		return s.post(ctx, t.Webhook, body)
	case KindDingTalk:
		body, err := DingTalkPayload(m)
		if err != nil {
			return err
		}
		u, err := DingTalkURL(t.Webhook, t.Secret, s.Now())
		if err != nil {
			return err
		}
		return s.post(ctx, u, body)
	case KindEmail:
		mailer := s.Mailer
		if t.SMTPURL != "" {
			sm, err := NewSMTP(t.SMTPURL, "Conduct Portal")
			if err != nil {
				return err
			}
			mailer = sm
		}
		if mailer == nil {
			return errors.New("channel: no SMTP server: set PORTAL_SMTP_URL or the channel's SMTP URL")
		}
		body := m.Text
		if m.Link != "" {
			body += "\n\n" + m.Link
		}
		return mailer.Send(ctx, Mail{To: t.To, Subject: m.Title, Body: body})
	}
	return fmt.Errorf("channel: unknown kind %q", t.Kind)
}

// post sends a JSON body and reads the robot's {"errcode","errmsg"}.
func (s *Sender) post(ctx context.Context, webhook string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("channel: request: %w", redact(err))
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := s.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("channel: post: %w", redact(err))
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("channel: HTTP %d", res.StatusCode)
	}
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.ErrCode == nil {
		return fmt.Errorf("channel: the receiver's answer is not {\"errcode\",\"errmsg\"}")
	}
	if *ans.ErrCode != 0 {
		return &VendorError{Code: *ans.ErrCode, Msg: truncate(ans.ErrMsg, 200)}
	}
	return nil
}

// redact drops the URL from a client error: a webhook URL holds the
// robot's key, which must not reach logs or the delivery log.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
