package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/channel"
	"conductportal/server/model"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// robot is a loopback WeCom or DingTalk group robot: it records what it
// receives and answers with the next of its answers ("hang" holds the
// request until the sender gives up).
type robot struct {
	t       *testing.T
	secret  string // DingTalk signing secret to check, "" none
	answers []string

	mu    sync.Mutex
	got   []map[string]any
	query []signed
	srv   *httptest.Server
}

type signed struct{ timestamp, sign string }

func startRobot(t *testing.T, secret string, answers ...string) *robot {
	t.Helper()
	r := &robot{t: t, secret: secret, answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *robot) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || req.Method != http.MethodPost {
		r.t.Errorf("robot got %s %s", req.Method, body)
	}
	q := req.URL.Query()
	if r.secret != "" {
		// Recompute the signature as DingTalk documents it.
		mac := hmac.New(sha256.New, []byte(r.secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + r.secret))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); q.Get("sign") != want {
			r.t.Errorf("DingTalk sign %q, want %q", q.Get("sign"), want)
			_, _ = io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
		ms, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if d := time.Since(time.UnixMilli(ms)); d < -time.Minute || d > time.Hour {
			r.t.Errorf("DingTalk timestamp %s is not now", q.Get("timestamp"))
		}
	}
	r.mu.Lock()
	r.got = append(r.got, m)
	r.query = append(r.query, signed{q.Get("timestamp"), q.Get("sign")})
	answer := r.answers[min(len(r.got), len(r.answers))-1]
	r.mu.Unlock()
	if answer == "hang" {
		<-req.Context().Done()
		return
	}
	_, _ = io.WriteString(w, answer)
}

func (r *robot) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

const ok = `{"errcode":0,"errmsg":"ok"}`

// TestOverdueReminderReachesRobots is the "done when": a manager
// reminds an overdue person; the reminder reaches the department's WeCom
// and DingTalk robots in their documented JSON (DingTalk signed), the
// person mentioned; a robot that answers an error code and one that
// hangs are retried with backoff, logged, and given up on after the last
// attempt; neither delays the others; other departments' robots hear
// nothing; the department's mailing list gets it by email; and a new
// version to acknowledge is announced once.
func TestOverdueReminderReachesRobots(t *testing.T) {
	mb := startSMTP(t)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{
		"PORTAL_BASE_URL": "https://portal.example.com", "PORTAL_SECRET_KEY": strings.Repeat("5a", 32),
		"PORTAL_SMTP_URL": "smtp://" + mb.addr + "?from=training@example.com",
	})
	testkit.BackdateLessons(t, p)
	ctx := context.Background()
	p.Channels.SetTimeout(300 * time.Millisecond)

	wecom := startRobot(t, "", ok)
	const dingSecret = "SECd1n9t4lk-s3cret"
	ding := startRobot(t, dingSecret, ok)
	failing := startRobot(t, "", `{"errcode":93000,"errmsg":"invalid webhook url"}`)
	hanging := startRobot(t, "", "hang")
	elsewhere := startRobot(t, "", ok)
	save := func(in channel.Input) *model.Channel {
		t.Helper()
		in.Enabled = true
		ch, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	save(channel.Input{Name: "销售部企业微信群", Kind: channel.KindWeCom, Department: "销售部", Webhook: wecom.srv.URL + "/cgi-bin/webhook/send?key=wecom-key"})
	save(channel.Input{Name: "Sales DingTalk", Kind: channel.KindDingTalk, Department: "销售部", Lang: model.LangEN,
		Webhook: ding.srv.URL + "/robot/send?access_token=ding-token", Secret: dingSecret})
	bad := save(channel.Input{Name: "坏的群", Kind: channel.KindWeCom, Department: "销售部", Webhook: failing.srv.URL + "/send?key=x"})
	slow := save(channel.Input{Name: "慢的群", Kind: channel.KindWeCom, Department: "销售部", Webhook: hanging.srv.URL + "/send?key=y"})
	save(channel.Input{Name: "客服部群", Kind: channel.KindWeCom, Department: "客服部", Webhook: elsewhere.srv.URL + "/send?key=z"})
	save(channel.Input{Name: "销售部邮件组", Kind: channel.KindEmail, Department: "销售部", To: "sales-team@example.com"})

	boss := addUser(t, p, auth.NewUser{Login: "wang.qiang", Name: "王强", Roles: []string{model.RoleManager}, Department: "销售部"})
	hired := time.Now().AddDate(0, -2, 0)
	lina := addUser(t, p, auth.NewUser{Login: "li.na", Name: "李娜", Manager: boss.Login, Department: "销售部", Hired: hired,
		Contacts: auth.Contacts{Mobile: "13800000000", WeComID: "LiNa", DingTalkID: "dt-lina"}})

	sent, err := p.Notify.RemindPerson(ctx, boss, lina.Login, "")
	if err != nil || sent.Stored != 1 {
		t.Fatalf("remind: %+v %v", sent, err)
	}
	now := time.Now()
	pass, err := p.Channels.Deliver(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if pass.Sent != 3 || pass.Retrying != 2 {
		t.Fatalf("first pass: %+v, want 3 sent (WeCom, DingTalk, email), 2 retrying", pass)
	}

	// WeCom: exactly {"msgtype":"markdown","markdown":{"content":...}},
	// in Chinese, the person mentioned by WeCom id, the lesson linked.
	got := wecom.received()
	if len(got) != 1 {
		t.Fatalf("WeCom robot got %d messages", len(got))
	}
	md, _ := got[0]["markdown"].(map[string]any)
	content, _ := md["content"].(string)
	if len(got[0]) != 2 || got[0]["msgtype"] != "markdown" || len(md) != 1 || !strings.HasPrefix(content, "### 请完成培训") ||
		!strings.Contains(content, "致 李娜：王强提醒你完成以下课程") || !strings.Contains(content, "](https://portal.example.com/") ||
		!strings.HasSuffix(content, "\n<@LiNa>") {
		t.Errorf("WeCom message: %v", got[0])
	}
	// DingTalk: markdown title and text, in English (the channel's
	// language), "@mobile" in the text and in at.atMobiles, signed.
	got = ding.received()
	if len(got) != 1 {
		t.Fatalf("DingTalk robot got %d messages", len(got))
	}
	md, _ = got[0]["markdown"].(map[string]any)
	at, _ := got[0]["at"].(map[string]any)
	text, _ := md["text"].(string)
	if got[0]["msgtype"] != "markdown" || !strings.HasPrefix(md["title"].(string), "Please finish your training") ||
		!strings.Contains(text, "To 李娜: 王强 reminds you to finish") || !strings.Contains(text, "@13800000000 @dt-lina") ||
		!slices.Equal(anyStrings(at["atMobiles"]), []string{"13800000000"}) || !slices.Equal(anyStrings(at["atUserIds"]), []string{"dt-lina"}) ||
		at["isAtAll"] != false {
		t.Errorf("DingTalk message: %v", got[0])
	}
	if len(elsewhere.received()) != 0 {
		t.Errorf("another department's robot got the reminder")
	}
	p.Notify.Wait()
	var toTeam []message
	for _, m := range mb.all() {
		if slices.Contains(m.to, "sales-team@example.com") {
			toTeam = append(toTeam, m)
		}
	}
	if len(toTeam) != 1 || !strings.HasPrefix(toTeam[0].subject, "请完成培训") || !strings.Contains(toTeam[0].body, "https://portal.example.com/") {
		t.Errorf("mailing list: %+v", toTeam)
	}

	// The failing robots: retried after 1, 2, 4, 8 minutes, then failed;
	// nothing happens before a retry is due. Two instances racing on a
	// retry make one attempt between them.
	status := func(ch *model.Channel) model.Delivery {
		t.Helper()
		ds, err := p.Channels.Deliveries(ctx, ch.ID, "", 10)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of %s: %v %v", ch.Name, ds, err)
		}
		return ds[0]
	}
	d := status(bad)
	if d.Status != model.DeliveryPending || d.Attempts != 1 || d.ErrCode != 93000 || d.Error != "invalid webhook url" ||
		!d.Next.Equal(now.UTC().Add(time.Minute).Truncate(time.Millisecond)) {
		t.Errorf("after one failure: %+v", d)
	}
	if d := status(slow); d.Status != model.DeliveryPending || d.Attempts != 1 || d.Error != "post: timed out" {
		t.Errorf("after one timeout: %+v", d)
	}
	if pass, _ := p.Channels.Deliver(ctx, now.Add(30*time.Second)); pass != (channel.Pass{}) {
		t.Errorf("a retry before it was due: %+v", pass)
	}
	at1 := now
	for attempt, wait := 2, time.Minute; attempt <= 5; attempt, wait = attempt+1, wait*2 {
		at1 = at1.Add(wait)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := p.Channels.Deliver(ctx, at1); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := len(failing.received()); n != attempt {
			t.Fatalf("attempt %d: the failing robot was called %d times", attempt, n)
		}
	}
	for _, ch := range []*model.Channel{bad, slow} {
		if d := status(ch); d.Status != model.DeliveryFailed || d.Attempts != 5 || !d.Next.IsZero() {
			t.Errorf("%s after the last attempt: %+v", ch.Name, d)
		}
	}
	if n := len(wecom.received()); n != 1 {
		t.Errorf("the working robot got %d messages, want still 1", n)
	}
	log := p.LogText()
	if !strings.Contains(log, "channel delivery failed") || !strings.Contains(log, "errcode=93000") {
		t.Errorf("failures not logged")
	}
	for _, secret := range []string{"wecom-key", "ding-token", dingSecret} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows the secret %q", secret)
		}
	}
	// Stored channels hold ciphertext only.
	raw, err := p.DB.Database.Collection("channels").Find(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := raw.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(docs)
	for _, secret := range []string{"wecom-key", "ding-token", dingSecret} {
		if strings.Contains(string(dump), secret) {
			t.Errorf("the database holds %q in clear", secret)
		}
	}

	// A new version to acknowledge is announced to the department's
	// robots once, mentioning the people who must sign it; a minor change
	// is not.
	publish := func(kind string) {
		t.Helper()
		_, d, _, err := p.Authoring.Draft(ctx, "dress")
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for lang, f := range d.Files {
			files[lang] = strings.TrimRight(f, "\n") + "\n\n新增一句 " + kind + "。\n"
		}
		if _, probs, err := p.Authoring.SaveFiles(ctx, "hr", "dress", files, d.Quiz); err != nil || len(probs) > 0 {
			t.Fatal(probs, err)
		}
		if _, probs, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "dress", Kind: kind, Note: kind, GraceDays: 10, Actor: "hr"}); err != nil || len(probs) > 0 {
			t.Fatal(probs, err)
		}
	}
	publish(model.ChangeMinor)
	publish(model.ChangeReack)
	p.Notify.Wait() // the announcement is queued after the publish answers
	if _, err := p.Channels.Deliver(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	got = wecom.received()
	if len(got) != 2 {
		t.Fatalf("WeCom robot got %d messages, want the reminder and one announcement", len(got))
	}
	content = got[1]["markdown"].(map[string]any)["content"].(string)
	if !strings.HasPrefix(content, "### 新版本待确认") || !strings.Contains(content, "https://portal.example.com/lessons/dress") ||
		!strings.Contains(content, "<@LiNa>") {
		t.Errorf("announcement: %q", content)
	}
	if n := len(elsewhere.received()); n != 0 {
		t.Errorf("the robot of a department with nobody to sign got %d announcements", n)
	}

	// The daily job escalates the overdue person to their manager: the
	// department's robots hear of it too, linked to the person's page.
	if _, err := p.Notify.Run(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Channels.Deliver(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for _, m := range wecom.received()[2:] {
		c := m["markdown"].(map[string]any)["content"].(string)
		if strings.HasPrefix(c, "### 逾期上报：李娜") && strings.Contains(c, "(https://portal.example.com/people/li.na)") {
			escalated++
		}
	}
	if escalated == 0 {
		t.Errorf("no escalation reached the WeCom robot: %v", wecom.received()[2:])
	}
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestChannelSecretsAndQueue: PORTAL_CHANNELS sets up channels on the
// first start only; a portal restarted with another PORTAL_SECRET_KEY
// fails the delivery with a clear message instead of crashing; without a
// key, secrets cannot be saved; an attempt whose instance stopped
// mid-send counts as failed after a minute and is retried; old finished
// deliveries are pruned.
func TestChannelSecretsAndQueue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	robot := startRobot(t, "", ok)
	env := map[string]string{
		"PORTAL_SECRET_KEY": strings.Repeat("11", 32),
		"PORTAL_CHANNELS":   `[{"name":"全员群","kind":"wecom","webhook":"` + robot.srv.URL + `/send?key=env-key"}]`,
	}
	p := testkit.StartEnv(t, dir, io.Discard, env)
	ctx := context.Background()
	chans, err := p.Channels.Channels(ctx)
	if err != nil || len(chans) != 1 || chans[0].Name != "全员群" || !chans[0].Enabled || chans[0].Department != "" || chans[0].Lang != model.LangZH ||
		strings.Contains(chans[0].Webhook, "env-key") {
		t.Fatalf("channels from PORTAL_CHANNELS: %+v %v", chans, err)
	}
	if err := p.Channels.Delete(ctx, model.Actor{Login: "hr"}, &chans[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, channel.Input{Name: "群", Kind: channel.KindWeCom, Enabled: true, Webhook: robot.srv.URL + "/send?key=k2"}); err != nil {
		t.Fatal(err)
	}
	p.Stop()

	// Restarted with another key: the stored webhook does not open. The
	// seed is not applied again (there is a channel).
	env["PORTAL_SECRET_KEY"] = strings.Repeat("22", 32)
	p = testkit.StartEnv(t, dir, io.Discard, env)
	chans, _ = p.Channels.Channels(ctx)
	if len(chans) != 1 || chans[0].Name != "群" {
		t.Fatalf("after restart: %+v", chans)
	}
	if err := p.Channels.Test(ctx, model.Actor{Login: "hr"}, &chans[0], channel.Message{Title: "t", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if pass, err := p.Channels.Deliver(ctx, time.Now()); err != nil || pass.Failed != 1 {
		t.Fatalf("wrong key: %+v %v", pass, err)
	}
	ds, _ := p.Channels.Deliveries(ctx, chans[0].ID, "", 5)
	if len(ds) != 1 || !strings.Contains(ds[0].Error, "does not open with PORTAL_SECRET_KEY") || len(robot.received()) != 0 {
		t.Errorf("wrong key delivery: %+v", ds)
	}

	// No key at all (MONGODB_URI without PORTAL_SECRET_KEY): refused.
	keyless := channel.NewService(p.Store, nil, channel.NewSender(nil), p.Log, nil)
	_, err = keyless.Save(ctx, model.Actor{Login: "hr"}, nil, channel.Input{Name: "x", Kind: channel.KindWeCom, Webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a"})
	var fe *channel.FieldError
	if !errors.As(err, &fe) || fe.Key != "hr.channels.no_key" {
		t.Errorf("save without a key: %v", err)
	}
	// Plain http to another machine would carry the key in clear.
	if _, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, channel.Input{Name: "x", Kind: channel.KindWeCom, Webhook: "http://example.com/send?key=a"}); !errors.As(err, &fe) || fe.Field != "webhook" {
		t.Errorf("http webhook to another host: %v", err)
	}

	// An attempt claimed by an instance that then stopped.
	if _, err := p.Channels.Save(ctx, model.Actor{Login: "hr"}, &chans[0], channel.Input{Name: "群", Kind: channel.KindWeCom, Enabled: true, Webhook: robot.srv.URL + "/send?key=k3"}); err != nil {
		t.Fatal(err)
	}
	if err := p.Channels.Test(ctx, model.Actor{Login: "hr"}, &chans[0], channel.Message{Title: "t2", Text: "y"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ds, _ = p.Channels.Deliveries(ctx, chans[0].ID, "", 5)
	var queued model.Delivery
	for _, d := range ds {
		if d.Status == model.DeliveryPending {
			queued = d
		}
	}
	if ok, err := p.Store.ClaimAttempt(ctx, queued.ID, 1, now.UTC()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if pass, _ := p.Channels.Deliver(ctx, now.Add(10*time.Second)); pass.Sent+pass.Retrying+pass.Failed != 0 {
		t.Errorf("an attempt another instance holds was made: %+v", pass)
	}
	if pass, _ := p.Channels.Deliver(ctx, now.Add(2*time.Minute)); pass.Retrying != 1 {
		t.Errorf("interrupted attempt: %+v", pass)
	}
	if pass, _ := p.Channels.Deliver(ctx, now.Add(4*time.Minute)); pass.Sent != 1 || len(robot.received()) != 1 {
		t.Errorf("retry after the interrupted attempt: %+v", pass)
	}
	if n, err := p.Store.PruneDeliveries(ctx, time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("pruned %d, %v; want the 2 finished deliveries", n, err)
	}
}
