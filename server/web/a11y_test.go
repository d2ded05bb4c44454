package web_test

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/channel"
	"conductportal/server/database"
	"conductportal/server/locale"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"github.com/chromedp/chromedp"
)

// rawKey matches a locale key shown instead of its text: any word.word of
// a namespace the catalogs use (so a new namespace is checked as well).
var rawKey = func() *regexp.Regexp {
	seen := map[string]bool{}
	var spaces []string
	for _, k := range locale.Keys(model.LangZH) {
		if ns, _, ok := strings.Cut(k, "."); ok && !seen[ns] {
			seen[ns] = true
			spaces = append(spaces, regexp.QuoteMeta(ns))
		}
	}
	slices.Sort(spaces)
	return regexp.MustCompile(`\b(` + strings.Join(spaces, "|") + `)\.[a-z_.]+[a-z]\b`)
}()

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
	needChromium(t)
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
	// Someone with the second step on: their login asks for the code.
	two, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "two", Name: "双重", Password: firstPass})
	if err != nil {
		t.Fatal(err)
	}
	testkit.EnrolSecondFactor(t, s, two)
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
	// An open invitation (SSO is on here, so none is sent: the link is
	// made directly).
	invitee, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: "invitee", Name: "受邀者", NoPassword: true})
	if err != nil {
		t.Fatal(err)
	}
	const inviteTok = "a11y-invitation-token-a11y-invitation-token"
	sum := sha256.Sum256([]byte(inviteTok))
	if err := s.Store.CreateInvitation(ctx, &model.Invitation{ID: hex.EncodeToString(sum[:]), UserID: invitee.ID, Login: invitee.Login,
		Created: time.Now().UTC(), Expires: time.Now().UTC().Add(auth.InvitationTTL)}); err != nil {
		t.Fatal(err)
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
		ch, err := s.Channels.Save(ctx, model.Actor{Login: "hr"}, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		chanID = ch.ID
		if err := s.Channels.Test(ctx, model.Actor{Login: "hr"}, ch, channel.Message{Title: "测试消息", Text: "测试"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Channels.Deliver(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	hrUser, err := s.Auth.UserByLogin(ctx, "hr")
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
				b.open("/invite/" + inviteTok)
				check("invite")
				b.open("/invite/no-such-invitation")
				check("invite-invalid")

				login("new")
				check("password")
				b.submit(`form[action="/logout"] button`, 200)

				login("mid")
				check("training")
				b.open("/lessons/attendance")
				check("lesson")
				b.submit(`form[action="/lessons/attendance/attempts"] button`, 200)
				check("quiz")
				// Nothing answered: the form asks first, naming the blanks.
				b.submit(`#quiz-submit`, 422)
				check("quiz-unanswered")
				if n := b.count("fieldset.question.unanswered"); n == 0 {
					b.fail("the refused quiz marks no question as blank")
				}
				b.submit(`#quiz-submit-anyway`, 200)
				check("result")
				b.open("/lessons/grooming")
				check("lesson-done")
				b.open("/certificate")
				check("certificate-not-yet")
				b.submit(`form[action="/logout"] button`, 200)

				// Setting up the second step, from its first page, as someone new to it.
				enrolling := fmt.Sprintf("setup-%s-%d", strings.ToLower(lang), width)
				if _, err := s.Auth.CreateUser(ctx, auth.NewUser{Login: enrolling, Name: "设置", Password: firstPass}); err != nil {
					t.Fatal(err)
				}
				login(enrolling)
				b.open("/mfa/setup")
				check("mfa-setup")
				b.submit(`form[action="/mfa/setup/start"] button`, 200)
				check("mfa-setup-scan")
				b.submit(`form[action="/logout"] button`, 200)

				login("done")
				check("training-reack")
				b.open("/certificate")
				check("certificate-pending")
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
				check("home-manager")
				b.open("/team")
				check("team")
				b.matrixFits(width)
				b.open("/team/remind")
				check("team-remind")
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
				b.matrixFits(width)
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
				b.open("/hr/people/invitee")
				check("hr-person-invited")
				// Asking first: nothing is deactivated until confirmed.
				b.submit(`form[action="/hr/people/invitee/deactivate"] button`, 200)
				check("confirm-deactivate")
				b.open("/hr/people/new")
				check("hr-person-new")
				b.open("/hr/people/import")
				check("hr-import")
				b.open("/hr/audit")
				check("hr-audit")
				b.submit(`form[action="/logout"] button`, 200)

				login("two")
				b.wantPath("/login/mfa")
				check("mfa-login")
			})
		}
	}
	checkLog(t, s)
}

// matrixFits fails when the team matrix scrolls sideways on a desktop
// screen (on a phone it may: its name and action columns stay in view).
func (b *browser) matrixFits(width int64) {
	b.t.Helper()
	if width < 1280 {
		return
	}
	over := run(b, "matrix width", chromedp.Evaluate[int64](`(() => { const w = document.querySelector('.matrix-wrap'); return w.scrollWidth - w.clientWidth })()`))
	if over > 0 {
		b.fail("the team matrix is %d px wider than its box at %d px", over, width)
	}
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
