package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// OIDC is the single sign-on setup. The portal is a confidential client of
// the provider: authorization code flow with PKCE, redirect URL
// PORTAL_BASE_URL/auth/oidc/callback.
type OIDC struct {
	Issuer       string // PORTAL_OIDC_ISSUER, as the provider's discovery document names it
	ClientID     string // PORTAL_OIDC_CLIENT_ID
	ClientSecret string // PORTAL_OIDC_CLIENT_SECRET
	// Name is the provider's name on the login button (PORTAL_OIDC_NAME).
	Name string
	// Scopes asked for (PORTAL_OIDC_SCOPES, space or comma separated).
	Scopes []string
	// Claims names the claim that gives each of login, name, email,
	// department and roles (PORTAL_OIDC_CLAIMS=login=preferred_username,...).
	Claims map[string]string
	// Roles maps a value of the roles claim to a portal role
	// (PORTAL_OIDC_ROLES=portal-hr=hr,portal-managers=manager). Empty: the
	// portal's roles are HR's to set and a login leaves them alone.
	Roles map[string][]string
	// Provision (PORTAL_OIDC_PROVISION): "jit" creates an account at a
	// first login; "match" (the default) only lets in existing accounts.
	Provision string
}

// ClaimKeys are the account fields a claim can give.
var ClaimKeys = []string{"login", "name", "email", "department", "roles"}

// Enabled reports whether single sign-on is configured.
func (o *OIDC) Enabled() bool { return o.Issuer != "" }

// JIT reports whether a first login creates the account.
func (o *OIDC) JIT() bool { return o.Provision == "jit" }

func (o *OIDC) fromEnv(get func(k, def string) string) error {
	o.Issuer = get("PORTAL_OIDC_ISSUER", "")
	o.ClientID = get("PORTAL_OIDC_CLIENT_ID", "")
	o.ClientSecret = get("PORTAL_OIDC_CLIENT_SECRET", "")
	o.Name = get("PORTAL_OIDC_NAME", "SSO")
	o.Provision = strings.ToLower(get("PORTAL_OIDC_PROVISION", "match"))
	o.Scopes = strings.FieldsFunc(get("PORTAL_OIDC_SCOPES", "openid profile email"), func(r rune) bool { return r == ' ' || r == ',' })
	if !slices.Contains(o.Scopes, "openid") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	o.Claims = map[string]string{"login": "preferred_username", "name": "name", "email": "email", "department": "department", "roles": "groups"}
	for _, kv := range splitList(get("PORTAL_OIDC_CLAIMS", "")) {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !slices.Contains(ClaimKeys, k) {
			return fmt.Errorf("config: PORTAL_OIDC_CLAIMS: %q: want FIELD=CLAIM with FIELD one of %s", kv, strings.Join(ClaimKeys, ", "))
		}
		o.Claims[k] = v // an empty claim turns the field off
	}
	o.Roles = map[string][]string{}
	for _, kv := range splitList(get("PORTAL_OIDC_ROLES", "")) {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || !slices.Contains([]string{"employee", "manager", "hr", "admin"}, v) {
			return fmt.Errorf("config: PORTAL_OIDC_ROLES: %q: want VALUE=ROLE with ROLE one of employee, manager, hr, admin", kv)
		}
		o.Roles[k] = append(o.Roles[k], v)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (o *OIDC) validate() error {
	if o.Issuer == "" {
		if o.ClientID != "" || o.ClientSecret != "" {
			return fmt.Errorf("config: PORTAL_OIDC_CLIENT_ID is set without PORTAL_OIDC_ISSUER")
		}
		return nil
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("config: PORTAL_OIDC_ISSUER=%q: want the provider's https URL", o.Issuer)
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return fmt.Errorf("config: PORTAL_OIDC_ISSUER needs PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET")
	}
	if o.Provision != "jit" && o.Provision != "match" {
		return fmt.Errorf("config: PORTAL_OIDC_PROVISION=%q: want jit or match", o.Provision)
	}
	if o.Claims["login"] == "" {
		return fmt.Errorf("config: PORTAL_OIDC_CLAIMS: login needs a claim")
	}
	if len([]rune(o.Name)) > 40 {
		return fmt.Errorf("config: PORTAL_OIDC_NAME is longer than 40 characters")
	}
	return nil
}
