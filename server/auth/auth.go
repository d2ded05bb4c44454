package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"conductportal/server/audit"
	"conductportal/server/model"
	"conductportal/server/secret"
)

// Errors of authentication. ErrInvalid never says which part was wrong.
var (
	ErrInvalid   = errors.New("auth: invalid login or password")
	ErrNoSession = errors.New("auth: no valid session")
	ErrBadToken  = errors.New("auth: invalid token")
)

// Session lifetimes.
const (
	IdleTimeout     = 8 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	// touchEvery is how often last_seen (and a token's last_used) is written:
	// against an idle timeout of hours, minutes of precision are plenty, and
	// with 10,000 people active every write saved goes to quiz submits.
	touchEvery  = 5 * time.Minute
	tokenPrefix = "cp_"
)

// Store is what accounts, sessions, tokens, invitations, sign-on bindings and
// the throttle read and write of the database (storage.Storage is one; cli
// hands it in).
type Store interface {
	APIToken(ctx context.Context, id string) (*model.APIToken, error)
	APITokens(ctx context.Context, userID string) ([]model.APIToken, error)
	Audit(ctx context.Context, e *model.AuditEntry) error
	AuditMany(ctx context.Context, entries []model.AuditEntry) error
	ClaimInvitation(ctx context.Context, id string, at time.Time) error
	ClaimSlot(ctx context.Context, id string, expires time.Time) (claimed bool, err error)
	CreateAPIToken(ctx context.Context, t *model.APIToken) error
	CreateInvitation(ctx context.Context, inv *model.Invitation) error
	CreateSession(ctx context.Context, sess *model.Session) error
	CreateUser(ctx context.Context, u *model.User) error
	CreateUsersInvited(ctx context.Context, users []model.User, invs []model.Invitation) error
	DeleteExpiredSlots(ctx context.Context, now time.Time) (int64, error)
	DeleteInvitation(ctx context.Context, userID, id string) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID, keep string) error
	DirectoryChoices(ctx context.Context) (model.DirectoryChoices, error)
	Invitation(ctx context.Context, id string) (*model.Invitation, error)
	LinkSSO(ctx context.Context, userID, issuer, sub string, at time.Time) (bool, error)
	ReleaseSlots(ctx context.Context, ids ...string) error
	RenameUser(ctx context.Context, id, old, login string) error
	RevokeAPIToken(ctx context.Context, id string, at time.Time) error
	SSOLinkBySubject(ctx context.Context, issuer, sub string) (*model.SSOLink, error)
	SearchUsers(ctx context.Context, q model.UserSearch) ([]model.User, bool, error)
	Session(ctx context.Context, id string) (*model.Session, error)
	SetMFA(ctx context.Context, id string, m model.MFA) error
	SetPassword(ctx context.Context, id, hash string, mustChange bool) error
	SetRecoveryCodes(ctx context.Context, id string, hashes []string) error
	SetUserActive(ctx context.Context, id string, active bool) error
	SetUserLang(ctx context.Context, id, lang string) error
	SlotTaken(ctx context.Context, id string) (bool, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	TouchSession(ctx context.Context, id string, at time.Time) error
	UnlinkSSO(ctx context.Context, userID string) (bool, error)
	UpdateUser(ctx context.Context, u *model.User) error
	UseMFAStep(ctx context.Context, id string, step int64) (bool, error)
	UseRecoveryCode(ctx context.Context, id, hash string) (bool, error)
	User(ctx context.Context, id string) (*model.User, error)
	UserByLogin(ctx context.Context, login string) (*model.User, error)
	UserDirectory(ctx context.Context) ([]model.User, error)
	Users(ctx context.Context) ([]model.User, error)
	UsersByLogin(ctx context.Context, logins []string) (map[string]*model.User, error)
}

// Service authenticates users.
type Service struct {
	store Store
	now   func() time.Time
	hints slotHints  // the throttle's guesses of free slots (throttle.go)
	gate  signInGate // sign-ins in progress
	// secrets seals second-factor secrets (mfa.go); nil: no key.
	secrets *secret.Box
	// touched is when this process last wrote a token's last_used, so a
	// burst of requests with one token writes it once, not once each.
	touched sync.Map // token id -> time.Time
	invites Invitations
	// company is the company's name, a guessable word in passwords.
	company string
}

// New returns a Service; now may be nil for the wall clock.
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("auth: crypto/rand failed: %w", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Login checks a login and password. Sign-ins call it within a LoginTry,
// which bounds how many run at once.
func (s *Service) Login(ctx context.Context, login, password string) (*model.User, error) {
	u, err := s.store.UserByLogin(ctx, strings.TrimSpace(login))
	if errors.Is(err, model.ErrNotFound) {
		VerifyPassword(dummyHash, password)
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	if !VerifyPassword(u.PasswordHash, password) || !u.Active {
		return nil, ErrInvalid
	}
	return u, nil
}

// StartSession creates a new session for u and returns the cookie value.
// A fresh id at every login prevents session fixation.
func (s *Service) StartSession(ctx context.Context, u *model.User, client string) (string, *model.Session, error) {
	tok := randomToken()
	now := s.clock()
	sess := &model.Session{
		ID: hashToken(tok), UserID: u.ID, CSRF: randomToken(),
		Created: now, LastSeen: now, Expires: now.Add(AbsoluteTimeout), Client: client,
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", nil, err
	}
	return tok, sess, nil
}

// Session returns the live session and its user for a cookie value.
func (s *Service) Session(ctx context.Context, tok string) (*model.Session, *model.User, error) {
	if tok == "" || len(tok) > 128 {
		return nil, nil, ErrNoSession
	}
	sess, err := s.store.Session(ctx, hashToken(tok))
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	if now.After(sess.Expires) || now.Sub(sess.LastSeen) > IdleTimeout {
		_ = s.store.DeleteSession(ctx, sess.ID)
		return nil, nil, ErrNoSession
	}
	u, err := s.store.User(ctx, sess.UserID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && !u.Active) {
		_ = s.store.DeleteSession(ctx, sess.ID)
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(sess.LastSeen) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return nil, nil, err
		}
	}
	return sess, u, nil
}

// EndSession logs out the session of a cookie value.
func (s *Service) EndSession(ctx context.Context, tok string) error {
	if tok == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, hashToken(tok))
}

// ChangePassword sets a new password after checking the current one, ends
// the user's other sessions and audits it with the client's address.
func (s *Service) ChangePassword(ctx context.Context, u *model.User, current, next, keepSession, client string) error {
	if !VerifyPassword(u.PasswordHash, current) {
		return ErrInvalid
	}
	if err := CheckNewPassword(next, u, s.company); err != nil {
		return err
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, keepSession); err != nil {
		return err
	}
	return s.auditChange(ctx, model.Actor{Login: u.Login, Client: client}, "password.change", u.Login, audit.Detail{})
}

// FirstPasswordWindow is how long after logging in with a one-time
// password its person may choose their own without typing it again: the
// session is the proof they just did (it opens nothing but the password
// page meanwhile). Later, the one-time password is asked for again.
const FirstPasswordWindow = 15 * time.Minute

// ErrPasswordSame is a new password that is the one it replaces.
var ErrPasswordSame = errors.New("auth: the new password is the current one")

// FirstPasswordWithoutCurrent says whether u, who must change a one-time
// password, may do so in sess without typing it again.
func (s *Service) FirstPasswordWithoutCurrent(u *model.User, sess *model.Session) bool {
	return u != nil && sess != nil && u.MustChangePassword && !sess.Pending && sess.UserID == u.ID &&
		s.now().Sub(sess.Created) < FirstPasswordWindow
}

// SignIn starts a session for u, who has just proved who they are, and
// records the sign-in from o, agent being the browser's name. When the
// entry cannot be stored the session ends again and the sign-in fails:
// nobody is signed in unrecorded.
func (s *Service) SignIn(ctx context.Context, u *model.User, o model.Origin, agent string) (string, error) {
	tok, sess, err := s.StartSession(ctx, u, o.Client)
	if err != nil {
		return "", err
	}
	if err := s.auditChange(ctx, o.As(u.Login), "login", "", audit.Text(agent)); err != nil {
		return "", errors.Join(err, s.store.DeleteSession(ctx, sess.ID))
	}
	return tok, nil
}

// SetFirstPassword replaces a one-time password just used to log in
// (FirstPasswordWithoutCurrent), and ends the user's other sessions. Out
// of that window it answers ErrInvalid: the caller asks for the current
// password instead.
//
// The change is audited with the client's address.
func (s *Service) SetFirstPassword(ctx context.Context, u *model.User, sess *model.Session, next, client string) error {
	if !s.FirstPasswordWithoutCurrent(u, sess) {
		return ErrInvalid
	}
	if err := CheckNewPassword(next, u, s.company); err != nil {
		return err
	}
	if VerifyPassword(u.PasswordHash, next) {
		return ErrPasswordSame
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, sess.ID); err != nil {
		return err
	}
	return s.auditChange(ctx, model.Actor{Login: u.Login, Client: client}, "password.change", u.Login, audit.Detail{Key: "audit.detail.first_login", Text: "first login"})
}

// NewUser is what creating an account takes.
type NewUser struct {
	Login, Name, Department, Manager, Password string
	// Manages is the department a manager answers for as a whole.
	Manages string
	// Email is optional; reminders are mailed to it when SMTP is set up.
	Email              string
	Roles              []string
	Hired              time.Time
	MustChangePassword bool
	// NoPassword makes an account that cannot sign in with a password
	// until its person accepts an invitation (or signs in by SSO).
	NoPassword bool
	// ExternalID is the identity provider's id of the person (SCIM).
	ExternalID string
	// Contacts mention the person in WeCom and DingTalk group messages.
	Contacts Contacts
	// PasswordHash, given instead of Password, is a hash HashPassword
	// made of a password that passed CheckPasswordPolicy: accounts that
	// share one password (the demo company) cost one argon2id
	// computation (about 36 ms) instead of one each.
	PasswordHash string
}

// CreateUser validates and stores a new account.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*model.User, error) {
	nu.Login = strings.TrimSpace(nu.Login)
	if err := CheckLogin(nu.Login); err != nil {
		return nil, err
	}
	if strings.TrimSpace(nu.Name) == "" {
		return nil, errors.New("auth: name is required")
	}
	if len(nu.Roles) == 0 {
		nu.Roles = []string{model.RoleEmployee}
	}
	for _, r := range nu.Roles {
		if !contains(model.AllRoles, r) {
			return nil, fmt.Errorf("auth: unknown role %q (roles: %s)", r, strings.Join(model.AllRoles, ", "))
		}
	}
	nu.Email = strings.TrimSpace(nu.Email)
	if nu.Email != "" {
		if err := CheckEmail(nu.Email); err != nil {
			return nil, err
		}
	}
	if nu.Manages != "" && !contains(nu.Roles, model.RoleManager) {
		return nil, errors.New("auth: only a manager can manage a department")
	}
	if err := nu.Contacts.Check(); err != nil {
		return nil, err
	}
	hash := nu.PasswordHash
	switch {
	case nu.NoPassword:
		hash = ""
	case hash != "":
		if _, ok := parseHash(hash); !ok || nu.Password != "" {
			return nil, errors.New("auth: a password hash must come from HashPassword, without the password")
		}
	default:
		if err := CheckPasswordPolicy(nu.Password); err != nil {
			return nil, fmt.Errorf("auth: password must be %d to %d characters: %w", MinPasswordLen, MaxPasswordLen, err)
		}
		var err error
		if hash, err = HashPassword(nu.Password); err != nil {
			return nil, err
		}
	}
	u := newUserDoc(nu, hash, s.clock())
	if err := s.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, model.ErrDuplicate) {
			return nil, fmt.Errorf("auth: login %q is taken: %w", nu.Login, err)
		}
		return nil, err
	}
	return u, nil
}

// newUserDoc is the stored account of a checked nu with password hash.
func newUserDoc(nu NewUser, hash string, now time.Time) *model.User {
	if nu.Hired.IsZero() {
		nu.Hired = now
	}
	u := &model.User{
		ID: model.NewID(), Login: nu.Login, Name: strings.TrimSpace(nu.Name), Roles: nu.Roles,
		Department: nu.Department, Manager: nu.Manager, Manages: strings.TrimSpace(nu.Manages), Email: nu.Email,
		Hired:        nu.Hired.UTC(),
		PasswordHash: hash, MustChangePassword: nu.MustChangePassword && !nu.NoPassword, Active: true, Created: now,
		ExternalID: nu.ExternalID,
	}
	u.Mobile, u.WeComID, u.DingTalkID = nu.Contacts.Mobile, nu.Contacts.WeComID, nu.Contacts.DingTalkID
	return u
}

// CheckEmail says whether e is a plain address like name@example.com.
func CheckEmail(e string) error {
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
		return fmt.Errorf("auth: email %q is not a plain address like name@example.com", e)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Deactivate turns an account off, ends all its sessions at once and
// revokes its API tokens: a sync that turns the account on again (someone
// rehired) must not bring a leaver's tokens back to life.
func (s *Service) Deactivate(ctx context.Context, u *model.User) error {
	if err := s.store.SetUserActive(ctx, u.ID, false); err != nil {
		return err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return err
	}
	ts, err := s.store.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.clock()
	for _, t := range ts {
		if !t.Revoked {
			if err := s.store.RevokeAPIToken(ctx, t.ID, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// Reactivate turns an account on again (a rehire, or an identity provider
// assigning the person anew). Their old tokens stay revoked.
func (s *Service) Reactivate(ctx context.Context, u *model.User) error {
	return s.store.SetUserActive(ctx, u.ID, true)
}

// EndSessionID ends the session with a stored id (the hash of its cookie).
func (s *Service) EndSessionID(ctx context.Context, id string) error {
	return s.store.DeleteSession(ctx, id)
}

// UserByID returns the account with id.
func (s *Service) UserByID(ctx context.Context, id string) (*model.User, error) {
	return s.store.User(ctx, id)
}

// loginRe is the shape of a login: it appears in URLs (/people/LOGIN),
// links in messages and file names, so only plain characters.
var loginRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckLogin says whether login is acceptable.
func CheckLogin(login string) error {
	if !loginRe.MatchString(login) {
		return fieldErr("login", "person.err.login", login)
	}
	return nil
}

// EndOtherSessions ends every session of u but keep.
func (s *Service) EndOtherSessions(ctx context.Context, u *model.User, keep string) error {
	return s.store.DeleteUserSessions(ctx, u.ID, keep)
}
