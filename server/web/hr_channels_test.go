package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/channel"
	"conductportal/server/model"
	"conductportal/server/secret"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestHRChannels drives HR's channel pages over HTTP: with no
// PORTAL_SECRET_KEY the embedded portal makes its key file; a DingTalk
// channel is created with a webhook and signing secret that the pages
// never show again and the database holds only encrypted; saving with the
// secret fields empty keeps them; a bad webhook is refused in Chinese and
// changes nothing; a test message reaches the robot signed, and the
// delivery log shows it sent, then a refusal with its errcode retrying;
// people get mention ids on their record, validated.
func TestHRChannels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := testkit.Start(t, dir, io.Discard)
	ctx := context.Background()
	if st, err := os.Stat(filepath.Join(dir, secret.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	if !strings.Contains(p.LogText(), "a key for stored secrets was created") {
		t.Error("the start does not say it made a key")
	}
	const pw = "channel test password"
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "hr", Name: "人事", Roles: []string{model.RoleHR}, Password: pw}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "emp", Name: "员工", Department: "销售部", Password: pw}); err != nil {
		t.Fatal(err)
	}
	hr := newCaller(t, p.Base, "hr", pw)

	var mu sync.Mutex
	var bodies []string
	answer := `{"errcode":0,"errmsg":"ok"}`
	const token, secret = "tok-7f3a9c", "SECabc123def456"
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("access_token") != token || q.Get("sign") != channel.DingTalkSign(mustInt(t, q.Get("timestamp")), secret) {
			t.Errorf("robot called with %s", r.URL.RawQuery)
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		a := answer
		mu.Unlock()
		_, _ = io.WriteString(w, a)
	}))
	defer robot.Close()
	hook := robot.URL + "/robot/send?access_token=" + token

	code, _ := hr.post(t, p.Base+"/hr/channels", url.Values{"name": {"销售部钉钉群"}, "kind": {"dingtalk"}, "department": {"销售部"}, "confirm": {"1"},
		"lang": {"zh-CN"}, "enabled": {"on"}, "webhook": {hook}, "secret": {secret}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	chans, err := p.Channels.Channels(ctx)
	if err != nil || len(chans) != 1 {
		t.Fatalf("channels: %v %v", chans, err)
	}
	ch := chans[0]
	for _, path := range []string{"/hr/channels", "/hr/channels/" + ch.ID} {
		code, body := hr.get(t, p.Base+path)
		if code != 200 || !strings.Contains(body, "销售部钉钉群") || strings.Contains(body, token) || strings.Contains(body, secret) {
			t.Errorf("%s: %d, shows the secret or not the channel", path, code)
		}
		if path != "/hr/channels" && !strings.Contains(body, "已设置（"+robotHost(robot.URL)+"）——留空则保持不变。") {
			t.Errorf("%s does not say the webhook is set", path)
		}
	}
	raw, _ := p.DB.Database.Collection("channels").FindOne(ctx, bson.M{"_id": ch.ID}).Raw()
	if strings.Contains(raw.String(), token) || strings.Contains(raw.String(), secret) {
		t.Errorf("the database holds a secret in clear: %s", raw)
	}

	// Saving with empty secret fields keeps them; a bad webhook is refused.
	code, _ = hr.post(t, p.Base+"/hr/channels/"+ch.ID, url.Values{"name": {"销售一部钉钉群"}, "kind": {"dingtalk"}, "department": {"销售部"},
		"lang": {"zh-CN"}, "enabled": {"on"}})
	kept, _ := p.Channels.Channel(ctx, ch.ID)
	if code != http.StatusSeeOther || kept.Name != "销售一部钉钉群" || kept.Webhook != ch.Webhook || kept.Secret != ch.Secret {
		t.Errorf("save without secrets: %d %+v", code, kept)
	}
	code, body := hr.post(t, p.Base+"/hr/channels/"+ch.ID, url.Values{"name": {"改名"}, "kind": {"dingtalk"}, "lang": {"zh-CN"},
		"webhook": {"ftp://example.com/x?access_token=leak-me"}})
	if after, _ := p.Channels.Channel(ctx, ch.ID); code != http.StatusUnprocessableEntity || !strings.Contains(body, "请填写以 https:// 开头的 Webhook 地址。") ||
		strings.Contains(body, "leak-me") || after.Name != "销售一部钉钉群" {
		t.Errorf("bad webhook: %d, name now %q", code, after.Name)
	}

	// A test message: queued by the page, sent by the worker, logged.
	code, _ = hr.post(t, p.Base+"/hr/channels/"+ch.ID+"/test", url.Values{})
	if code != http.StatusSeeOther {
		t.Fatalf("test: %d", code)
	}
	if pass, err := p.Channels.Deliver(ctx, time.Now()); err != nil || pass.Sent != 1 {
		t.Fatalf("deliver: %+v %v", pass, err)
	}
	var m struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Title, Text string }
	}
	if err := json.Unmarshal([]byte(bodies[0]), &m); err != nil || m.MsgType != "markdown" || m.Markdown.Title != "测试消息" ||
		!strings.Contains(m.Markdown.Text, "由 人事 发送") {
		t.Errorf("test message: %s", bodies[0])
	}
	mu.Lock()
	answer = `{"errcode":310000,"errmsg":"keywords not in content"}`
	mu.Unlock()
	hr.post(t, p.Base+"/hr/channels/"+ch.ID+"/test", url.Values{})
	if pass, _ := p.Channels.Deliver(ctx, time.Now()); pass.Retrying != 1 {
		t.Errorf("refused test: %+v", pass)
	}
	code, body = hr.get(t, p.Base+"/hr/channels/deliveries?channel="+ch.ID)
	const sentBadge = `<span class="badge status-done">已送达</span>`
	if code != 200 || !strings.Contains(body, sentBadge) || !strings.Contains(body, "errcode 310000: keywords not in content") ||
		!strings.Contains(body, "重试中（第 1 次失败）") || strings.Count(body, "<td>测试</td>") != 2 {
		t.Errorf("delivery log: %d\n%s", code, body)
	}
	// Filtered by outcome.
	_, body = hr.get(t, p.Base+"/hr/channels/deliveries?channel="+ch.ID+"&status=sent")
	if !strings.Contains(body, sentBadge) || strings.Contains(body, "errcode") {
		t.Errorf("sent only:\n%s", body)
	}
	_, body = hr.get(t, p.Base+"/hr/channels/deliveries?status=pending")
	if strings.Contains(body, sentBadge) || !strings.Contains(body, "errcode 310000") {
		t.Errorf("retrying only:\n%s", body)
	}
	for _, s := range []string{token, secret, "leak-me"} {
		if strings.Contains(p.LogText(), s) {
			t.Errorf("the log shows %q", s)
		}
	}

	// Mention ids on a person's record, validated.
	code, _ = hr.post(t, p.Base+"/hr/people/emp", url.Values{"name": {"员工"}, "roles": {"employee"}, "department": {"销售部"},
		"mobile": {"138 0000 0000"}, "wecom_id": {"YuanGong"}, "dingtalk_id": {"dt-1"}})
	u, _ := p.Store.UserByLogin(ctx, "emp")
	if code != http.StatusSeeOther || u.Mobile != "13800000000" || u.WeComID != "YuanGong" || u.DingTalkID != "dt-1" {
		t.Errorf("person contacts: %d %q %q %q", code, u.Mobile, u.WeComID, u.DingTalkID)
	}
	code, body = hr.post(t, p.Base+"/hr/people/emp", url.Values{"name": {"员工"}, "roles": {"employee"}, "mobile": {"call me"}})
	if u2, _ := p.Store.UserByLogin(ctx, "emp"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "mobile") || u2.Mobile != "13800000000" {
		t.Errorf("bad mobile: %d", code)
	}

	// The CSV import takes the same columns; a file without them keeps
	// what is stored; a bad number is an error row.
	csv := "login,name,roles,department,mobile,wecom_id,dingtalk_id\nzhou,周,employee,销售部,+8613900000000,Zhou,dt-zhou\n"
	if code, _ := hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {csv}, "do": {"confirm"}}); code != http.StatusOK {
		t.Errorf("import with contacts: %d", code)
	}
	if z, err := p.Store.UserByLogin(ctx, "zhou"); err != nil || z.Mobile != "+8613900000000" || z.WeComID != "Zhou" || z.DingTalkID != "dt-zhou" {
		t.Errorf("imported contacts: %+v %v", z, err)
	}
	if code, _ := hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {"login,name,roles,department\nemp,员工,employee,客服部\n"}, "do": {"confirm"}}); code != http.StatusOK {
		t.Errorf("import without contacts: %d", code)
	}
	if u, _ := p.Store.UserByLogin(ctx, "emp"); u.Department != "客服部" || u.Mobile != "13800000000" {
		t.Errorf("an import without the columns changed the contacts: %+v", u)
	}
	if code, body := hr.post(t, p.Base+"/hr/people/import", url.Values{"csv": {"login,name,mobile\nwu,吴,abc\n"}, "do": {"preview"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, `class="import-error"`) {
		t.Errorf("import with a bad mobile: %d", code)
	}

	// Deleting the channel: its page is gone.
	if code, _ := hr.post(t, p.Base+"/hr/channels/"+ch.ID+"/delete", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("delete: %d", code)
	}
	if code, _ := hr.get(t, p.Base+"/hr/channels/"+ch.ID); code != http.StatusNotFound {
		t.Errorf("deleted channel's page: %d", code)
	}
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Errorf("timestamp %q", s)
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func robotHost(u string) string {
	pu, _ := url.Parse(u)
	return pu.Host
}
