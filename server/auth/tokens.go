package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"conductportal/server/audit"
	"conductportal/server/fault"
	"conductportal/server/model"
)

// Scopes of API tokens. A token may do what its scopes name and its user's
// roles allow; the learner scope is the user's own training.
const (
	ScopeLearner      = "learner"
	ScopeReportsRead  = "reports:read"
	ScopeUsersRead    = "users:read"
	ScopeUsersWrite   = "users:write"
	ScopeContentRead  = "content:read"
	ScopeContentWrite = "content:write"
	ScopeReceiptsRead = "receipts:read"
	ScopeAuditRead    = "audit:read"
	// ScopeSCIM lets an identity provider provision people at /scim/v2.
	// It is given only when asked for by name, never by default.
	ScopeSCIM = "scim"
)

// Scopes lists every scope in display order.
var Scopes = []string{ScopeLearner, ScopeReportsRead, ScopeUsersRead, ScopeUsersWrite, ScopeContentRead,
	ScopeContentWrite, ScopeReceiptsRead, ScopeAuditRead, ScopeSCIM}

// scopeRoles says which roles may hold a scope; the learner scope is everyone's.
var scopeRoles = map[string][]string{
	ScopeReportsRead:  {model.RoleManager, model.RoleHR},
	ScopeUsersRead:    {model.RoleHR, model.RoleAdmin},
	ScopeUsersWrite:   {model.RoleHR, model.RoleAdmin},
	ScopeContentRead:  {model.RoleHR, model.RoleAdmin},
	ScopeContentWrite: {model.RoleHR, model.RoleAdmin},
	ScopeReceiptsRead: {model.RoleHR},
	ScopeAuditRead:    {model.RoleHR, model.RoleAdmin},
	ScopeSCIM:         {model.RoleHR, model.RoleAdmin},
}

// IsWriteScope reports whether a scope lets a token change stored data:
// every use of one is audited.
func IsWriteScope(scope string) bool { return strings.HasSuffix(scope, ":write") }

// ScopesFor lists the scopes u's roles allow, in display order.
func ScopesFor(u *model.User) []string {
	var out []string
	for _, sc := range Scopes {
		roles, limited := scopeRoles[sc]
		if !limited || slices.ContainsFunc(roles, u.HasRole) {
			out = append(out, sc)
		}
	}
	return out
}

// TokenAllows reports whether t carries scope. Tokens made before scopes
// existed carry every scope; the routes still check the user's roles.
func TokenAllows(t *model.APIToken, scope string) bool {
	return t.Scopes == nil || slices.Contains(t.Scopes, scope)
}

// Errors of tokens.
var (
	ErrTokenExpired       = errors.New("auth: the token has expired")
	ErrTokenRevoked       = errors.New("auth: the token was revoked")
	ErrTokenSpec    error = &fault.Error{Kind: fault.Invalid, Text: "auth: invalid token request"}
	ErrNoToken      error = &fault.Error{Kind: fault.NotFound, Text: "auth: no such token"}
)

// TokenSpec is what creating a token takes.
type TokenSpec struct {
	Name string
	// Scopes asked for; empty: every scope the user's roles allow.
	Scopes []string
	// TTL is how long it works; 0: until revoked.
	TTL time.Duration
	// Client is the address the request came from, for the audit entry.
	Client string
}

// MaxTokenTTL bounds a token's life.
const MaxTokenTTL = 2 * 366 * 24 * time.Hour

// ParseTTL reads an expiry such as "90d", "12h" or "never" (or "": never).
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 || d > MaxTokenTTL {
		return 0, fmt.Errorf("%w: expiry %q must be like 90d or 12h, at most 731d, or never", ErrTokenSpec, s)
	}
	return d, nil
}

// CreateToken makes an API token that acts as u within spec's scopes; only
// its hash is stored and the token is returned this once. by is who asks:
// u themselves (a personal token, which always has the learner scope), an
// admin (an integration token), or nil for the console.
func (s *Service) CreateToken(ctx context.Context, by, u *model.User, spec TokenSpec) (string, *model.APIToken, error) {
	createdBy := "cli"
	if by != nil {
		if by.ID != u.ID && !by.HasRole(model.RoleAdmin) {
			return "", nil, fmt.Errorf("%w: only an admin makes tokens for others", ErrForbidden)
		}
		createdBy = by.Login
	}
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Name == "" || utf8.RuneCountInString(spec.Name) > 100 {
		return "", nil, fmt.Errorf("%w: a name of 1 to 100 characters is required", ErrTokenSpec)
	}
	personal := by == nil || by.ID == u.ID
	allowed := ScopesFor(u)
	if !personal {
		// The learner scope acknowledges lessons and signs receipts as the
		// person: only they (or the console) may make such a token, never
		// an admin on their behalf.
		allowed = slices.DeleteFunc(allowed, func(sc string) bool { return sc == ScopeLearner })
		if len(allowed) == 0 {
			return "", nil, fmt.Errorf("%w: %s's roles allow no scope an integration token may carry", ErrTokenSpec, u.Login)
		}
	}
	scopes := []string{}
	for _, sc := range spec.Scopes {
		sc = strings.TrimSpace(sc)
		switch {
		case sc == "" || slices.Contains(scopes, sc):
			continue
		case !slices.Contains(Scopes, sc):
			return "", nil, fmt.Errorf("%w: unknown scope %q (scopes: %s)", ErrTokenSpec, sc, strings.Join(Scopes, ", "))
		case sc == ScopeLearner && !personal:
			return "", nil, fmt.Errorf("%w: the learner scope is the person's own: %s makes that token themselves", ErrTokenSpec, u.Login)
		case !slices.Contains(allowed, sc):
			return "", nil, fmt.Errorf("%w: %s's roles do not allow the scope %q (allowed: %s)", ErrTokenSpec, u.Login, sc, strings.Join(allowed, ", "))
		}
		scopes = append(scopes, sc)
	}
	switch {
	case len(scopes) == 0:
		scopes = slices.DeleteFunc(slices.Clone(allowed), func(sc string) bool { return sc == ScopeSCIM })
	case personal && !slices.Contains(scopes, ScopeLearner):
		// A personal token always covers the person's own training.
		scopes = append([]string{ScopeLearner}, scopes...)
	}
	if spec.TTL < 0 || spec.TTL > MaxTokenTTL {
		return "", nil, fmt.Errorf("%w: the expiry is out of range", ErrTokenSpec)
	}
	tok := tokenPrefix + randomToken()
	now := s.clock()
	t := &model.APIToken{ID: hashToken(tok), UserID: u.ID, Name: spec.Name, Created: now, Scopes: scopes, CreatedBy: createdBy}
	if spec.TTL > 0 {
		t.Expires = now.Add(spec.TTL)
	}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	// Audited after it is stored (an entry for a token never made would be
	// false); when the entry fails the token is not handed out, so no
	// working token goes unrecorded.
	if err := s.auditChange(ctx, model.Actor{Login: createdBy, Client: spec.Client}, "token.create", u.Login, audit.Detail{Key: "audit.detail.token_create",
		Args: []string{t.Ref(), t.Name, strings.Join(t.Scopes, ", ")}, Text: t.Ref() + " " + t.Name + " scopes=" + strings.Join(t.Scopes, ",")}); err != nil {
		return "", nil, err
	}
	return tok, t, nil
}

// TokenUser returns the user an API token acts as, and the token. A
// revoked or expired token gets its own error, so the client can be told.
func (s *Service) TokenUser(ctx context.Context, tok string) (*model.User, *model.APIToken, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 128 {
		return nil, nil, ErrBadToken
	}
	t, err := s.store.APIToken(ctx, hashToken(tok))
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, ErrBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	// The account first: a deactivated one's tokens (revoked with it) are
	// simply not valid.
	u, err := s.store.User(ctx, t.UserID)
	if errors.Is(err, model.ErrNotFound) || (err == nil && !u.Active) {
		return nil, nil, ErrBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	if t.Revoked {
		return nil, t, ErrTokenRevoked
	}
	if !t.Expires.IsZero() && now.After(t.Expires) {
		return nil, t, ErrTokenExpired
	}
	if now.Sub(t.LastUsed) > touchEvery {
		if prev, seen := s.touched.Swap(t.ID, now); !seen || now.Sub(prev.(time.Time)) > touchEvery {
			// A failed touch does not refuse the token, unless the database
			// is out of reach: then the request is answered as every other
			// that needs it (503), and the outage is noticed although the
			// token itself came from memory.
			if err := s.store.TouchAPIToken(ctx, t.ID, now); errors.Is(err, fault.Unavailable) {
				return nil, nil, err
			}
		}
	}
	return u, t, nil
}

// Tokens returns u's tokens, or everyone's when u is nil, newest first.
func (s *Service) Tokens(ctx context.Context, u *model.User) ([]model.APIToken, error) {
	id := ""
	if u != nil {
		id = u.ID
	}
	return s.store.APITokens(ctx, id)
}

// FindToken returns the token named by ref (see APIToken.Ref) among those
// by may revoke: their own; an admin's (or the console's, by nil) anyone's.
func (s *Service) FindToken(ctx context.Context, by *model.User, ref string) (*model.APIToken, error) {
	ref = strings.TrimSpace(ref)
	if len(ref) < 8 {
		return nil, ErrNoToken
	}
	var owner *model.User
	if by != nil && !by.HasRole(model.RoleAdmin) {
		owner = by
	}
	ts, err := s.Tokens(ctx, owner)
	if err != nil {
		return nil, err
	}
	var found *model.APIToken
	for i := range ts {
		if strings.HasPrefix(ts[i].ID, ref) {
			if found != nil {
				return nil, fmt.Errorf("%w: %q names more than one token; give more of it", ErrTokenSpec, ref)
			}
			found = &ts[i]
		}
	}
	if found == nil {
		return nil, ErrNoToken
	}
	return found, nil
}

// RevokeToken revokes the token named by ref, within FindToken's reach,
// and audits it as by (nil: the console) from client.
func (s *Service) RevokeToken(ctx context.Context, by *model.User, ref, client string) (*model.APIToken, error) {
	found, err := s.FindToken(ctx, by, ref)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if err := s.store.RevokeAPIToken(ctx, found.ID, now); err != nil {
		return nil, err
	}
	if !found.Revoked {
		found.Revoked, found.RevokedAt = true, now
	}
	actor := "cli"
	if by != nil {
		actor = by.Login
	}
	if err := s.auditChange(ctx, model.Actor{Login: actor, Client: client}, "token.revoke", found.Ref(), audit.Text(found.Name)); err != nil {
		return nil, err
	}
	return found, nil
}

// TokenUsed records a write made with the token t: the request, its
// answer's status and the scope it needed, never the secret. The write is
// done; when the entry cannot be stored the answer says so (an error).
func (s *Service) TokenUsed(ctx context.Context, t *model.APIToken, by model.Actor, method, path string, status int, scope string) error {
	d := audit.Say("audit.detail.token_use", method, path, strconv.Itoa(status), t.Name, scope)
	d.Text = fmt.Sprintf("%s %s -> %d (token %q, scope %s)", method, path, status, t.Name, scope)
	return s.auditChange(ctx, by, "token.use", t.Ref(), d)
}
