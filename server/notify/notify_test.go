package notify_test

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	portal "conductportal"
	"conductportal/server/auth"
	"conductportal/server/lesson"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/report"
	"conductportal/server/testkit"
	"conductportal/server/training"

	"github.com/emersion/go-smtp"
)

// message is one email the test's SMTP server received.
type message struct {
	from    string
	to      []string
	subject string
	body    string
}

// mailbox is a real SMTP server on a loopback port.
type mailbox struct {
	mu   sync.Mutex
	msgs []message
	addr string
}

func startSMTP(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

func (mb *mailbox) all() []message {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]message(nil), mb.msgs...)
}

type session struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, message{from: s.from, to: s.to, subject: subject, body: string(body)})
	s.mb.mu.Unlock()
	return nil
}

func addUser(t *testing.T, p *testkit.Portal, nu auth.NewUser) *model.User {
	t.Helper()
	nu.Password = "correct horse battery"
	u, err := p.Auth.CreateUser(context.Background(), nu)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestReminderJob moves the clock: a new hire is reminded before the
// first due date, nobody twice, even with two instances running the job
// at once; once they are M days overdue their manager hears of it, by
// notification and by email with a link to the person's page.
func TestReminderJob(t *testing.T) {
	mb := startSMTP(t)
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{
		"PORTAL_SMTP_URL": "smtp://" + mb.addr + "?from=training@example.com", "PORTAL_REMIND_DAYS": "3",
		"PORTAL_ESCALATE_DAYS": "7", "PORTAL_BASE_URL": "https://portal.example.com",
	})
	testkit.BackdateLessons(t, p)
	ctx := context.Background()
	boss := addUser(t, p, auth.NewUser{Login: "wang.qiang", Name: "王强", Roles: []string{model.RoleManager}, Email: "wang.qiang@example.com",
		Hired: time.Now().AddDate(-1, 0, 0)}) // long overdue, but has no manager to tell
	now := time.Now()
	hire := addUser(t, p, auth.NewUser{Login: "li.na", Name: "李娜", Manager: boss.Login, Email: "li.na@example.com", Hired: now})
	addUser(t, p, auth.NewUser{Login: "no.mail", Name: "无邮箱", Manager: boss.Login, Hired: now})

	// Day 0: attendance is due in 3 days, inside the reminder window; the
	// other lessons (7 days) are not yet.
	sent, err := p.Notify.Run(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// Three people joined today: the two hires and the first start's admin.
	if sent.Stored != 3 {
		t.Fatalf("day 0: stored %d reminders, want 3 (one per person hired today): %+v", sent.Stored, sent)
	}
	p.Notify.Wait()
	msgs := mb.all()
	if len(msgs) != 1 {
		t.Fatalf("day 0: %d emails, want 1 (the hire without an address gets none): %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.from != "training@example.com" || len(m.to) != 1 || m.to[0] != "li.na@example.com" {
		t.Errorf("reminder envelope: from %q to %q", m.from, m.to)
	}
	if !strings.HasPrefix(m.subject, "培训将于") || !strings.Contains(m.body, "https://portal.example.com/lessons/attendance") ||
		!strings.Contains(m.body, "李娜，你好") {
		t.Errorf("reminder email: subject %q body %q", m.subject, m.body)
	}

	// The same day again, and two instances at once: nothing new.
	other := notify.New(p.Store, p.Reports, nil, notify.Config{RemindDays: 3, EscalateDays: 7}, p.Log, nil)
	var wg sync.WaitGroup
	results := make([]notify.Sent, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := p.Notify
			if i%2 == 1 {
				svc = other
			}
			var err error
			if results[i], err = svc.Run(ctx, now.Add(time.Hour)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.Stored != 0 {
			t.Errorf("run %d on the same day stored %d", i, r.Stored)
		}
	}

	// Day 4: every lesson is now within 3 days of its due date; two
	// instances race on the new reminders and exactly one of each is stored.
	day4 := now.AddDate(0, 0, 4)
	var stored sync.Map
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := p.Notify
			if i%2 == 1 {
				svc = other
			}
			r, err := svc.Run(ctx, day4)
			if err != nil {
				t.Error(err)
			}
			stored.Store(i, r.Stored)
		}()
	}
	wg.Wait()
	total := 0
	stored.Range(func(_, v any) bool { total += v.(int); return true })
	if total != 3 {
		t.Errorf("day 4: %d reminders stored by four racing runs, want 3 (one per person)", total)
	}
	p.Notify.Wait()
	inbox, err := p.Store.Notifications(ctx, hire.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(inbox) != 2 {
		t.Fatalf("the hire has %d notifications, want 2: %+v", len(inbox), inbox)
	}
	if u, _ := p.Store.User(ctx, hire.ID); u.Unread != 2 {
		t.Errorf("unread count %d, want 2", u.Unread)
	}

	// Attendance was due on day 3: overdue by 7 days on day 10. No
	// escalation on day 9, one on day 10, none again on day 11.
	for _, c := range []struct {
		days       int
		escalated  int
		wantEmails int
	}{{9, 0, 0}, {10, 1, 2}, {11, 0, 0}} { // day 10: one email per hire, both to the manager
		before := len(mb.all())
		if _, err := p.Notify.Run(ctx, now.AddDate(0, 0, c.days)); err != nil {
			t.Fatal(err)
		}
		p.Notify.Wait()
		got, err := p.Store.Notifications(ctx, boss.ID, 20)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range got {
			if g.Kind == model.NotifyEscalation && g.AboutLogin == "li.na" {
				n++
			}
		}
		if want := min(1, c.escalated+max(0, c.days-10)); n != want {
			t.Errorf("day %d: %d escalations about li.na, want %d", c.days, n, want)
		}
		if emails := len(mb.all()) - before; emails != c.wantEmails {
			t.Errorf("day %d: %d emails, want %d", c.days, emails, c.wantEmails)
		}
	}
	got, err := p.Store.Notifications(ctx, boss.ID, 20)
	if err != nil {
		t.Fatal(err)
	}
	var esc []model.Notification
	for _, g := range got {
		if g.Kind == model.NotifyEscalation {
			esc = append(esc, g)
		}
	}
	// Both hires are escalated (the one without email in the app only).
	if len(esc) != 2 {
		t.Fatalf("the manager has %d escalations, want 2: %+v", len(esc), esc)
	}
	var escMail *message
	for _, m := range mb.all() {
		if strings.HasPrefix(m.subject, "逾期上报") {
			if escMail != nil && strings.Contains(m.subject, "李娜") && strings.Contains(escMail.subject, "李娜") {
				t.Errorf("escalation about 李娜 mailed twice")
			}
			mm := m
			if strings.Contains(m.subject, "李娜") {
				escMail = &mm
			}
		}
	}
	if escMail == nil {
		t.Fatal("no escalation email about 李娜")
	}
	if len(escMail.to) != 1 || escMail.to[0] != "wang.qiang@example.com" || escMail.subject != "逾期上报：李娜" ||
		!strings.Contains(escMail.body, "https://portal.example.com/people/li.na") || !strings.Contains(escMail.body, "考勤") {
		t.Errorf("escalation email: to %q subject %q body %q", escMail.to, escMail.subject, escMail.body)
	}
	// Every stored email outcome was recorded.
	for _, n := range esc {
		if n.AboutLogin == "li.na" && n.Emailed.IsZero() {
			t.Errorf("escalation %s: email not recorded: %+v", n.ID, n)
		}
	}
}

// TestExpiringSignatures: with a 12-month validity, the person is reminded
// a few days before their signature ages out, and the team view lists it
// as expiring within 30 days (and the filter keeps only such people).
func TestExpiringSignatures(t *testing.T) {
	p := testkit.StartEnv(t, filepath.Join(t.TempDir(), "data"), io.Discard, map[string]string{"PORTAL_REMIND_DAYS": "3"})
	ctx := context.Background()
	b, _ := training.LoadBundle(portal.Assets)
	for _, bl := range b.Lessons {
		if bl.Slug != "dress" {
			continue
		}
		docs := map[string]*lesson.Doc{}
		for lang, d := range bl.Docs {
			c := *d
			c.ValidMonths = 12
			docs[lang] = &c
		}
		if _, err := p.Training.Publish(ctx, training.PublishRequest{Slug: "dress", Docs: docs, QuizSource: bl.QuizSource, Author: "hr"}); err != nil {
			t.Fatal(err)
		}
	}
	boss := addUser(t, p, auth.NewUser{Login: "boss", Name: "老板", Roles: []string{model.RoleManager}})
	u := addUser(t, p, auth.NewUser{Login: "zhou", Name: "周", Manager: boss.Login, Hired: time.Now()})
	other := addUser(t, p, auth.NewUser{Login: "wu", Name: "吴", Manager: boss.Login, Hired: time.Now()})
	r := testkit.Complete(t, p.Training, u, "dress")
	testkit.Complete(t, p.Training, other, "grooming")
	expires := r.At.AddDate(1, 0, 0)

	count := func(at time.Time) int {
		t.Helper()
		if _, err := p.Notify.Run(ctx, at); err != nil {
			t.Fatal(err)
		}
		inbox, err := p.Notify.Inbox(ctx, u, false)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range inbox {
			if m.Kind == model.NotifyDueSoon && slices.Contains(m.Lessons, "dress") && m.Due.Equal(expires) {
				n++
			}
		}
		return n
	}
	if n := count(expires.AddDate(0, 0, -10)); n != 0 {
		t.Fatalf("10 days before the expiry: %d reminders", n)
	}
	if n := count(expires.AddDate(0, 0, -2)); n != 1 {
		t.Fatalf("2 days before the expiry: %d reminders, want 1", n)
	}
	if n := count(expires.AddDate(0, 0, -1)); n != 1 {
		t.Fatalf("the next day: %d reminders, want still 1", n)
	}

	for _, tc := range []struct {
		at       time.Time
		expiring int
	}{{expires.AddDate(0, -2, 0), 0}, {expires.AddDate(0, 0, -20), 1}} {
		rep := report.New(p.Store, nil, func() time.Time { return tc.at })
		team, err := rep.Team(ctx, report.Scope{Manager: boss.Login}, report.Filter{Expiring: true})
		if err != nil {
			t.Fatal(err)
		}
		if team.Total.Expiring != tc.expiring || len(team.Rows) != tc.expiring {
			t.Fatalf("at %v: %d expiring in %d rows, want %d", tc.at, team.Total.Expiring, len(team.Rows), tc.expiring)
		}
		if tc.expiring == 1 {
			row := team.Rows[0]
			var cell report.Cell
			for _, c := range row.Cells {
				if c.Slug == "dress" {
					cell = c
				}
			}
			if row.Login != "zhou" || !cell.Expiring || !cell.Expires.Equal(expires) {
				t.Fatalf("expiring row: %+v %+v", row, cell)
			}
			tbl := report.TeamTable(team, "zh-CN")
			if last := tbl.Header[len(tbl.Header)-1]; last != "30 天内到期" || tbl.Rows[0][len(tbl.Header)-1] != 1 {
				t.Fatalf("export header: %v, row %v", tbl.Header, tbl.Rows[0])
			}
		}
	}
}
