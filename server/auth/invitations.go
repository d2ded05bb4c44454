package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"conductportal/server/audit"
	"conductportal/server/fault"
	"conductportal/server/model"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Errors of an invitation link, for the page that opens it.
var (
	ErrInvitationInvalid error = &fault.Error{Kind: fault.NotFound, Text: "auth: invitation link is not valid (used, revoked or mistyped)"}
	ErrInvitationExpired error = &fault.Error{Kind: fault.Conflict, Text: "auth: invitation link has expired"}
)

// Sender delivers an invitation link to its person, privately, through
// the channels set up; it returns how ("email", or "" when no channel
// reaches the person).
type Sender func(ctx context.Context, u *model.User, link string) (string, error)

// Invitations is how new accounts without a password are let in.
type Invitations struct {
	BaseURL string // the portal's public address, for the link
	// SSO is set when people sign in through the identity provider: then
	// nobody is sent an invitation.
	SSO  bool
	Send Sender // nil: invitations are stored but not sent
}

// SetInvitations configures invitations (see Invitations).
func (s *Service) SetInvitations(inv Invitations) { s.invites = inv }

// InviteResult says what Invite did.
type InviteResult struct {
	Sent    string // the channel it went through, "" if none reached the person
	SSO     bool   // nothing sent: the person signs in by SSO
	Expires time.Time
}

// How is the result in a word: the channel, "sso", or "".
func (r InviteResult) How() string {
	if r.SSO {
		return "sso"
	}
	return r.Sent
}

// CreateInvited makes an account without a password and invites its
// person (see Invite). It is how sync, CSV import and SCIM create people:
// no password is ever made, hashed or shown for them.
func (s *Service) CreateInvited(ctx context.Context, by *model.User, o model.Origin, p Person, externalID string) (*model.User, InviteResult, error) {
	if err := p.Check(); err != nil {
		return nil, InviteResult{}, err
	}
	if err := mayChange(by, nil, p.Roles); err != nil {
		return nil, InviteResult{}, err
	}
	nu := NewUser{Login: p.Login, Name: p.Name, Roles: p.Roles, Department: p.Department,
		Manager: p.Manager, Hired: p.Hired, Email: p.Email, NoPassword: true, ExternalID: externalID}
	if p.Contacts != nil {
		nu.Contacts = *p.Contacts
	}
	u, err := s.CreateUser(ctx, nu)
	if err != nil {
		return nil, InviteResult{}, err
	}
	if err := s.auditChange(ctx, o.As(by.Login), "user.create", u.Login, audit.Person(u.Roles, u.Department, u.Manager)); err != nil {
		return nil, InviteResult{}, err
	}
	res, err := s.Invite(ctx, by.Login, u)
	return u, res, err
}

// Invite replaces u's open invitation, if any, with a new one and sends
// its link: a single-use link of 256 random bits, stored only as its
// SHA-256, valid InvitationTTL. With SSO on, nothing is made: the person
// signs in through the identity provider. Every send is audited.
func (s *Service) Invite(ctx context.Context, by string, u *model.User) (InviteResult, error) {
	if s.invites.SSO {
		return InviteResult{SSO: true}, nil
	}
	if err := s.store.DeleteInvitation(ctx, u.ID, u.Invitation); err != nil {
		return InviteResult{}, err
	}
	tok := randomToken()
	now := s.clock()
	inv := &model.Invitation{ID: hashToken(tok), UserID: u.ID, Login: u.Login, By: by, Created: now, Expires: now.Add(InvitationTTL)}
	if err := s.store.CreateInvitation(ctx, inv); err != nil {
		return InviteResult{}, err
	}
	u.Invitation = inv.ID
	res := InviteResult{Expires: inv.Expires}
	if s.invites.Send != nil {
		sent, err := s.invites.Send(ctx, u, s.invites.BaseURL+"/invite/"+tok)
		if err != nil {
			return res, fmt.Errorf("auth: send invitation: %w", err)
		}
		res.Sent = sent
	}
	detail := "expires " + inv.Expires.Format(time.RFC3339) + "; sent by " + res.Sent
	if res.Sent == "" {
		detail = "expires " + inv.Expires.Format(time.RFC3339) + "; no channel reaches the person"
	}
	return res, s.auditAs(ctx, by, "invite.send", u.Login, detail)
}

// RevokeInvitation cancels u's open invitation.
func (s *Service) RevokeInvitation(ctx context.Context, by string, u *model.User) error {
	if u.Invitation == "" {
		return nil
	}
	if err := s.store.DeleteInvitation(ctx, u.ID, u.Invitation); err != nil {
		return err
	}
	return s.auditAs(ctx, by, "invite.revoke", u.Login, "")
}

// OpenInvitation returns the open invitation of a link's token and its
// person, or ErrInvitationInvalid / ErrInvitationExpired.
func (s *Service) OpenInvitation(ctx context.Context, tok string) (*model.Invitation, *model.User, error) {
	if tok == "" || len(tok) > 128 {
		return nil, nil, ErrInvitationInvalid
	}
	inv, err := s.store.Invitation(ctx, hashToken(tok))
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, ErrInvitationInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.User(ctx, inv.UserID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && (!u.Active || u.Invitation != inv.ID)) {
		return nil, nil, ErrInvitationInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.clock().Before(inv.Expires) {
		return inv, u, ErrInvitationExpired
	}
	return inv, u, nil
}

// AcceptInvitation sets the password of the invitation's person, once,
// and closes the invitation. The caller then starts a session; a role that
// requires a second factor enrols it next, as after any login.
func (s *Service) AcceptInvitation(ctx context.Context, tok, password string) (*model.User, error) {
	inv, u, err := s.OpenInvitation(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	if err := s.store.ClaimInvitation(ctx, inv.ID, s.clock()); errors.Is(err, model.ErrDuplicate) {
		return nil, ErrInvitationInvalid
	} else if err != nil {
		return nil, err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return nil, err
	}
	if err := s.store.DeleteInvitation(ctx, u.ID, inv.ID); err != nil {
		return nil, err
	}
	if err := s.auditAs(ctx, u.Login, "invite.accept", u.Login, "password chosen"); err != nil {
		return nil, err
	}
	return s.store.User(ctx, u.ID)
}

// auditAs writes an audit entry of an invitation.
func (s *Service) auditAs(ctx context.Context, actor, action, target, detail string) error {
	return s.store.Audit(ctx, &model.AuditEntry{At: s.clock(), Actor: actor, Action: action, Target: target, Detail: detail})
}

// inviteBatch is how many new people one batched write stores.
const inviteBatch = 1000

// createInvitedBatch makes checked new people (see Person.Check) without
// passwords, with their invitations, in batched writes, sends the links
// and audits each send in one write. errs[i] is a refusal of person i (a
// login taken meanwhile); the others are stored.
func (s *Service) createInvitedBatch(ctx context.Context, by *model.User, ps []Person) ([]InviteResult, []error, error) {
	now := s.clock()
	users := make([]model.User, len(ps))
	toks := make([]string, len(ps))
	invs := make([]model.Invitation, 0, len(ps))
	for i, p := range ps {
		nu := NewUser{Login: p.Login, Name: p.Name, Roles: p.Roles, Department: p.Department,
			Manager: p.Manager, Hired: p.Hired, Email: p.Email, NoPassword: true}
		if p.Contacts != nil {
			nu.Contacts = *p.Contacts
		}
		u := newUserDoc(nu, "", now)
		if !s.invites.SSO {
			toks[i] = randomToken()
			inv := model.Invitation{ID: hashToken(toks[i]), UserID: u.ID, Login: u.Login, By: by.Login, Created: now, Expires: now.Add(InvitationTTL)}
			u.Invitation = inv.ID
			invs = append(invs, inv)
		}
		users[i] = *u
	}
	errs := make([]error, len(ps))
	if err := s.store.CreateUsersInvited(ctx, users, invs); errors.Is(err, model.ErrDuplicate) {
		// Someone made one of these logins meanwhile: one at a time, keeping
		// what the batch stored before it.
		for i := range users {
			if err := s.storeOneInvited(ctx, &users[i], invitationOf(invs, users[i].Invitation)); err != nil {
				if !errors.Is(err, model.ErrDuplicate) {
					return nil, nil, err
				}
				errs[i] = err
			}
		}
	} else if err != nil {
		return nil, nil, err
	}
	res := make([]InviteResult, len(ps))
	audits := make([]model.AuditEntry, 0, len(ps))
	for i := range users {
		if errs[i] != nil {
			continue
		}
		if s.invites.SSO {
			res[i].SSO = true
			continue
		}
		res[i].Expires = now.Add(InvitationTTL)
		if s.invites.Send != nil {
			sent, err := s.invites.Send(ctx, &users[i], s.invites.BaseURL+"/invite/"+toks[i])
			if err != nil {
				return nil, nil, fmt.Errorf("auth: send invitation: %w", err)
			}
			res[i].Sent = sent
		}
		detail := "expires " + res[i].Expires.Format(time.RFC3339) + "; sent by " + res[i].Sent
		if res[i].Sent == "" {
			detail = "expires " + res[i].Expires.Format(time.RFC3339) + "; no channel reaches the person"
		}
		audits = append(audits, model.AuditEntry{At: now, Actor: by.Login, Action: "invite.send", Target: users[i].Login, Detail: detail})
	}
	return res, errs, s.store.AuditMany(ctx, audits)
}

// storeOneInvited stores u and its invitation unless this process stored
// u already (by its _id); a login taken by someone else is ErrDuplicate.
func (s *Service) storeOneInvited(ctx context.Context, u *model.User, inv *model.Invitation) error {
	var invs []model.Invitation
	if inv != nil {
		invs = []model.Invitation{*inv}
	}
	if _, err := s.store.User(ctx, u.ID); err == nil {
		err := s.store.CreateUsersInvited(ctx, nil, invs)
		if errors.Is(err, model.ErrDuplicate) {
			return nil
		}
		return err
	} else if !errors.Is(err, model.ErrNotFound) {
		return err
	}
	if err := s.store.CreateUsersInvited(ctx, []model.User{*u}, nil); err != nil {
		return err
	}
	return s.store.CreateUsersInvited(ctx, nil, invs)
}

func invitationOf(invs []model.Invitation, id string) *model.Invitation {
	for i := range invs {
		if invs[i].ID == id {
			return &invs[i]
		}
	}
	return nil
}
