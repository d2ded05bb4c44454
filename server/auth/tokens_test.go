package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/secret"
	"conductportal/server/storage"
)

func newAuthStore(t testing.TB) (*auth.Service, *storage.Storage, *clock) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Migrate(ctx, log); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	st := storage.New(db.Database)
	a := auth.New(st, c.Now)
	box, err := secret.NewBox(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a.SetSecrets(box)
	return a, st, c
}

func mkUser(t *testing.T, a *auth.Service, login string, roles ...string) *model.User {
	t.Helper()
	u, err := a.CreateUser(context.Background(), auth.NewUser{Login: login, Name: login, Roles: roles, Password: "token test password"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestTokenScopesAndExpiry: scopes never exceed the roles, only admins
// make tokens for others, an expired or revoked token says so, only the
// owner or an admin revokes, and a token made before scopes keeps working.
func TestTokenScopesAndExpiry(t *testing.T) {
	a, st, c := newAuthStore(t)
	ctx := context.Background()
	emp, mgr := mkUser(t, a, "emp", model.RoleEmployee), mkUser(t, a, "mgr", model.RoleManager)
	hr, root := mkUser(t, a, "hr", model.RoleHR), mkUser(t, a, "root", model.RoleAdmin)

	for u, want := range map[*model.User][]string{
		emp:  {auth.ScopeLearner},
		mgr:  {auth.ScopeLearner, auth.ScopeReportsRead},
		hr:   auth.Scopes,
		root: {auth.ScopeLearner, auth.ScopeUsersRead, auth.ScopeUsersWrite, auth.ScopeContentRead, auth.ScopeContentWrite, auth.ScopeAuditRead, auth.ScopeSCIM},
	} {
		if got := auth.ScopesFor(u); !slices.Equal(got, want) {
			t.Errorf("scopes of %s: %v, want %v", u.Login, got, want)
		}
	}
	if _, _, err := a.CreateToken(ctx, emp, emp, auth.TokenSpec{Name: "x", Scopes: []string{auth.ScopeReportsRead}}); !errors.Is(err, auth.ErrTokenSpec) {
		t.Errorf("beyond the roles: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, emp, hr, auth.TokenSpec{Name: "x"}); !errors.Is(err, auth.ErrForbidden) {
		t.Errorf("an employee's token for HR: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, emp, emp, auth.TokenSpec{Name: " "}); !errors.Is(err, auth.ErrTokenSpec) {
		t.Errorf("no name: %v", err)
	}
	// Empty scopes: everything the roles allow.
	_, all, err := a.CreateToken(ctx, nil, mgr, auth.TokenSpec{Name: "cli"})
	if err != nil || !slices.Equal(all.Scopes, auth.ScopesFor(mgr)) || all.CreatedBy != "cli" {
		t.Fatalf("default scopes: %+v %v", all, err)
	}

	tok, it, err := a.CreateToken(ctx, root, hr, auth.TokenSpec{Name: "sync", Scopes: []string{auth.ScopeUsersWrite}, TTL: 24 * time.Hour})
	if err != nil || it.CreatedBy != "root" || it.ID == tok {
		t.Fatalf("integration token: %+v %v", it, err)
	}
	u, got, err := a.TokenUser(ctx, tok)
	if err != nil || u.ID != hr.ID || !auth.TokenAllows(got, auth.ScopeUsersWrite) || auth.TokenAllows(got, auth.ScopeUsersRead) {
		t.Fatalf("use: %v %+v %v", u, got, err)
	}
	c.add(25 * time.Hour)
	if _, _, err := a.TokenUser(ctx, tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("after its expiry: %v", err)
	}

	// Revoking: the owner or an admin; a prefix too short names nothing.
	tok2, t2, _ := a.CreateToken(ctx, hr, hr, auth.TokenSpec{Name: "mine"})
	if _, err := a.RevokeToken(ctx, emp, t2.Ref(), ""); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("another's revoke: %v", err)
	}
	if _, err := a.RevokeToken(ctx, hr, t2.Ref()[:4], ""); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("a short ref: %v", err)
	}
	if _, err := a.RevokeToken(ctx, root, t2.Ref(), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TokenUser(ctx, tok2); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("revoked: %v", err)
	}

	// A token stored before scopes existed acts with everything the roles allow.
	const legacy = "cp_legacy-token-made-by-an-older-portal"
	h := sha256.Sum256([]byte(legacy))
	if err := st.CreateAPIToken(ctx, &model.APIToken{ID: hex.EncodeToString(h[:]), UserID: hr.ID, Name: "old", Created: c.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, lt, err := a.TokenUser(ctx, legacy); err != nil || !auth.TokenAllows(lt, auth.ScopeContentWrite) {
		t.Errorf("legacy token: %+v %v", lt, err)
	}

	for in, want := range map[string]time.Duration{"": 0, "never": 0, "90d": 90 * 24 * time.Hour, "12h": 12 * time.Hour} {
		if got, err := auth.ParseTTL(in); err != nil || got != want {
			t.Errorf("ParseTTL(%q) = %v %v", in, got, err)
		}
	}
	for _, in := range []string{"-1d", "soon", "1000d", "0h"} {
		if _, err := auth.ParseTTL(in); err == nil {
			t.Errorf("ParseTTL(%q) accepted", in)
		}
	}
}

// TestSync: rows are matched by login; an invalid row changes nothing and
// is named with its field; deactivating the absent happens only when asked
// and every row is valid, and spares admins and the caller; a listed
// person who was turned off is turned on again.
func TestSync(t *testing.T) {
	a, st, _ := newAuthStore(t)
	ctx := context.Background()
	hr, root := mkUser(t, a, "hr", model.RoleHR), mkUser(t, a, "root", model.RoleAdmin)
	gone := mkUser(t, a, "gone")
	back := mkUser(t, a, "back")
	if err := a.Deactivate(ctx, back); err != nil {
		t.Fatal(err)
	}
	row := func(login, name string, roles ...string) auth.SyncRow {
		return auth.SyncRow{Person: auth.Person{Login: login, Name: name, Roles: roles}}
	}
	rows := []auth.SyncRow{
		row("new", "新人"),
		{Person: auth.Person{Login: "dated", Name: "日期"}, Err: errors.New("hired must be a date"), Field: "hired"},
		row("bad login!", "坏"),
		row("new", "又一个"),
		row("boss", "老板", model.RoleAdmin),
		row("back", "回来"),
	}
	rep, err := a.Sync(ctx, hr, model.Origin{}, rows, true)
	if err != nil {
		t.Fatal(err)
	}
	var statuses, fields []string
	for _, r := range rep.Results {
		statuses = append(statuses, r.Status)
		fields = append(fields, r.Field)
	}
	if want := []string{"created", "invalid", "invalid", "invalid", "invalid", "reactivated"}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	if want := []string{"", "hired", "login", "login", "roles", ""}; !slices.Equal(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	for _, login := range []string{"dated", "boss"} {
		if _, err := st.UserByLogin(ctx, login); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("invalid row %s was stored: %v", login, err)
		}
	}
	if u, _ := st.UserByLogin(ctx, "gone"); !u.Active {
		t.Error("deactivated although rows were invalid")
	}

	// All valid, twice: absent people turned off once; admins and the caller spared.
	for run := range 2 {
		rep, err = a.Sync(ctx, hr, model.Origin{}, []auth.SyncRow{row("new", "新人"), row("back", "回来")}, true)
		if err != nil {
			t.Fatal(err)
		}
		statuses = statuses[:0]
		for _, r := range rep.Results {
			statuses = append(statuses, r.Login+":"+r.Status)
		}
		want := []string{"new:unchanged", "back:unchanged", "gone:deactivated"}
		if run == 1 {
			want = want[:2]
		}
		if !slices.Equal(statuses, want) {
			t.Errorf("run %d: %v, want %v", run, statuses, want)
		}
	}
	for _, u := range []*model.User{hr, root, gone} {
		got, _ := st.User(ctx, u.ID)
		if got.Active != (u != gone) {
			t.Errorf("%s active: %v", u.Login, got.Active)
		}
	}
}

// TestDeactivationRevokesTokens: a deactivated account's tokens are
// revoked, so a sync that turns the account on again (a rehire) does not
// bring them back; tokens of others stay.
func TestDeactivationRevokesTokens(t *testing.T) {
	a, _, _ := newAuthStore(t)
	ctx := context.Background()
	hr, leaver, other := mkUser(t, a, "hr", model.RoleHR), mkUser(t, a, "leaver"), mkUser(t, a, "other")
	tok, _, err := a.CreateToken(ctx, leaver, leaver, auth.TokenSpec{Name: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _, err := a.CreateToken(ctx, other, other, auth.TokenSpec{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DeactivateBy(ctx, hr, model.Origin{}, leaver); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TokenUser(ctx, tok); err == nil {
		t.Fatal("a deactivated account's token works")
	}
	rep, err := a.Sync(ctx, hr, model.Origin{}, []auth.SyncRow{{Person: auth.Person{Login: "leaver", Name: "leaver"}}}, false)
	if err != nil || rep.Results[0].Status != auth.SyncReactivated {
		t.Fatalf("rehire by sync: %v %+v", err, rep)
	}
	if _, _, err := a.TokenUser(ctx, tok); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("the rehired account's old token: %v, want revoked", err)
	}
	if _, _, err := a.TokenUser(ctx, otherTok); err != nil {
		t.Errorf("another account's token: %v", err)
	}
}

// TestIntegrationTokensCannotLearn: an admin cannot make a token that
// acknowledges lessons as someone else (the learner scope signs receipts
// in the person's name); the person, or the console, can.
func TestIntegrationTokensCannotLearn(t *testing.T) {
	a, _, _ := newAuthStore(t)
	ctx := context.Background()
	emp, hr, root := mkUser(t, a, "emp"), mkUser(t, a, "hr", model.RoleHR), mkUser(t, a, "root", model.RoleAdmin)
	if _, _, err := a.CreateToken(ctx, root, emp, auth.TokenSpec{Name: "as emp", Scopes: []string{auth.ScopeLearner}}); !errors.Is(err, auth.ErrTokenSpec) {
		t.Errorf("an admin's learner token for an employee: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, root, emp, auth.TokenSpec{Name: "as emp"}); !errors.Is(err, auth.ErrTokenSpec) {
		t.Errorf("an admin's default token for an employee: %v", err)
	}
	_, it, err := a.CreateToken(ctx, root, hr, auth.TokenSpec{Name: "sync"})
	if err != nil || slices.Contains(it.Scopes, auth.ScopeLearner) || !slices.Contains(it.Scopes, auth.ScopeUsersWrite) {
		t.Errorf("an admin's default token for HR: %+v %v", it, err)
	}
	if _, own, err := a.CreateToken(ctx, emp, emp, auth.TokenSpec{Name: "mine"}); err != nil || !slices.Equal(own.Scopes, []string{auth.ScopeLearner}) {
		t.Errorf("the person's own: %+v %v", own, err)
	}
	if _, cli, err := a.CreateToken(ctx, nil, emp, auth.TokenSpec{Name: "console"}); err != nil || !slices.Equal(cli.Scopes, []string{auth.ScopeLearner}) {
		t.Errorf("the console's: %+v %v", cli, err)
	}
}

// TestSyncListingAdminsAsTheyAre: an HR caller's full list names the
// admin exactly as stored: that row is unchanged, not invalid, so absent
// people are still turned off; a row that would change the admin is
// still refused.
func TestSyncListingAdminsAsTheyAre(t *testing.T) {
	a, _, _ := newAuthStore(t)
	ctx := context.Background()
	hr, root := mkUser(t, a, "hr", model.RoleHR), mkUser(t, a, "root", model.RoleAdmin)
	mkUser(t, a, "gone")
	rows := []auth.SyncRow{
		{Person: auth.Person{Login: "hr", Name: "hr", Roles: []string{model.RoleHR}}},
		{Person: auth.Person{Login: "root", Name: "root", Roles: []string{model.RoleAdmin}}},
	}
	rep, err := a.Sync(ctx, hr, model.Origin{}, rows, true)
	if err != nil || rep.Invalid != 0 || rep.Results[1].Status != auth.SyncUnchanged {
		t.Fatalf("the admin as stored: %v %+v", err, rep)
	}
	if last := rep.Results[len(rep.Results)-1]; last.Login != "gone" || last.Status != auth.SyncDeactivated {
		t.Errorf("the absent person: %+v", rep.Results)
	}
	rows[1].Person = auth.Person{Login: "root", Name: "Root Renamed", Roles: []string{model.RoleAdmin}}
	rep, err = a.Sync(ctx, hr, model.Origin{}, rows, false)
	if err != nil || rep.Invalid != 1 || rep.Results[1].Field != "roles" {
		t.Errorf("a change to the admin by HR: %v %+v", err, rep)
	}
	if u, _ := a.UserByID(ctx, root.ID); u.Name != "root" {
		t.Errorf("HR renamed the admin: %q", u.Name)
	}
}

// TestSharedPasswordHash: accounts created from one precomputed hash all
// log in with that password; a hash not made by HashPassword, or given
// together with a password, is refused and stores nothing.
func TestSharedPasswordHash(t *testing.T) {
	a, st, _ := newAuthStore(t)
	ctx := context.Background()
	hash, err := auth.HashPassword("demo password 2026")
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"zhang.wei", "li.na"} {
		if _, err := a.CreateUser(ctx, auth.NewUser{Login: login, Name: login, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		if u, err := a.Login(ctx, login, "demo password 2026"); err != nil || u.Login != login {
			t.Fatalf("login %s with the shared password: %v", login, err)
		}
		if _, err := a.Login(ctx, login, "another password"); err == nil {
			t.Fatalf("%s logged in with a wrong password", login)
		}
	}
	for _, nu := range []auth.NewUser{
		{Login: "bad.hash", Name: "x", PasswordHash: "$2a$12$notargon"},
		{Login: "both", Name: "x", PasswordHash: hash, Password: "demo password 2026"},
	} {
		if _, err := a.CreateUser(ctx, nu); err == nil {
			t.Errorf("CreateUser(%s) took a bad hash", nu.Login)
		}
		if _, err := st.UserByLogin(ctx, nu.Login); !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s was stored: %v", nu.Login, err)
		}
	}
}

// A sole writer keeps tokens in memory (as sessions): a kept token still
// expires at its time, and a revocation refuses it at its next use.
func TestKeptTokenExpiresAndRevokes(t *testing.T) {
	a, st, c := newAuthStore(t)
	st.SetSoleWriter()
	ctx := context.Background()
	hr := mkUser(t, a, "hr", model.RoleHR)
	short, _, err := a.CreateToken(ctx, nil, hr, auth.TokenSpec{Name: "short", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	long, lt, err := a.CreateToken(ctx, nil, hr, auth.TokenSpec{Name: "long"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{short, long, short, long} { // the second use is from memory
		if _, _, err := a.TokenUser(ctx, tok); err != nil {
			t.Fatalf("use: %v", err)
		}
	}
	c.add(time.Hour + time.Second)
	if _, _, err := a.TokenUser(ctx, short); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("a kept token after its expiry: %v", err)
	}
	if _, _, err := a.TokenUser(ctx, long); err != nil {
		t.Fatalf("the other token: %v", err)
	}
	if _, err := a.RevokeToken(ctx, nil, lt.Ref(), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TokenUser(ctx, long); !errors.Is(err, auth.ErrTokenRevoked) {
		t.Errorf("a kept token after its revocation: %v", err)
	}
}
