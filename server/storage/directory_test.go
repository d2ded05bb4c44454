package storage_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// canon is what the directory says of a user, times as the database keeps
// them, empty lists as none.
func canon(u *model.User) string {
	ex := make([]string, 0, len(u.Exceptions))
	for slug, e := range u.Exceptions {
		ex = append(ex, fmt.Sprintf("%s:%v/%s/%s", slug, e.Exempt, e.Until.UTC().Truncate(time.Millisecond), e.Reason))
	}
	sort.Strings(ex)
	return fmt.Sprintf("%s|%s|%v|%s|%v|%s|%s|%s|%s|%s|%s|%s|%s|%v|%s|%s|%v", u.ID, u.Login, u.FormerLogins, u.Name, u.Roles, u.Department,
		u.Manager, u.Manages, u.Email, u.Mobile, u.WeComID, u.DingTalkID, u.Lang, u.Active, u.ExternalID,
		u.Hired.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano), ex)
}

func directoryText(t *testing.T, s *storage.Storage) string {
	t.Helper()
	users, err := s.UserDirectory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]string, len(users))
	for i := range users {
		lines[i] = canon(&users[i])
	}
	return strings.Join(lines, "\n")
}

// TestDirectoryFollowsEveryUserWrite makes each kind of user write storage
// has, some of them at once with searches (run it with -race), then
// compares the in-memory directory with one loaded afresh from the
// database: a write path that forgot the directory leaves a difference.
func TestDirectoryFollowsEveryUserWrite(t *testing.T) {
	p := testkit.Store(t)
	ctx := context.Background()
	st := p.Store
	now := time.Now()
	mk := func(login, dept, manager string) model.User {
		return model.User{ID: model.NewID(), Login: login, Name: "名" + login, Roles: []string{model.RoleEmployee},
			Department: dept, Manager: manager, Active: true, Hired: now, Created: now}
	}
	one := mk("boss", "总部", "")
	if err := st.CreateUser(ctx, &one); err != nil {
		t.Fatal(err)
	}
	var seeded []model.User
	for i := range 40 {
		seeded = append(seeded, mk(fmt.Sprintf("seed.%02d", i), fmt.Sprintf("部门%d", i%4), "boss"))
	}
	if err := st.ImportUsers(ctx, seeded); err != nil {
		t.Fatal(err)
	}
	invited := []model.User{mk("inv.a", "前台", "boss"), mk("inv.b", "前台", "")}
	if err := st.CreateUsersInvited(ctx, invited, nil); err != nil {
		t.Fatal(err)
	}
	// A taken login changes nothing.
	dup := mk("boss", "x", "")
	if err := st.CreateUser(ctx, &dup); err == nil {
		t.Fatal("a second boss was stored")
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(seeded); i += 4 {
				u := seeded[i]
				u.Department, u.Name, u.Email = "新部门", u.Name+"!", u.Login+"@example.com"
				if err := st.UpdateUser(ctx, &u); err != nil {
					t.Error(err)
				}
				if _, _, err := st.SearchUsers(ctx, model.UserSearch{Q: "seed", Limit: 7}); err != nil {
					t.Error(err)
				}
				if _, err := st.UsersByLogin(ctx, []string{u.Login, "boss", "nobody"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SetUserActive(ctx, seeded[1].ID, false))
	must(st.SetUserLang(ctx, seeded[2].ID, "en"))
	must(st.SetException(ctx, seeded[3].ID, "dress", &model.Exception{Exempt: true, Reason: "制服", By: "hr", At: now}))
	must(st.SetException(ctx, seeded[4].ID, "dress", &model.Exception{Until: now.Add(48 * time.Hour), Reason: "休假", By: "hr", At: now}))
	must(st.SetException(ctx, seeded[4].ID, "dress", nil))
	must(st.SetUserExternalID(ctx, seeded[5].ID, "ext-5"))
	must(st.RenameUser(ctx, one.ID, "boss", "big.boss")) // also repoints the 41 people boss managed

	got := directoryText(t, st)
	st.DropCaches() // the next read loads the directory from the database
	want := directoryText(t, st)
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Errorf("in memory: %s\nstored:    %s", gl[i], wl[i])
			}
		}
		t.Fatalf("the directory in memory differs from the database (%d against %d people)", len(gl), len(wl))
	}
	if !strings.Contains(want, "big.boss|[boss]") || strings.Count(want, "|big.boss|") != 42 {
		t.Errorf("the rename is not in the directory:\n%s", want)
	}
	if _, err := st.UserByLogin(ctx, "boss"); !isNotFound(err) {
		t.Errorf("the old login still finds someone: %v", err)
	}
}

// TestSearchUsers pages a search by login, with words, a department and
// the active filter.
func TestSearchUsers(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard) // the whole portal: its admin is among "everyone"
	ctx := context.Background()
	var users []model.User
	for i := range 120 {
		users = append(users, model.User{ID: model.NewID(), Login: fmt.Sprintf("p%03d", i), Name: fmt.Sprintf("员工%03d", i),
			Roles: []string{model.RoleEmployee}, Department: []string{"前台", "客房", "Kitchen"}[i%3], Manager: fmt.Sprintf("m%d", i%2), Active: i%10 != 0})
	}
	if err := p.Store.ImportUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	all := func(q model.UserSearch) []string {
		t.Helper()
		var out []string
		for page := 0; ; page++ {
			got, more, err := p.Store.SearchUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) > q.Limit || (more && len(got) != q.Limit) {
				t.Fatalf("page %d: %d people, more %v", page, len(got), more)
			}
			for _, u := range got {
				out = append(out, u.Login)
			}
			if !more {
				return out
			}
			q.After = got[len(got)-1].Login
		}
	}
	if got := all(model.UserSearch{Limit: 50}); len(got) != 121 || !sort.StringsAreSorted(got) { // and the admin
		t.Errorf("everyone: %d %v", len(got), got)
	}
	if got := all(model.UserSearch{Q: "KITCHEN m1", Limit: 7}); len(got) != 20 {
		t.Errorf("kitchen of m1: %d %v", len(got), got)
	}
	off := false
	if got := all(model.UserSearch{Department: "前台", Active: &off, Limit: 3}); strings.Join(got, ",") != "p000,p030,p060,p090" {
		t.Errorf("inactive at 前台: %v", got)
	}
	if got := all(model.UserSearch{Q: "员工11", Limit: 50}); strings.Join(got, ",") != "p110,p111,p112,p113,p114,p115,p116,p117,p118,p119" {
		t.Errorf("by name: %v", got)
	}
	if got := all(model.UserSearch{Q: "nobody", Limit: 50}); len(got) != 0 {
		t.Errorf("no match: %v", got)
	}
}
