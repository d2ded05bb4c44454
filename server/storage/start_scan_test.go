package storage_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
)

// commandCounter counts a database's commands by "command collection".
type commandCounter struct {
	mu    sync.Mutex
	n     map[string]int
	after func(cmd, coll string) // when set, called after each command is counted
}

func (c *commandCounter) observe(cmd, coll string, _ time.Duration, _ bool) {
	c.mu.Lock()
	c.n[cmd+" "+coll]++
	after := c.after
	c.mu.Unlock()
	if after != nil {
		after(cmd, coll)
	}
}

func (c *commandCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

// openCounted opens a migrated embedded database whose commands cnt
// counts.
func openCounted(t *testing.T) (*database.DB, *commandCounter, *slog.Logger) {
	t.Helper()
	ctx := context.Background()
	cnt := &commandCounter{n: map[string]int{}}
	log := slog.New(slog.DiscardHandler)
	db, err := database.Open(ctx, database.Options{DataDir: filepath.Join(t.TempDir(), "data"), Logger: log, Observe: cnt.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close(context.Background()) })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	if _, err := db.IndexEmbeddedIDs(ctx); err != nil {
		t.Fatal(err)
	}
	return db, cnt, log
}

// TestStartScansUsersOnce: a sole writer's start-up loads (LoadDirectory,
// then LoadKept) read the users in one find, which feeds both the
// directory and the users cache; afterwards a person, their login, the
// directory and a search ask the users collection nothing, the person
// comes with their password and second factor, and the directory's
// answers come without them.
func TestStartScansUsersOnce(t *testing.T) {
	ctx := context.Background()
	db, cnt, log := openCounted(t)
	seed := storage.New(db.Database)
	now := time.Now()
	const people = 120
	users := make([]model.User, people)
	for i := range users {
		users[i] = model.User{ID: model.NewID(), Login: fmt.Sprintf("p.%03d", i), Name: fmt.Sprintf("人%03d", i),
			Roles: []string{model.RoleEmployee}, Department: "客服部", Active: true, Hired: now, Created: now}
	}
	if err := seed.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	who := users[7]
	if err := seed.SetPassword(ctx, who.ID, "hash-of-p007", false); err != nil {
		t.Fatal(err)
	}
	if err := seed.SetMFA(ctx, who.ID, model.MFA{Enabled: true, Secret: "sealed", Recovery: []string{"r1"}}); err != nil {
		t.Fatal(err)
	}

	st := storage.New(db.Database)
	st.SetSoleWriter()
	cnt.take()
	if err := st.LoadDirectory(ctx, log); err != nil {
		t.Fatal(err)
	}
	k, err := st.LoadKept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k.Users != people {
		t.Errorf("LoadKept kept %d users, want %d", k.Users, people)
	}
	if got := cnt.take(); got["find users"] != 1 || got["getMore users"] != 0 {
		t.Errorf("the start read the users with %d finds and %d getMores, want one find", got["find users"], got["getMore users"])
	}

	u, err := st.User(ctx, who.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != "hash-of-p007" || !u.MFA.Enabled || u.MFA.Secret != "sealed" || len(u.MFA.Recovery) != 1 {
		t.Errorf("the kept user lost their secrets: %+v", u)
	}
	if u, err := st.UserByLogin(ctx, who.Login); err != nil || u.ID != who.ID || u.PasswordHash != "hash-of-p007" {
		t.Errorf("UserByLogin: %v, %v", u, err)
	}
	dir, err := st.UserDirectory(ctx)
	if err != nil || len(dir) != people {
		t.Fatalf("the directory: %d users, %v", len(dir), err)
	}
	found, _, err := st.SearchUsers(ctx, model.UserSearch{Q: "p.007"})
	if err != nil || len(found) != 1 {
		t.Fatalf("search: %v, %v", found, err)
	}
	byLogin, err := st.UsersByLogin(ctx, []string{who.Login})
	if err != nil || byLogin[who.Login] == nil {
		t.Fatalf("UsersByLogin: %v, %v", byLogin, err)
	}
	for _, d := range []*model.User{&dir[7], &found[0], byLogin[who.Login]} {
		if d.ID != who.ID || d.Name != who.Name {
			t.Errorf("the directory gave %s/%s, want %s", d.ID, d.Name, who.ID)
		}
		if d.PasswordHash != "" || d.MFA.Enabled || d.MFA.Secret != "" || d.MFA.Recovery != nil {
			t.Errorf("the directory gave a secret: %+v", d)
		}
	}
	if got := cnt.take(); got["find users"] != 0 || got["getMore users"] != 0 {
		t.Errorf("reads after the start asked the users: %v", got)
	}
	// A secret's write reaches the next read.
	if err := st.SetPassword(ctx, who.ID, "new-hash", true); err != nil {
		t.Fatal(err)
	}
	if u, err := st.User(ctx, who.ID); err != nil || u.PasswordHash != "new-hash" || !u.MustChangePassword || !u.MFA.Enabled {
		t.Errorf("after a new password: %+v, %v", u, err)
	}
	// A write still reaches both: the directory's copy changes, the
	// person's password stays.
	changed := who
	changed.Name = "新名字"
	if err := st.UpdateUser(ctx, &changed); err != nil {
		t.Fatal(err)
	}
	if u, err := st.User(ctx, who.ID); err != nil || u.Name != "新名字" || u.PasswordHash != "new-hash" {
		t.Errorf("after an update: %+v, %v", u, err)
	}
	if got, err := st.UsersByLogin(ctx, []string{who.Login}); err != nil || got[who.Login].Name != "新名字" {
		t.Errorf("the directory after an update: %v, %v", got, err)
	}
}

// TestEventsOfReadsOnlyTheirs: a sole writer with its receipt index
// loaded gives a few users' events (the start's progress check) from
// reads by _id of their own receipts and results, not scans of every
// receipt and result, and the same events, in chain order, as a scan.
func TestEventsOfReadsOnlyTheirs(t *testing.T) {
	ctx := context.Background()
	db, cnt, _ := openCounted(t)
	st := storage.New(db.Database)
	st.SetSoleWriter()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	ids := map[string]string{} // the receipt index knows ids of model.NewID's form only
	id := func(name string) string {
		if ids[name] == "" {
			ids[name] = model.NewID()
		}
		return ids[name]
	}
	receipt := func(user string, seq int) {
		t.Helper()
		r := &model.Receipt{ID: model.NewID(), UserID: id(user), Login: "l-" + user, Lesson: "l", Version: 1,
			Cycle: seq, At: t0.Add(time.Duration(seq) * time.Minute), Seq: seq, Hash: fmt.Sprintf("h-%s-%d", user, seq)}
		if err := st.CreateReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, seq := range []int{3, 1, 2} { // stored out of chain order
		receipt("u1", seq)
	}
	receipt("u2", 1)
	for i := range 40 { // others' receipts, which a scan would read too
		receipt(fmt.Sprintf("other%02d", i), 1)
	}
	a := &model.Attempt{ID: model.NewID(), UserID: id("u1"), Lesson: "l", Version: 1, Started: t0}
	if err := st.CreateAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	a.Submitted, a.At, a.Score, a.PassMark, a.Passed = true, t0.Add(time.Minute), 100, 80, true
	if ok, err := st.SubmitAttempt(ctx, a); err != nil || !ok {
		t.Fatalf("submit: %v, %v", ok, err)
	}
	if _, err := st.LoadKept(ctx); err != nil { // the receipt index
		t.Fatal(err)
	}
	cnt.take()
	users := []string{id("u1"), id("u2"), id("u3")}
	got, err := st.EventsOf(ctx, users)
	if err != nil {
		t.Fatal(err)
	}
	if n := cnt.take(); n["find receipts"] != 4 || n["find attempt_results"] != 1 {
		t.Errorf("EventsOf of 3 people with 4 receipts and 1 result: %v, want a find by _id of each", n)
	}
	want, err := storage.New(db.Database).EventsOf(ctx, users) // not a sole writer: scans
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if g, w := fmt.Sprintf("%+v", *got[u]), fmt.Sprintf("%+v", *want[u]); g != w {
			t.Errorf("events of %s:\n got %s\nwant %s", u, g, w)
		}
	}
	if r := got[id("u1")].Receipts; len(r) != 3 || r[0].Seq != 1 || r[1].Seq != 2 || r[2].Seq != 3 {
		t.Errorf("u1's receipts out of chain order: %+v", r)
	}
	if at := got[id("u1")].Attempts; len(at) != 1 || !at[0].Submitted || at[0].Score != 100 {
		t.Errorf("u1's attempts: %+v", at)
	}
}

// TestRecentEventUsersOfGradedAttempts: the users of the latest graded
// results are found from their attempts (read by _id), besides the users
// of the latest started attempts.
func TestRecentEventUsersOfGradedAttempts(t *testing.T) {
	ctx := context.Background()
	db, _, _ := openCounted(t)
	st := storage.New(db.Database)
	st.SetSoleWriter()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	graded := &model.Attempt{ID: model.NewID(), UserID: "graded-late", Lesson: "l", Version: 1, Started: t0}
	open := &model.Attempt{ID: model.NewID(), UserID: "started-late", Lesson: "l", Version: 1, Started: t0.Add(time.Hour)}
	for _, a := range []*model.Attempt{graded, open} {
		if err := st.CreateAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	graded.Submitted, graded.At, graded.Score, graded.PassMark, graded.Passed = true, t0.Add(2*time.Hour), 100, 80, true
	if ok, err := st.SubmitAttempt(ctx, graded); err != nil || !ok {
		t.Fatalf("submit: %v, %v", ok, err)
	}
	got, err := st.RecentEventUsers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[started-late graded-late]" {
		t.Errorf("users of the latest attempt and the latest graded result: %v, want [started-late graded-late]", got)
	}
}

// TestDirectoryLoadMissesNoSecretWrite: a password written while the
// directory's load scans the users (after the scan read the old one) is
// what the next read gives, not the load's old copy.
func TestDirectoryLoadMissesNoSecretWrite(t *testing.T) {
	ctx := context.Background()
	var (
		mu    sync.Mutex
		armed func()
	)
	db, cnt, log := openCounted(t)
	seed := storage.New(db.Database)
	now := time.Now()
	users := make([]model.User, 1500) // more than one batch of the scan
	for i := range users {
		users[i] = model.User{ID: model.NewID(), Login: fmt.Sprintf("p.%04d", i), Name: "人", Roles: []string{model.RoleEmployee},
			Active: true, Hired: now, Created: now, PasswordHash: "old-hash"}
	}
	if err := seed.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	first := users[0] // stored first: in the scan's first batch
	st := storage.New(db.Database)
	st.SetSoleWriter()
	cnt.after = func(cmd, coll string) {
		mu.Lock()
		fn := armed
		if cmd == "find" && coll == "users" {
			armed = nil
		}
		mu.Unlock()
		if fn != nil && cmd == "find" && coll == "users" {
			fn()
		}
	}
	mu.Lock()
	armed = func() {
		if err := st.SetPassword(ctx, first.ID, "new-hash", false); err != nil {
			t.Error(err)
		}
	}
	mu.Unlock()
	if err := st.LoadDirectory(ctx, log); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	fired := armed == nil
	mu.Unlock()
	if !fired {
		t.Fatal("the load's scan was not seen")
	}
	if u, err := st.User(ctx, first.ID); err != nil || u.PasswordHash != "new-hash" {
		t.Errorf("after a password written during the load: %q, %v", u.PasswordHash, err)
	}
	if u, err := st.User(ctx, users[1].ID); err != nil || u.PasswordHash != "old-hash" {
		t.Errorf("another user: %q, %v", u.PasswordHash, err)
	}
}
