// Package channel owns the places reminders go besides the in-app inbox:
// email (SMTP), WeCom group robots and DingTalk group robots. It builds
// each vendor's documented JSON, signs DingTalk requests, sends with a
// per-request timeout, keeps the channels' secrets encrypted at rest, and
// runs the delivery queue with retries and backoff.
package channel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Channel kinds.
const (
	KindEmail    = "email"
	KindWeCom    = "wecom"
	KindDingTalk = "dingtalk"
)

// Kinds lists the channel kinds in display order.
var Kinds = []string{KindWeCom, KindDingTalk, KindEmail}

// Message is one notice to post: a title, a Markdown text, a link, and the
// people to mention (by mobile number or the channel's user id).
type Message struct {
	Title    string
	Text     string // Markdown
	Link     string // absolute URL, or ""
	LinkText string
	Mobiles  []string
	UserIDs  []string
}

// WeComPayload is the WeCom group robot's markdown message:
// {"msgtype":"markdown","markdown":{"content":...}}. WeCom's markdown
// mentions people with <@userid> in the content; it has no mention by
// mobile number for markdown, so mobiles are not used here.
func WeComPayload(m Message) ([]byte, error) {
	var b strings.Builder
	b.WriteString("### " + oneLine(m.Title) + "\n")
	b.WriteString(m.Text)
	if m.Link != "" {
		b.WriteString("\n[" + linkText(m) + "](" + m.Link + ")")
	}
	if len(m.UserIDs) > 0 {
		b.WriteString("\n")
		for i, id := range m.UserIDs {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString("<@" + id + ">")
		}
	}
	type markdown struct {
		Content string `json:"content"`
	}
	return json.Marshal(struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
	}{"markdown", markdown{b.String()}})
}

// DingTalkPayload is the DingTalk custom robot's markdown message:
// {"msgtype":"markdown","markdown":{"title","text"},"at":{"atMobiles",
// "atUserIds","isAtAll"}}. DingTalk only notifies a mentioned person when
// "@mobile" (or "@userid") also appears in the text.
func DingTalkPayload(m Message) ([]byte, error) {
	var b strings.Builder
	b.WriteString("### " + oneLine(m.Title) + "\n\n")
	b.WriteString(m.Text)
	if m.Link != "" {
		b.WriteString("\n\n[" + linkText(m) + "](" + m.Link + ")")
	}
	var at []string
	for _, mob := range m.Mobiles {
		at = append(at, "@"+mob)
	}
	for _, id := range m.UserIDs {
		at = append(at, "@"+id)
	}
	if len(at) > 0 {
		b.WriteString("\n\n" + strings.Join(at, " "))
	}
	type markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	type mention struct {
		AtMobiles []string `json:"atMobiles"`
		AtUserIDs []string `json:"atUserIds"`
		IsAtAll   bool     `json:"isAtAll"`
	}
	return json.Marshal(struct {
		MsgType  string   `json:"msgtype"`
		Markdown markdown `json:"markdown"`
		At       mention  `json:"at"`
	}{"markdown", markdown{oneLine(m.Title), b.String()}, mention{nonNil(m.Mobiles), nonNil(m.UserIDs), false}})
}

// DingTalkSign is the signature of DingTalk's "加签" security setting: the
// string timestamp+"\n"+secret, HMAC-SHA256 keyed by the secret, base64.
// ts is in milliseconds since the epoch.
func DingTalkSign(ts int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// DingTalkURL adds &timestamp=..&sign=.. (URL-encoded) to a webhook URL
// when the robot has a signing secret.
func DingTalkURL(webhook, secret string, now time.Time) (string, error) {
	if secret == "" {
		return webhook, nil
	}
	u, err := url.Parse(webhook)
	if err != nil {
		// Not the parse error: it quotes the URL, which holds the key.
		return "", errors.New("channel: the webhook URL does not parse")
	}
	ts := now.UnixMilli()
	q := u.Query()
	q.Set("timestamp", strconv.FormatInt(ts, 10))
	q.Set("sign", DingTalkSign(ts, secret))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func linkText(m Message) string {
	if m.LinkText != "" {
		return m.LinkText
	}
	return m.Link
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
