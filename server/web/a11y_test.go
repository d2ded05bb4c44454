package web_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/channel"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// rawKey matches a locale key shown instead of its text.
var rawKey = regexp.MustCompile(`\b(app|nav|login|password|training|status|lesson|quiz|result|ack|receipts?|certificate|verify|error|lang|hr|role|channel|delivery)\.[a-z_.]+[a-z]\b`)

//go:embed testdata/axe.min.js
var axeSource string

// axeCheck runs axe-core on the page for WCAG 2.1 A and AA and fails on any
// violation, naming the rule and the elements.
func (b *browser) axeCheck(page string) {
	b.t.Helper()
	if !run(b, "axe loaded", chromedp.Evaluate[bool](`typeof axe !== 'undefined'`)) {
		run(b, "load axe", chromedp.Evaluate[any](axeSource+";true"))
	}
	raw := run(b, "axe "+page, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))`,
		chromedp.EvalAwaitPromise))
	var violations []struct {
		ID    string   `json:"id"`
		Help  string   `json:"help"`
		Nodes []string `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		b.fail("axe on %s: %v (%s)", page, err, raw)
	}
	for _, v := range violations {
		b.t.Errorf("axe on %s: %s (%s) at %s", page, v.ID, v.Help, strings.Join(v.Nodes, ", "))
	}
}

// TestBrowserAccessibility opens every page type in both languages, on a
// phone and a desktop screen: axe finds no WCAG 2.1 A/AA violation, the
// page fits the screen, and no raw locale key shows. Screenshots of each
// are kept in the test output folder (TEST_KEEP_SCREENSHOTS=1).
func TestBrowserAccessibility(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	// A database marked as the demo company: every page shows the banner.
	dataDir := filepath.Join(t.TempDir(), "data")
	markDemo(t, dataDir)
	// Sign-on set up (its provider need not answer): the login page shows
	// its button beside the password form.
	s := testkit.StartEnv(t, dataDir, io.Discard, map[string]string{
		"PORTAL_OIDC_ISSUER": "http://127.0.0.1:1", "PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET": "secret",
		"PORTAL_OIDC_NAME": "企业微信"})
	base := s.Base
	ctx := context.Background()
	done, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "done", Name: "林晓", Password: firstPass, Manager: "boss", Department: "客服部"})
	if err != nil {
		t.Fatal(err)
	}
	sts, _ := s.Training.Standings(ctx, done)
	var receiptID string
	for _, st := range sts {
		receiptID = testkit.Complete(t, s.Training, done, st.Lesson.Slug).ID
	}
	cert, err := s.Training.Certificate(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "new", Name: "新人", Password: firstPass, MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	learner, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "mid", Name: "中途", Password: firstPass, Manager: "boss", Department: "客服部"})
	if err != nil {
		t.Fatal(err)
	}
	for _, nu := range []auth.NewUser{
		{Login: "boss", Name: "王经理", Password: firstPass, Roles: []string{model.RoleManager}, Department: "客服部"},
		{Login: "hr", Name: "人事", Password: firstPass, Roles: []string{model.RoleHR}},
	} {
		if _, err := s.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	testkit.PublishChange(t, s.Training, "dress", model.ChangeReack, map[string]string{
		model.LangZH: "工牌应端正佩戴在左胸前。", model.LangEN: "Wear the badge straight on the left of your chest.",
	})
	testkit.Complete(t, s.Training, learner, "grooming")
	// Channels with a delivery log: one message sent, one refused.
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "bad") {
			_, _ = io.WriteString(w, `{"errcode":310000,"errmsg":"keywords not in content"}`)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer robot.Close()
	var chanID string
	for _, in := range []channel.Input{
		{Name: "客服部企业微信群", Kind: channel.KindWeCom, Department: "客服部", Enabled: true, Webhook: robot.URL + "/send?key=good"},
		{Name: "客服部钉钉群", Kind: channel.KindDingTalk, Department: "客服部", Enabled: true, Webhook: robot.URL + "/send?access_token=bad", Secret: "SECx"},
	} {
		ch, err := s.Channels.Save(ctx, "hr", nil, in)
		if err != nil {
			t.Fatal(err)
		}
		chanID = ch.ID
		if err := s.Channels.Test(ctx, ch, channel.Message{Title: "测试消息", Text: "测试"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Channels.Deliver(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	hrUser, err := s.Training.UserByLogin(ctx, "hr")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Auth.CreateToken(ctx, hrUser, hrUser, auth.TokenSpec{Name: "报表脚本", Scopes: []string{auth.ScopeReportsRead}}); err != nil {
		t.Fatal(err)
	}

	for _, lang := range []string{model.LangZH, model.LangEN} {
		for _, width := range []int64{375, 1280} {
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				b := newBrowser(t, base)
				b.keep = true // the screenshots of every page are the look to review
				b.acceptLanguage(lang)
				b.do("screen", chromedp.EmulateViewport(width, 900))
				check := func(name string) {
					t.Helper()
					b.wait("main")
					b.fitsWidth(width)
					if key := rawKey.FindString(b.text("body")); key != "" {
						b.fail("%s shows the raw locale key %q", name, key)
					}
					if banner := b.text("#demo-banner"); !strings.Contains(banner, map[string]string{model.LangZH: "演示数据", model.LangEN: "Demo data"}[lang]) {
						b.fail("%s does not say it shows demo data: %q", name, banner)
					}
					b.axeCheck(name)
					b.snap(fmt.Sprintf("%s-%s-%d", name, lang, width))
				}
				login := b.login
				b.open("/login")
				check("login")
				b.open("/verify")
				check("verify-form")
				b.open("/verify/" + cert.Code)
				check("verify")
				b.open("/no-such-page")
				check("not-found")

				login("new")
				check("password")
				b.submit(`form[action="/logout"] button`, 200)

				login("mid")
				check("training")
				b.open("/lessons/attendance")
				check("lesson")
				b.submit(`form[action="/lessons/attendance/attempts"] button`, 200)
				check("quiz")
				b.submit(`form.quiz button[type="submit"]`, 200)
				check("result")
				b.open("/lessons/grooming")
				check("lesson-done")
				b.open("/certificate")
				check("certificate-not-yet")
				b.submit(`form[action="/logout"] button`, 200)

				login("done")
				check("training-reack")
				b.open("/lessons/dress")
				check("lesson-changed")
				b.open("/lessons/dress/acknowledge")
				check("acknowledge")
				b.open("/receipts")
				check("receipts")
				b.open("/receipts/" + receiptID)
				check("receipt")
				b.open("/lessons/nope")
				check("lesson-not-found")
				b.submit(`form[action="/logout"] button`, 200)

				login("boss")
				b.open("/team")
				check("team")
				b.open("/people/mid")
				check("person")
				b.open("/notifications")
				check("notifications")
				b.open("/organisation")
				check("forbidden")
				b.submit(`form[action="/logout"] button`, 200)

				login("hr")
				b.open("/organisation")
				check("organisation")
				b.open("/team?department=" + url.QueryEscape("客服部"))
				check("team-department")
				b.open("/hr/channels")
				check("hr-channels")
				b.open("/hr/channels/new")
				check("hr-channel-new")
				b.open("/hr/channels/" + chanID)
				check("hr-channel")
				b.open("/hr/channels/deliveries")
				check("hr-deliveries")
				b.open("/tokens")
				check("tokens")
			})
		}
	}
	checkLog(t, s)
}

// markDemo marks the database in dir as "portal demo"'s, before a portal
// starts on it.
func markDemo(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if err := storage.New(db.Database).MarkDemo(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
}
