package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/testkit"
)

// TestLinkSSOExactlyOnce races bindings: several provider accounts for one
// portal account, and one provider account for several portal accounts.
// Each time exactly one binding is made and both of its documents agree.
func TestLinkSSOExactlyOnce(t *testing.T) {
	p := testkit.Store(t)
	accounts := auth.New(p.Store, p.Clock.Now)
	ctx := context.Background()
	const n = 8
	var users []*model.User
	for i := range n {
		u, err := accounts.CreateUser(ctx, auth.NewUser{Login: fmt.Sprintf("person.%d", i), Name: "P", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	const iss = "https://idp.example.com"
	race := func(bind func(i int) (bool, error)) (made []int, errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := bind(i)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					made = append(made, i)
				}
				if err != nil {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		return made, errs
	}

	// n provider accounts claim person.0 at once.
	made, errs := race(func(i int) (bool, error) {
		return p.Store.LinkSSO(ctx, users[0].ID, iss, fmt.Sprintf("sub-%d", i), time.Now())
	})
	if len(made) != 1 || len(errs) != n-1 {
		t.Fatalf("made %v, errors %v", made, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, model.ErrBoundElsewhere) {
			t.Errorf("a losing provider account: %v", err)
		}
	}
	winner := fmt.Sprintf("sub-%d", made[0])
	if l, err := p.Store.SSOLinkOfUser(ctx, users[0].ID); err != nil || l.Sub != winner {
		t.Errorf("person.0 is bound to %+v %v, want %s", l, err, winner)
	}
	for i := range n {
		l, err := p.Store.SSOLinkBySubject(ctx, iss, fmt.Sprintf("sub-%d", i))
		if i == made[0] && (err != nil || l.UserID != users[0].ID) {
			t.Errorf("the winner's subject: %+v %v", l, err)
		}
		if i != made[0] && !errors.Is(err, model.ErrNotFound) {
			t.Errorf("a loser's subject sub-%d is bound: %+v %v", i, l, err)
		}
	}
	// Binding it again as it is changes nothing and is no error.
	if ok, err := p.Store.LinkSSO(ctx, users[0].ID, iss, winner, time.Now()); ok || err != nil {
		t.Errorf("binding again: %v %v", ok, err)
	}

	// One provider account claims person.1 to person.7 at once.
	made, errs = race(func(i int) (bool, error) {
		if i == 0 {
			return false, nil
		}
		return p.Store.LinkSSO(ctx, users[i].ID, iss, "shared", time.Now())
	})
	if len(made) != 1 || len(errs) != n-2 {
		t.Fatalf("made %v, errors %v", made, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, model.ErrDuplicate) {
			t.Errorf("a losing account: %v", err)
		}
	}
	for i := 1; i < n; i++ {
		_, err := p.Store.SSOLinkOfUser(ctx, users[i].ID)
		if bound := err == nil; bound != (i == made[0]) {
			t.Errorf("person.%d bound=%v (%v), winner is person.%d", i, bound, err, made[0])
		}
	}

	// Unbinding frees both sides.
	if ok, err := p.Store.UnlinkSSO(ctx, users[0].ID); !ok || err != nil {
		t.Fatalf("unlink: %v %v", ok, err)
	}
	if _, err := p.Store.SSOLinkBySubject(ctx, iss, winner); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the subject is still bound: %v", err)
	}
	if ok, err := p.Store.LinkSSO(ctx, users[0].ID, iss, "sub-new", time.Now()); !ok || err != nil {
		t.Errorf("binding after unlink: %v %v", ok, err)
	}
	if ok, err := p.Store.UnlinkSSO(ctx, users[2].ID); (ok != (made[0] == 2)) || err != nil {
		t.Errorf("unlink of person.2: %v %v", ok, err)
	}
}

// TestRenameUser: a rename keeps the old login among the former ones and
// moves the people managed to the new login; a taken login is refused and
// changes nothing.
func TestRenameUser(t *testing.T) {
	p := testkit.Store(t)
	accounts := auth.New(p.Store, p.Clock.Now)
	ctx := context.Background()
	boss, err := accounts.CreateUser(ctx, auth.NewUser{Login: "old.boss", Name: "B", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	staff, err := accounts.CreateUser(ctx, auth.NewUser{Login: "staff", Name: "S", Manager: "old.boss", Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Store.UserByLogin(ctx, "old.boss"); err != nil { // remembered by _id
		t.Fatal(err)
	}
	if err := p.Store.RenameUser(ctx, boss.ID, "old.boss", "staff"); !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("rename to a taken login: %v", err)
	}
	if u, _ := p.Store.User(ctx, boss.ID); u.Login != "old.boss" || len(u.FormerLogins) != 0 {
		t.Fatalf("a refused rename changed the account: %+v", u)
	}
	if err := p.Store.RenameUser(ctx, boss.ID, "old.boss", "new.boss"); err != nil {
		t.Fatal(err)
	}
	u, err := p.Store.UserByLogin(ctx, "new.boss")
	if err != nil || u.ID != boss.ID || !slices.Equal(u.FormerLogins, []string{"old.boss"}) {
		t.Fatalf("after the rename: %+v %v", u, err)
	}
	if _, err := p.Store.UserByLogin(ctx, "old.boss"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("the old login still finds someone: %v", err)
	}
	if s, _ := p.Store.User(ctx, staff.ID); s.Manager != "new.boss" {
		t.Errorf("the report's manager is %q", s.Manager)
	}
	// A rename from a login the account no longer has is refused.
	if err := p.Store.RenameUser(ctx, boss.ID, "old.boss", "third"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("stale rename: %v", err)
	}
}
