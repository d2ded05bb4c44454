package channel_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"conductportal/server/channel"
)

var msg = channel.Message{Title: "请完成培训", Text: "李娜：请完成《考勤》。", Link: "https://portal.example.com/lessons/attendance",
	LinkText: "打开", Mobiles: []string{"13800000000"}, UserIDs: []string{"lina"}}

// TestWeComPayload: the group robot's documented markdown message, the
// person mentioned with <@userid> in the content.
func TestWeComPayload(t *testing.T) {
	got, err := channel.WeComPayload(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"msgtype":"markdown","markdown":{"content":"### 请完成培训\n李娜：请完成《考勤》。\n[打开](https://portal.example.com/lessons/attendance)\n\u003c@lina\u003e"}}`
	if string(got) != want {
		t.Errorf("WeCom payload\n got %s\nwant %s", got, want)
	}
}

// TestDingTalkPayload: the custom robot's documented markdown message;
// "@mobile" in the text and atMobiles/atUserIds in "at".
func TestDingTalkPayload(t *testing.T) {
	got, err := channel.DingTalkPayload(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"msgtype":"markdown","markdown":{"title":"请完成培训","text":"### 请完成培训\n\n李娜：请完成《考勤》。\n\n[打开](https://portal.example.com/lessons/attendance)\n\n@13800000000 @lina"},` +
		`"at":{"atMobiles":["13800000000"],"atUserIds":["lina"],"isAtAll":false}}`
	if string(got) != want {
		t.Errorf("DingTalk payload\n got %s\nwant %s", got, want)
	}
	// Nobody to mention: empty lists, not null.
	got, _ = channel.DingTalkPayload(channel.Message{Title: "t", Text: "x"})
	if !bytes.Contains(got, []byte(`"at":{"atMobiles":[],"atUserIds":[],"isAtAll":false}`)) {
		t.Errorf("DingTalk payload without mentions: %s", got)
	}
}

// TestDingTalkSignature recomputes the signature as DingTalk documents it:
// HMAC-SHA256 of timestamp+"\n"+secret keyed by the secret, base64, and
// URL-encoded into &timestamp=..&sign=.. of the webhook URL.
func TestDingTalkSignature(t *testing.T) {
	const secret = "SEC0123456789abcdef"
	now := time.UnixMilli(1700000000123)
	raw, err := channel.DingTalkURL("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, now)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("1700000000123\n" + secret))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if q.Get("access_token") != "abc" || q.Get("timestamp") != "1700000000123" || q.Get("sign") != want {
		t.Errorf("signed URL %s: sign %q, want %q", raw, q.Get("sign"), want)
	}
	// The base64 signature's + / = are percent-encoded in the URL.
	if enc, _, _ := strings.Cut(strings.SplitN(raw, "sign=", 2)[1], "&"); strings.ContainsAny(enc, "+/=") {
		t.Errorf("sign not URL-encoded: %s", raw)
	}
	if plain, _ := channel.DingTalkURL("https://oapi.dingtalk.com/robot/send?access_token=abc", "", now); strings.Contains(plain, "sign=") {
		t.Errorf("no secret, yet signed: %s", plain)
	}
}

// TestSendOutcomes: a loopback robot answers success, an error code, a
// non-JSON page, and nothing at all (the attempt times out); the webhook
// URL with its key never appears in an error.
func TestSendOutcomes(t *testing.T) {
	answer := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json; charset=utf-8" || !bytes.HasPrefix(body, []byte(`{"msgtype":"markdown"`)) {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		a := <-answer
		if a == "hang" {
			<-r.Context().Done()
			return
		}
		_, _ = io.WriteString(w, a)
	}))
	defer srv.Close()
	s := channel.NewSender(nil)
	s.Timeout = 300 * time.Millisecond
	hook := srv.URL + "/cgi-bin/webhook/send?key=top-secret"
	for _, c := range []struct {
		answer string
		code   int
		fails  bool
	}{
		{`{"errcode":0,"errmsg":"ok"}`, 0, false},
		{`{"errcode":93000,"errmsg":"invalid webhook url"}`, 93000, true},
		{`<html>busy</html>`, 0, true},
		{"hang", 0, true},
	} {
		answer <- c.answer
		err := s.Send(context.Background(), channel.Target{Kind: channel.KindWeCom, Webhook: hook}, msg)
		if (err != nil) != c.fails {
			t.Errorf("answer %s: err %v", c.answer, err)
			continue
		}
		var ve *channel.VendorError
		if c.code != 0 && (!errors.As(err, &ve) || ve.Code != c.code || ve.Msg != "invalid webhook url") {
			t.Errorf("answer %s: %v, want errcode %d", c.answer, err, c.code)
		}
		if err != nil && strings.Contains(err.Error(), "top-secret") {
			t.Errorf("the error shows the webhook key: %v", err)
		}
		if c.answer == "hang" && !strings.Contains(err.Error(), "timed out") {
			t.Errorf("hanging receiver: %v", err)
		}
	}
}

// TestSendFollowsNoRedirect: a webhook that answers with a redirect is a
// failure, and the message never reaches the redirect's target: a robot
// never redirects, and following one would let an https webhook reach
// plain-http addresses inside the network that the form refuses.
func TestSendFollowsNoRedirect(t *testing.T) {
	reached := make(chan string, 4)
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.Method + " " + r.URL.Path
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer inside.Close()
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusFound} {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, inside.URL+"/admin/danger", status)
		}))
		err := channel.NewSender(nil).Send(context.Background(), channel.Target{Kind: channel.KindWeCom, Webhook: hook.URL + "/send?key=k"}, msg)
		hook.Close()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprint(status)) {
			t.Errorf("redirect %d: %v, want a failure naming the status", status, err)
		}
	}
	select {
	case hit := <-reached:
		t.Errorf("the redirect's target was reached: %s", hit)
	default:
	}
}
