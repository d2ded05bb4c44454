package cli_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/notify"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// within polls cond until it holds, and fails the test when it still does
// not after limit: what one instance changes must show on the other by then.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pair is one person's browser on two instances: one cookie jar (cookies
// do not depend on the port), two base addresses.
func pair(t *testing.T, a, b *testkit.Portal) (*browser, *browser) {
	jar, _ := cookiejar.New(nil)
	mk := func(base string) *browser {
		return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	return mk(a.Base), mk(b.Base)
}

func loginAs(t *testing.T, br *browser, login string) {
	t.Helper()
	expect(t, br.post("/login", "/login", url.Values{"login": {login}, "password": {"correct horse battery"}}), http.StatusSeeOther, "/")
}

// TestSeveralInstances runs two portals on one database, as behind a load
// balancer: a session started on one works on the other, and a logout,
// deactivation, role change, publish or signature on one shows on the
// other within 5 s; the reminder job run on both sends each reminder once
// in all.
func TestSeveralInstances(t *testing.T) {
	ps := testkit.StartShared(t, 2, io.Discard)
	a, b := ps[0], ps[1]
	ctx := context.Background()
	const limit = 5 * time.Second

	emp := createUser(t, a, "li.na", "李娜", false)
	onA, onB := pair(t, a, b)
	loginAs(t, onA, "li.na")
	if got := onB.get("/"); got.status != http.StatusOK || !strings.Contains(got.body, "我的培训") {
		t.Fatalf("a session from instance A on instance B: %d %.300s", got.status, got.body)
	}

	// A version published on A is what B serves.
	testkit.PublishChange(t, a.Training, "dress", model.ChangeMinor,
		map[string]string{model.LangZH: "多实例测试新增的一句。", model.LangEN: "A sentence added by the instances test."})
	within(t, limit, "version published on A served by B", func() bool {
		return strings.Contains(onB.get("/lessons/dress").body, "多实例测试新增的一句。")
	})

	// A signature on A is in B's reports (its cache of everyone's progress).
	if _, err := b.Store.AllProgress(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.Complete(t, a.Training, emp, "attendance")
	within(t, limit, "a signature on A in B's reports", func() bool {
		all, err := b.Store.AllProgress(ctx)
		return err == nil && all[emp.ID].Lessons["attendance"].AckVersion == 1
	})

	// Logout on A ends the session on B.
	expect(t, onA.post("/", "/logout", nil), http.StatusSeeOther, "")
	within(t, limit, "logout on A seen by B", func() bool {
		got := onB.get("/")
		return got.status == http.StatusSeeOther && strings.HasPrefix(got.location, "/login")
	})

	// Deactivation on A ends the person's sessions on B.
	loginAs(t, onA, "li.na")
	if got := onB.get("/"); got.status != http.StatusOK {
		t.Fatalf("second session on B: %d", got.status)
	}
	if err := a.Auth.Deactivate(ctx, emp); err != nil {
		t.Fatal(err)
	}
	within(t, limit, "deactivation on A seen by B", func() bool {
		got := onB.get("/")
		return got.status == http.StatusSeeOther && strings.HasPrefix(got.location, "/login")
	})

	// A role taken away on A closes the HR area on B.
	hr, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: "zhao.hr", Name: "赵人事", Roles: []string{model.RoleHR},
		Password: "correct horse battery", Hired: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	hrA, hrB := pair(t, a, b)
	loginAs(t, hrA, "zhao.hr")
	if got := hrB.get("/hr/lessons"); got.status != http.StatusOK {
		t.Fatalf("HR area on B: %d %s", got.status, got.location)
	}
	// B's reports cache the people directory: warm it, so the test
	// proves that B notices A's change rather than loading it first.
	if _, err := b.Reports.Organisation(ctx, "zh-CN"); err != nil {
		t.Fatal(err)
	}
	hr.Roles = []string{model.RoleManager}
	if err := a.Store.UpdateUser(ctx, hr); err != nil {
		t.Fatal(err)
	}
	within(t, limit, "role change on A seen by B", func() bool {
		return hrB.get("/hr/lessons").status == http.StatusForbidden
	})
	within(t, limit, "role change on A in B's people directory", func() bool {
		d, err := b.Reports.Directory(ctx)
		return err == nil && d.ByLogin("zhao.hr") != nil && slices.Equal(d.ByLogin("zhao.hr").Roles, []string{model.RoleManager})
	})

	// People added on A after B loaded its directory: the job on both
	// instances at once reminds each of them once in all.
	boss := createUser(t, a, "wang.qiang", "王强", false)
	for _, login := range []string{"new.one", "new.two", "new.three"} {
		if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Manager: boss.Login,
			Password: "correct horse battery", Hired: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	within(t, limit, "people added on A in B's people directory", func() bool {
		d, err := b.Reports.Directory(ctx)
		return err == nil && d.ByLogin("new.three") != nil
	})
	when := time.Now().AddDate(0, 0, 60) // everyone long overdue: reminders and escalations
	var wg sync.WaitGroup
	sent := make([]notify.Sent, 4)
	for i := range sent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := ps[i%2]
			var err error
			if sent[i], err = p.Notify.Run(ctx, when); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	stored := 0
	for _, s := range sent {
		stored += s.Stored
	}
	n, err := a.DB.Database.Collection("notifications").CountDocuments(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	escalations, err := a.DB.Database.Collection("notifications").CountDocuments(ctx,
		bson.M{"user_id": boss.ID, "kind": model.NotifyEscalation})
	if err != nil {
		t.Fatal(err)
	}
	// Each run saw every reminder due: stored by one, found by the others.
	for i, s := range sent {
		if int64(s.Stored+s.Already) != n {
			t.Errorf("run %d on instance %d saw %d reminders of %d", i, i%2, s.Stored+s.Already, n)
		}
	}
	if n == 0 || int64(stored) != n || escalations == 0 {
		t.Fatalf("reminder job on two instances: stored %d in all (%+v), %d notifications, %d escalations to the manager",
			stored, sent, n, escalations)
	}
}
