package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"conductportal/server/audit"
	"conductportal/server/model"
)

// Refusals of a single sign-on login.
var (
	ErrSSOUnknown  = errors.New("auth: no account matches the sign-on login")
	ErrSSOInactive = errors.New("auth: the account is deactivated")
	// ErrSSOBound: the account the login claim names is bound to another
	// provider account, so this one may not have it.
	ErrSSOBound = errors.New("auth: the account is bound to another sign-on identity")
	// ErrSSONoSubject: the provider gave no issuer and subject to bind to.
	ErrSSONoSubject = errors.New("auth: the sign-on has no issuer and subject")
)

// SSOResult is what a single sign-on login did to the account.
type SSOResult struct {
	User    *model.User
	Created bool   // a first login made the account (jit)
	Bound   bool   // this sign-on bound the account to the provider account
	Renamed string // the login the provider's new login claim replaced, or ""
	// LoginTaken is a login claim that is another account's: the person
	// signed into their own account, whose login stays as it was.
	LoginTaken string
	Changes    string // "field: before -> after; ..." synced from the provider
	changes    audit.Detail
}

// SSOLogin finds (or, with jit, creates) the account of a provider-verified
// identity and brings its login, name, department and, when synced, roles
// up to date. An account is bound to the provider's (issuer, sub) at its
// first sign-on, found by the login claim; from then on only (issuer, sub)
// finds it, so a login claim the provider lets people change can neither
// reach another account nor lose the person theirs. A change of roles ends
// the account's sessions, as HR's would. The caller then starts a session
// as for a password login.
//
// What it finds and changes is audited (a refusal too), from o; provider
// names the identity provider in the entries. When an entry cannot be
// stored the sign-on fails.
func (s *Service) SSOLogin(ctx context.Context, id model.Identity, jit bool, o model.Origin, provider string) (*SSOResult, error) {
	o.Via = model.ViaSSO
	res, err := s.ssoLogin(ctx, id, jit, true)
	refused := func(target string, d audit.Detail) (*SSOResult, error) {
		if aerr := s.auditChange(ctx, o.As(id.Login), "login.failed", target, d); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
		return nil, err
	}
	switch {
	case errors.Is(err, ErrSSOUnknown):
		return refused("", audit.Say("audit.detail.sso_unknown"))
	case errors.Is(err, ErrSSOInactive):
		return refused("", audit.Say("audit.detail.sso_inactive"))
	case errors.Is(err, ErrSSOBound):
		return refused(id.Login, audit.Say("audit.detail.sso_bound", provider, id.Subject))
	case err != nil:
		return nil, err
	}
	// From here the account's own login names the person: the claim may
	// be another account's.
	u := res.User
	by := o.As(u.Login)
	var es []model.AuditEntry
	audited := func(action string, d audit.Detail) { es = append(es, *audit.Entry(by, action, u.Login, d)) }
	if res.Created {
		audited("person.create", audit.Say("audit.detail.sso_first"))
	}
	if res.Bound {
		audited("sso.bind", audit.Say("audit.detail.sso_bind", id.Issuer, id.Subject))
	}
	if res.Renamed != "" {
		audited("person.rename", audit.Say("audit.detail.sso_rename", res.Renamed, u.Login))
	}
	if res.LoginTaken != "" {
		audited("sso.login_taken", audit.Say("audit.detail.sso_login_taken", res.LoginTaken, u.Login))
	}
	if res.Changes != "" {
		// Like an HR edit: recorded, and a change of roles ended the
		// person's other sessions.
		audited("person.update", res.changes)
	}
	if err := s.auditChanges(ctx, "sso sign-on of "+u.Login, es); err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) ssoLogin(ctx context.Context, id model.Identity, jit, retry bool) (*SSOResult, error) {
	if err := CheckLogin(id.Login); err != nil {
		return nil, err
	}
	if id.Issuer == "" || id.Subject == "" {
		return nil, ErrSSONoSubject
	}
	res := &SSOResult{}
	u, err := s.ssoBound(ctx, id, res)
	if err != nil {
		return nil, err
	}
	if u == nil {
		// The provider account's first sign-on: the login claim names the account.
		u, err = s.store.UserByLogin(ctx, id.Login)
		switch {
		case errors.Is(err, model.ErrNotFound) && jit:
			return s.ssoCreate(ctx, id)
		case errors.Is(err, model.ErrNotFound):
			return nil, ErrSSOUnknown
		case err != nil:
			return nil, err
		case !u.Active:
			return nil, ErrSSOInactive
		}
		made, err := s.store.LinkSSO(ctx, u.ID, id.Issuer, id.Subject, s.now())
		switch {
		case errors.Is(err, model.ErrBoundElsewhere):
			return nil, ErrSSOBound
		case errors.Is(err, model.ErrDuplicate) && retry:
			// The same provider account was bound to another account
			// just now (a racing sign-on under another login): follow it.
			return s.ssoLogin(ctx, id, jit, false)
		case err != nil:
			return nil, fmt.Errorf("auth: bind sign-on: %w", err)
		}
		res.Bound = made
	}
	if !u.Active {
		return nil, ErrSSOInactive
	}
	res.User = u
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
	res.changes = personChanges(u, p)
	if res.Changes = res.changes.Text; res.Changes != "" {
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
	if errors.Is(err, model.ErrDuplicate) {
		// Two first logins at once: the other made it; match it (and be
		// refused if it was another provider account's).
		return s.ssoLogin(ctx, id, false, false)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: create account from sign-on: %w", err)
	}
	if _, err := s.store.LinkSSO(ctx, u.ID, id.Issuer, id.Subject, s.now()); err != nil {
		return nil, fmt.Errorf("auth: bind sign-on: %w", err)
	}
	return &SSOResult{User: u, Created: true, Bound: true}, nil
}

// ssoBound returns the account bound to the identity's (issuer, sub), or
// nil when there is none. When the login claim has changed, it renames the
// account if the new login is free, and otherwise leaves the login alone
// and says so in res.LoginTaken: the person still gets their own account,
// never the one whose login they now claim.
func (s *Service) ssoBound(ctx context.Context, id model.Identity, res *SSOResult) (*model.User, error) {
	l, err := s.store.SSOLinkBySubject(ctx, id.Issuer, id.Subject)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := s.store.User(ctx, l.UserID)
	if errors.Is(err, model.ErrNotFound) {
		// The account is gone: forget the binding and start afresh.
		if _, err := s.store.UnlinkSSO(ctx, l.UserID); err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil || u.Login == id.Login || !u.Active {
		return u, err
	}
	other, err := s.store.UserByLogin(ctx, id.Login)
	switch {
	case err == nil && other.ID != u.ID:
		res.LoginTaken = id.Login
		return u, nil
	case err != nil && !errors.Is(err, model.ErrNotFound):
		return nil, err
	}
	err = s.store.RenameUser(ctx, u.ID, u.Login, id.Login)
	switch {
	case errors.Is(err, model.ErrDuplicate):
		res.LoginTaken = id.Login // taken at the same moment
		return u, nil
	case err != nil:
		return nil, fmt.Errorf("auth: rename from sign-on: %w", err)
	}
	res.Renamed = u.Login
	u.FormerLogins = append(u.FormerLogins, u.Login)
	u.Login = id.Login
	return u, nil
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
