package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"conductportal/server/model"
	"conductportal/server/storage"
)

// Refusals of a single sign-on login.
var (
	ErrSSOUnknown  = errors.New("auth: no account matches the sign-on login")
	ErrSSOInactive = errors.New("auth: the account is deactivated")
)

// SSOResult is what a single sign-on login did to the account.
type SSOResult struct {
	User    *model.User
	Created bool   // a first login made the account (jit)
	Changes string // "field: before -> after; ..." synced from the provider
}

// SSOLogin finds (or, with jit, creates) the account of a provider-verified
// identity and brings its name, department and, when synced, roles up to
// date. A change of roles ends the account's sessions, as HR's would. The
// caller then starts a session as for a password login.
func (s *Service) SSOLogin(ctx context.Context, id model.Identity, jit bool) (*SSOResult, error) {
	if err := CheckLogin(id.Login); err != nil {
		return nil, err
	}
	u, err := s.store.UserByLogin(ctx, id.Login)
	switch {
	case errors.Is(err, storage.ErrNotFound) && jit:
		return s.ssoCreate(ctx, id)
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrSSOUnknown
	case err != nil:
		return nil, err
	case !u.Active:
		return nil, ErrSSOInactive
	}
	p := Person{Login: u.Login, Name: u.Name, Roles: u.Roles, Department: u.Department, Manager: u.Manager, Hired: u.Hired}
	if n := strings.TrimSpace(id.Name); n != "" {
		p.Name = n
	}
	if d := strings.TrimSpace(id.Department); d != "" {
		p.Department = d
	}
	if id.SyncRoles {
		p.Roles = ssoRoles(id.Roles)
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	res := &SSOResult{User: u}
	if res.Changes = PersonDiff(u, p); res.Changes != "" {
		next := *u
		next.Name, next.Roles, next.Department = p.Name, p.Roles, p.Department
		if err := s.store.UpdateUser(ctx, &next); err != nil {
			return nil, err
		}
		if strings.Join(u.Roles, ",") != strings.Join(p.Roles, ",") {
			if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
				return nil, err
			}
		}
		res.User = &next
	}
	if res.User.MustChangePassword {
		// A one-time password HR handed out is no longer needed: replace
		// it with one nobody knows, so signing on is not held up by it.
		hash, err := HashPassword(RandomPassword())
		if err != nil {
			return nil, err
		}
		if err := s.store.SetPassword(ctx, u.ID, hash, false); err != nil {
			return nil, err
		}
		res.User.MustChangePassword = false
	}
	return res, nil
}

func (s *Service) ssoCreate(ctx context.Context, id model.Identity) (*SSOResult, error) {
	name := strings.TrimSpace(id.Name)
	if name == "" {
		name = id.Login
	}
	var roles []string
	if id.SyncRoles {
		roles = ssoRoles(id.Roles)
	}
	email := strings.TrimSpace(id.Email)
	if CheckEmail(email) != nil {
		email = "" // an address the provider gives that reminders cannot use
	}
	// The account gets a password nobody knows: it signs on through the provider.
	u, err := s.CreateUser(ctx, NewUser{Login: id.Login, Name: name, Email: email, Department: strings.TrimSpace(id.Department),
		Roles: roles, Password: RandomPassword()})
	if errors.Is(err, storage.ErrDuplicate) {
		// Two first logins at once: the other made it; match it.
		return s.SSOLogin(ctx, id, false)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create account from sign-on: %w", err)
	}
	return &SSOResult{User: u, Created: true, Changes: ""}, nil
}

// ssoRoles orders the mapped roles as model.AllRoles does, without
// repeats; nobody mapped to any role is an employee.
func ssoRoles(mapped []string) []string {
	var out []string
	for _, r := range model.AllRoles {
		if contains(mapped, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = []string{model.RoleEmployee}
	}
	return out
}
