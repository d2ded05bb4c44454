package notify_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/authoring"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/testkit"
)

// TestRemindersResolveAndPublishAsksToSign: a manager's reminder names the
// manager by name; it stays unread until the last lesson it asked for is
// signed, then it is read and the bell is back at 0. A publish that asks
// for a new signature tells each person who signed the old version, in
// their inbox, from the portal in their language; nobody else; signing
// answers that message too.
func TestRemindersResolveAndPublishAsksToSign(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	boss, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "wang.qiang", Name: "王强", Password: "a-long-password-1", Roles: []string{model.RoleManager}})
	if err != nil {
		t.Fatal(err)
	}
	li, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "li.na", Name: "李娜", Password: "a-long-password-1", Manager: "wang.qiang"})
	if err != nil {
		t.Fatal(err)
	}
	newcomer, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "xin.ren", Name: "新人", Password: "a-long-password-1", Manager: "wang.qiang"})
	if err != nil {
		t.Fatal(err)
	}
	unread := func(u *model.User) int {
		t.Helper()
		fresh, err := p.Store.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fresh.Unread
	}
	inbox := func(u *model.User) []model.Notification {
		t.Helper()
		ns, err := p.Notify.Inbox(ctx, u, false)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	lessons, err := p.Store.Lessons(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if sent, err := p.Notify.RemindPerson(ctx, boss, "li.na", ""); err != nil || sent.Stored != 1 {
		t.Fatalf("remind: %+v %v", sent, err)
	}
	ns := inbox(li)
	if len(ns) != 1 || ns[0].Read || unread(li) != 1 {
		t.Fatalf("after the reminder: %+v, unread %d", ns, unread(li))
	}
	_, body, _ := notify.Text(model.LangZH, &ns[0], lessons)
	if !strings.HasPrefix(body, "王强提醒你") || strings.Contains(body, "wang.qiang") {
		t.Errorf("the reminder reads %q, want it to name 王强, not the login", body)
	}
	if got := notify.Sender(model.LangEN, &ns[0]); got != "王强" {
		t.Errorf("sender %q, want the manager's name", got)
	}

	sts, err := p.Training.Standings(ctx, li)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range sts {
		testkit.Complete(t, p.Training, li, st.Lesson.Slug)
		ns := inbox(li)
		if last := i == len(sts)-1; ns[0].Read != last || unread(li) != map[bool]int{false: 1, true: 0}[last] {
			t.Fatalf("after signing %d of %d lessons: read %v, unread %d", i+1, len(sts), ns[0].Read, unread(li))
		}
	}

	// A new version to sign: li.na, who signed the old one, hears of it;
	// the newcomer, who has not signed it yet, does not.
	_, d, _, err := p.Authoring.Draft(ctx, "dress")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for lang, f := range d.Files {
		files[lang] = strings.TrimRight(f, "\n") + "\n\n新增一句。\n"
	}
	if _, probs, err := p.Authoring.SaveFiles(ctx, "hr", "dress", files, d.Quiz); err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	res, probs, err := p.Authoring.Publish(ctx, authoring.PublishRequest{Slug: "dress", Kind: model.ChangeReack, Note: "n", GraceDays: 10, Actor: "hr"})
	if err != nil || len(probs) > 0 {
		t.Fatal(probs, err)
	}
	p.Notify.Wait()
	if lessons, err = p.Store.Lessons(ctx); err != nil {
		t.Fatal(err)
	}
	ns = inbox(li)
	if len(ns) != 2 || ns[0].Kind != model.NotifyResign || ns[0].Read || unread(li) != 1 {
		t.Fatalf("after the publish li.na has %+v, unread %d; want an unread sign-again message", ns, unread(li))
	}
	title, body, link := notify.Text(model.LangZH, &ns[0], lessons)
	if title != "请重新签署：着装规范" || !strings.Contains(body, "第 2 版") || link != "/lessons/dress" {
		t.Errorf("sign-again message: %q / %q / %q", title, body, link)
	}
	if ns[0].Version != res.Version {
		t.Errorf("message names version %d, want %d", ns[0].Version, res.Version)
	}
	if zh, en := notify.Sender(model.LangZH, &ns[0]), notify.Sender(model.LangEN, &ns[0]); zh != "培训系统" || en != "the training portal" {
		t.Errorf("the portal's messages come from %q / %q", zh, en)
	}
	if ns := inbox(newcomer); len(ns) != 0 {
		t.Errorf("someone who never signed the lesson got %+v", ns)
	}
	// Publishing hears of it once: again (a retry) stores nothing more.
	p.Notify.Announce(ctx, "dress", res.Version)
	p.Notify.Wait()
	if n := len(inbox(li)); n != 2 {
		t.Errorf("a repeated announcement left %d messages, want 2", n)
	}

	testkit.Complete(t, p.Training, li, "dress")
	if ns := inbox(li); !ns[0].Read || unread(li) != 0 {
		t.Errorf("after signing again: read %v, unread %d", ns[0].Read, unread(li))
	}
}
