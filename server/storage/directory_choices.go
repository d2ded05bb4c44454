package storage

import (
	"context"
	"slices"
	"strings"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DirectoryChoices returns the departments people are in and the managers
// (anyone with the manager role or named as someone's manager), sorted,
// for the account form to offer. A sole writer reads its in-memory
// directory; instances sharing a database read the users' few fields.
func (s *Storage) DirectoryChoices(ctx context.Context) (model.DirectoryChoices, error) {
	d, err := s.indexed(ctx)
	if err != nil {
		return model.DirectoryChoices{}, err
	}
	var users []model.User
	if d == nil {
		cur, err := s.c(colUsers).Find(ctx, bson.M{}, options.Find().SetProjection(bson.M{"login": 1, "name": 1, "department": 1, "manager": 1, "roles": 1}))
		if err != nil {
			return model.DirectoryChoices{}, wrap("directory choices", err)
		}
		if err := cur.All(ctx, &users); err != nil {
			return model.DirectoryChoices{}, wrap("directory choices", err)
		}
	}
	depts, managers, names := map[string]bool{}, map[string]bool{}, map[string]string{}
	add := func(u *model.User) {
		names[u.Login] = u.Name
		if u.Department != "" {
			depts[u.Department] = true
		}
		if u.Manager != "" {
			managers[u.Manager] = true
		}
		if slices.Contains(u.Roles, model.RoleManager) {
			managers[u.Login] = true
		}
	}
	if d != nil {
		d.mu.RLock()
		for _, e := range d.byLogin {
			add(e.u)
		}
		d.mu.RUnlock()
	}
	for i := range users {
		add(&users[i])
	}
	var out model.DirectoryChoices
	for dep := range depts {
		out.Departments = append(out.Departments, dep)
	}
	slices.Sort(out.Departments)
	for m := range managers {
		out.Managers = append(out.Managers, model.PersonChoice{Login: m, Name: names[m]})
	}
	slices.SortFunc(out.Managers, func(a, b model.PersonChoice) int {
		return strings.Compare(a.Login, b.Login)
	})
	return out, nil
}
