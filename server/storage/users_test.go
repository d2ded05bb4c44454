package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestUserByLogin checks the login lookup that reads by a remembered _id:
// it finds each person, and when a restore gives a login another _id (the
// remembered one now missing, or naming someone else) it finds the right
// account, never the wrong one.
func TestUserByLogin(t *testing.T) {
	p := testkit.Store(t)
	accounts := auth.New(p.Store, p.Clock.Now)
	ctx := context.Background()
	ids := map[string]string{}
	for _, login := range []string{"zhao.yi", "qian.er", "sun.san"} {
		u, err := accounts.CreateUser(ctx, auth.NewUser{Login: login, Name: login, Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		ids[login] = u.ID
	}
	for round := range 2 { // the first round scans, the second reads by _id
		for login, id := range ids {
			u, err := p.Store.UserByLogin(ctx, login)
			if err != nil || u.ID != id || u.Login != login {
				t.Fatalf("round %d: %s: %v %+v", round, login, err, u)
			}
		}
	}
	if _, err := p.Store.UserByLogin(ctx, "nobody"); !isNotFound(err) {
		t.Fatalf("an unknown login: %v", err)
	}

	// As a restore might: zhao.yi's document comes back under a new _id,
	// and qian.er's old _id now holds sun.san.
	users := p.DB.Database.Collection("users")
	move := func(login, newID string) {
		t.Helper()
		var doc bson.M
		if err := users.FindOne(ctx, bson.M{"login": login}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if _, err := users.DeleteOne(ctx, bson.M{"_id": doc["_id"]}); err != nil {
			t.Fatal(err)
		}
		doc["_id"] = newID
		if _, err := users.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	move("zhao.yi", "restored-zhao")
	move("qian.er", "restored-qian")
	move("sun.san", ids["qian.er"])
	p.Store.DropCaches() // as restore does
	for login := range ids {
		if _, err := p.Store.UserByLogin(ctx, login); err != nil {
			t.Fatal(err)
		}
	}
	// Now the remembered ids are restored-zhao, restored-qian and qian.er's
	// first _id (for sun.san). Another restore: sun.san moves on, and
	// zhao.yi takes the _id remembered for sun.san, so that id now names
	// the wrong person; qian.er stays.
	move("sun.san", "sun-again")
	move("zhao.yi", ids["qian.er"])
	p.Store.ForgetKept() // the documents read above are forgotten; the remembered ids stay
	want := map[string]string{"zhao.yi": ids["qian.er"], "qian.er": "restored-qian", "sun.san": "sun-again"}
	for login, id := range want {
		u, err := p.Store.UserByLogin(ctx, login)
		if err != nil || u.ID != id || u.Login != login {
			t.Errorf("%s after its _id changed: %v %+v, want _id %s", login, err, u, id)
		}
	}
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, model.ErrNotFound) }

// BenchmarkUserByLogin compares a login lookup by the remembered _id with
// the scan FerretDB makes for {login: ...}, on 10,000 users.
func BenchmarkUserByLogin(b *testing.B) {
	p := testkit.Store(b)
	ctx := context.Background()
	users := p.DB.Database.Collection("users")
	var docs []any
	for i := range 10000 {
		docs = append(docs, bson.M{"_id": fmt.Sprintf("bench-%d", i), "login": fmt.Sprintf("user.%d", i), "name": "员工",
			"roles": bson.A{"employee"}, "department": fmt.Sprintf("部门%d", i%50), "manager": fmt.Sprintf("user.%d", i/30*30),
			"password_hash": strings.Repeat("x", 97), "active": true, "lang": "zh-CN"})
	}
	if _, err := users.InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	if _, err := p.DB.IndexEmbeddedIDs(ctx, "users"); err != nil {
		b.Fatal(err)
	}
	lookup := func(b *testing.B, drop bool) {
		for i := 0; b.Loop(); i++ {
			if drop {
				p.Store.DropCaches()
			}
			if _, err := p.Store.UserByLogin(ctx, fmt.Sprintf("user.%d", i%10000)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("scan", func(b *testing.B) { lookup(b, true) })
	b.Run("remembered", func(b *testing.B) {
		if _, err := p.Store.Users(ctx); err != nil { // learns every login
			b.Fatal(err)
		}
		lookup(b, false)
	})
}

// TestHasUsers: an empty database has no user (the first start then
// makes the admin); one user is enough.
func TestHasUsers(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	store := storage.New(db.Database)
	store.SetSoleWriter()
	if some, err := store.HasUsers(ctx); err != nil || some {
		t.Fatalf("empty database: %v %v, want no user", some, err)
	}
	if err := store.CreateUser(ctx, &model.User{ID: "u1", Login: "zhao.yi", Name: "Zhao Yi"}); err != nil {
		t.Fatal(err)
	}
	if some, err := store.HasUsers(ctx); err != nil || !some {
		t.Fatalf("one user: %v %v, want some", some, err)
	}
}
