package storage_test

import (
	"context"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"conductportal/server/auth"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"
)

// TestDirectoryChoices: the departments in use and the managers (by role
// or named as someone's manager), each once and sorted, the same from a
// sole writer's memory and from the database as a sharing instance reads.
func TestDirectoryChoices(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	for _, nu := range []auth.NewUser{
		{Login: "boss", Name: "王经理", Roles: []string{model.RoleManager}, Department: "前台"},
		{Login: "emp", Name: "员工", Department: "客房", Manager: "chief"},
		{Login: "chief", Name: "总监", Department: "前台"},
		{Login: "new", Name: "新人"},
	} {
		nu.Password = "choices password"
		if _, err := p.Auth.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	want := model.DirectoryChoices{Departments: []string{"前台", "客房"},
		Managers: []model.PersonChoice{{Login: "boss", Name: "王经理"}, {Login: "chief", Name: "总监"}}}
	for name, s := range map[string]*storage.Storage{"index": p.Store, "query": storage.New(p.DB.Database)} {
		got, err := s.DirectoryChoices(ctx)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v %v", name, got, err)
		}
	}
}
