package notify_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/channel"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// The channel service audits its own changes, with who and from where;
// when the entry cannot be stored the change fails, saying it is made.
func TestChannelChangesAuditThemselves(t *testing.T) {
	robot := startRobot(t, "", ok)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_SECRET_KEY": strings.Repeat("11", 32)})
	ctx := context.Background()
	by := model.Actor{Login: "hr", Client: "192.0.2.7"}
	in := channel.Input{Name: "群", Kind: channel.KindWeCom, Enabled: true, Webhook: robot.srv.URL + "/send?key=k1"}
	ch, err := p.Channels.Save(ctx, by, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Audit.Search(ctx, model.AuditFilter{Action: "channel.create"}, 10)
	if err != nil || len(got) != 1 || got[0].Actor != "hr" || got[0].Client != "192.0.2.7" || got[0].Target != "群" || got[0].Detail != channel.Detail(ch) {
		t.Fatalf("channel.create entries: %+v %v", got, err)
	}
	testkit.RefuseAudit(t, p.DB)
	in.Enabled = false
	if _, err := p.Channels.Save(ctx, by, ch, in); err == nil || !strings.Contains(err.Error(), "channel.update 群 is done but its audit entry is not stored") {
		t.Fatalf("update with the audit log refusing: %v", err)
	}
	if stored, err := p.Channels.Channel(ctx, ch.ID); err != nil || stored.Enabled {
		t.Fatalf("the update should be stored as the error says: %+v %v", stored, err)
	}
	if err := p.Channels.Test(ctx, by, ch, channel.Message{Title: "t", Text: "x"}); err == nil || !strings.Contains(err.Error(), "channel.test 群 is done") {
		t.Fatalf("test message with the audit log refusing: %v", err)
	}
	if err := p.Channels.Delete(ctx, by, ch); err == nil || !strings.Contains(err.Error(), "channel.delete 群 is done") {
		t.Fatalf("delete with the audit log refusing: %v", err)
	}
}

// A reminder is audited by the service that sends it; when the entry
// cannot be stored the call fails, saying the reminder is sent.
func TestReminderFailsWhenAuditFails(t *testing.T) {
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
	testkit.RefuseAudit(t, p.DB)
	sent, err := p.Notify.RemindPerson(ctx, boss, "li.na", "192.0.2.7")
	if err == nil || !strings.Contains(err.Error(), "remind.person li.na is done but its audit entry is not stored") {
		t.Fatalf("remind with the audit log refusing: %+v %v", sent, err)
	}
	if ns, err := p.Notify.Inbox(ctx, li, false); err != nil || len(ns) != 1 || sent.Stored != 1 {
		t.Fatalf("the reminder should be sent as the error says: %+v %+v %v", sent, ns, err)
	}
}
