// Package sso signs people in through an OpenID Connect provider: the
// authorization code flow with state, nonce and PKCE, ID token checks,
// claims mapped to the portal's fields, and RP-initiated logout. It knows
// nothing of HTTP frameworks: the web package carries its cookie and
// redirects.
package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"conductportal/server/config"
	"conductportal/server/model"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Why a sign-on did not go through.
var (
	// ErrState: the sign-on cookie is missing, forged, expired, or not for
	// this answer (a replayed or cross-site callback).
	ErrState = errors.New("sso: sign-on state missing, expired or not matching")
	// ErrProvider: the provider could not be reached or refused the code.
	ErrProvider = errors.New("sso: the sign-on provider did not answer as expected")
	// ErrToken: the ID token failed its checks (signature, issuer,
	// audience, expiry, nonce).
	ErrToken = errors.New("sso: the ID token is not valid")
	// ErrClaims: the provider gave no usable login.
	ErrClaims = errors.New("sso: the provider gave no usable login")
)

// PendingTTL is how long a started sign-on may take at the provider.
const PendingTTL = 10 * time.Minute

// Client is the portal as a client of one provider.
type Client struct {
	cfg      config.OIDC
	redirect string // PORTAL_BASE_URL/auth/oidc/callback
	afterOut string // where the provider sends people after logging out
	key      []byte // signs the pending sign-on cookie
	http     *http.Client
	now      func() time.Time

	mu         sync.Mutex
	provider   *oidc.Provider // nil until discovered
	endSession string
}

// New returns a client for cfg; baseURL is the portal's public URL. The
// provider is discovered at the first sign-on (and again until that
// works), so a provider that is down does not stop the portal starting.
func New(cfg config.OIDC, baseURL string) *Client {
	k := sha256.Sum256([]byte("conduct-portal sign-on state\x00" + cfg.ClientSecret))
	return &Client{
		cfg: cfg, redirect: baseURL + "/auth/oidc/callback", afterOut: baseURL + "/login",
		key: k[:], http: &http.Client{Timeout: 10 * time.Second}, now: time.Now,
	}
}

// RedirectURL is the callback to register at the provider.
func (c *Client) RedirectURL() string { return c.redirect }

func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	// Not the request's context: the provider keeps it to fetch its keys later.
	p, err := oidc.NewProvider(oidc.ClientContext(context.Background(), c.http), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery: %w", ErrProvider, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	c.provider, c.endSession = p, extra.EndSession
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.redirect,
		Endpoint: p.Endpoint(), Scopes: c.cfg.Scopes,
	}
}

// pending is a started sign-on, kept in a signed cookie in the browser
// until the provider sends the person back.
type pending struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"e"`
}

// Start begins a sign-on: the provider's URL to send the browser to, and
// the value of the cookie to keep until the callback. next is where to go
// after (already checked to be a local path).
func (c *Client) Start(ctx context.Context, next string) (authURL, cookie string, err error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", "", err
	}
	pd := pending{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: c.now().Add(PendingTTL).Unix()}
	authURL = c.oauth(p).AuthCodeURL(pd.State, oidc.Nonce(pd.Nonce), oauth2.S256ChallengeOption(pd.Verifier))
	return authURL, c.seal(pd), nil
}

// Signed is a completed sign-on.
type Signed struct {
	Identity model.Identity
	IDToken  string // raw, for the logout hint
	Next     string
}

// Finish completes a sign-on from the callback's state and code and the
// cookie Start gave: it exchanges the code (with the PKCE verifier),
// verifies the ID token and its nonce, and maps the claims of the ID token
// and of the userinfo endpoint.
func (c *Client) Finish(ctx context.Context, cookie, state, code string) (*Signed, error) {
	pd, ok := c.open(cookie)
	if !ok || state == "" || !hmac.Equal([]byte(state), []byte(pd.State)) {
		return nil, ErrState
	}
	p, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	hctx := context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := c.oauth(p).Exchange(hctx, code, oauth2.VerifierOption(pd.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w: code exchange: %w", ErrProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no id_token in the answer", ErrToken)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: c.now}).Verify(oidc.ClientContext(hctx, c.http), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrToken, err)
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(pd.Nonce)) {
		return nil, fmt.Errorf("%w: nonce", ErrToken)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrToken, err)
	}
	// Many providers put profile and group claims only in userinfo; the
	// ID token's own claims win where both have one.
	if p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(oidc.ClientContext(hctx, c.http), oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("%w: userinfo: %w", ErrProvider, err)
		}
		more := map[string]any{}
		if ui.Subject == idt.Subject && ui.Claims(&more) == nil {
			for k, v := range more {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	id, err := c.identity(claims)
	if err != nil {
		return nil, err
	}
	// The verified token's issuer and subject name the provider account
	// for good; the account is bound to them (auth.SSOLogin).
	if idt.Subject == "" {
		return nil, ErrClaims
	}
	id.Issuer, id.Subject = idt.Issuer, idt.Subject
	return &Signed{Identity: id, IDToken: raw, Next: pd.Next}, nil
}

// identity maps claims to the portal's fields as configured.
func (c *Client) identity(claims map[string]any) (model.Identity, error) {
	str := func(field string) string {
		name := c.cfg.Claims[field]
		if name == "" {
			return ""
		}
		s, _ := claims[name].(string)
		return strings.TrimSpace(s)
	}
	id := model.Identity{Login: str("login"), Name: str("name"), Email: str("email"), Department: str("department")}
	if id.Login == "" {
		return id, ErrClaims
	}
	// An address the provider says is not verified may be anyone's (some
	// providers let people type their own): it neither names the account
	// nor receives its reminders.
	if v := claims["email_verified"]; v == false || v == "false" {
		if c.cfg.Claims["login"] == "email" {
			return id, ErrClaims
		}
		id.Email = ""
	}
	if len(c.cfg.Roles) > 0 {
		id.SyncRoles = true
		var values []string
		switch v := claims[c.cfg.Claims["roles"]].(type) {
		case string:
			values = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					values = append(values, s)
				}
			}
		}
		for _, v := range values {
			id.Roles = append(id.Roles, c.cfg.Roles[v]...)
		}
	}
	return id, nil
}

// LogoutURL is the provider's end-session URL for an ID token, when the
// provider has one (RP-initiated logout), else "".
func (c *Client) LogoutURL(ctx context.Context, idToken string) string {
	if _, err := c.discover(ctx); err != nil {
		return ""
	}
	c.mu.Lock()
	end := c.endSession
	c.mu.Unlock()
	u, err := url.Parse(end)
	if end == "" || err != nil {
		return ""
	}
	q := u.Query()
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", c.cfg.ClientID)
	q.Set("post_logout_redirect_uri", c.afterOut)
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) seal(pd pending) string {
	body, _ := json.Marshal(pd)
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + c.sign(b)
}

func (c *Client) open(cookie string) (pending, bool) {
	var pd pending
	b, sig, ok := strings.Cut(cookie, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(c.sign(b))) {
		return pd, false
	}
	body, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil || json.Unmarshal(body, &pd) != nil || c.now().Unix() > pd.Expires {
		return pd, false
	}
	return pd, true
}

func (c *Client) sign(b string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(b))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
