package report

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"conductportal/server/model"
)

// The directory's binary searches find every user by login and by _id,
// whatever order the users came in, and nobody for a login or _id no one
// has.
func TestDirectoryLookups(t *testing.T) {
	var users []*model.User
	for i := range 1000 {
		users = append(users, &model.User{ID: model.NewID(), Login: fmt.Sprintf("u%d.%d", rand.IntN(1000), i)})
	}
	want := append([]*model.User(nil), users...)
	rand.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
	d := newDirectory(users)
	for _, u := range want {
		if got := d.ByLogin(u.Login); got != u {
			t.Fatalf("ByLogin(%s) = %v, want %v", u.Login, got, u)
		}
		if got := d.ByID(u.ID); got != u {
			t.Fatalf("ByID(%s) = %v, want %v", u.ID, got, u)
		}
	}
	for i := 1; i < len(d.Users); i++ {
		if d.Users[i-1].Login >= d.Users[i].Login {
			t.Fatalf("Users not by login at %d: %s, %s", i, d.Users[i-1].Login, d.Users[i].Login)
		}
	}
	if d.ByLogin("nobody") != nil || d.ByID(model.NewID()) != nil || d.ByLogin("") != nil || d.ByID("") != nil {
		t.Error("someone found for a login or _id nobody has")
	}
	if e := newDirectory(nil); e.ByLogin("x") != nil || e.ByID("x") != nil {
		t.Error("an empty directory finds someone")
	}
}
