package sso

import (
	"slices"
	"strings"
	"testing"
	"time"

	"conductportal/server/config"
)

func TestPendingCookieIsSignedAndExpires(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := New(config.OIDC{ClientSecret: "one secret"}, "https://portal.example.com")
	c.now = func() time.Time { return now }
	cookie := c.seal(pending{State: "s", Nonce: "n", Verifier: "v", Next: "/receipts", Expires: now.Add(PendingTTL).Unix()})
	if pd, ok := c.open(cookie); !ok || pd.State != "s" || pd.Next != "/receipts" {
		t.Fatalf("open: %+v %v", pd, ok)
	}
	body, sig, _ := strings.Cut(cookie, ".")
	for name, bad := range map[string]string{
		"tampered body":   strings.ToUpper(body[:4]) + body[4:] + "." + sig,
		"no signature":    body,
		"other secret":    New(config.OIDC{ClientSecret: "another secret"}, "").seal(pending{State: "s", Expires: now.Add(time.Minute).Unix()}),
		"empty":           "",
		"signature alone": "." + sig,
	} {
		if _, ok := c.open(bad); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	now = now.Add(PendingTTL + time.Second)
	if _, ok := c.open(cookie); ok {
		t.Error("an expired sign-on was accepted")
	}
}

func TestIdentityFromClaims(t *testing.T) {
	cfg := config.OIDC{
		Claims: map[string]string{"login": "email", "name": "name", "department": "", "roles": "roles"},
		Roles:  map[string][]string{"hr": {"hr"}, "leads": {"manager"}},
	}
	c := New(cfg, "https://portal.example.com")
	id, err := c.identity(map[string]any{"email": " li.na@example.com ", "name": "李娜", "department": "前台", "roles": "leads other"})
	if err != nil {
		t.Fatal(err)
	}
	if id.Login != "li.na@example.com" || id.Name != "李娜" || id.Department != "" || !id.SyncRoles || !slices.Equal(id.Roles, []string{"manager"}) {
		t.Errorf("identity: %+v", id)
	}
	if _, err := c.identity(map[string]any{"preferred_username": "li.na"}); err != ErrClaims {
		t.Errorf("no login claim: %v", err)
	}
	cfg.Roles = nil
	if id, _ := New(cfg, "").identity(map[string]any{"email": "a@b.c", "roles": []any{"hr"}}); id.SyncRoles || id.Roles != nil {
		t.Errorf("roles synced without a mapping: %+v", id)
	}
}

// TestUnverifiedEmail: an address the provider marks unverified never
// names the account (login=email), and is not kept as its address.
func TestUnverifiedEmail(t *testing.T) {
	byEmail := New(config.OIDC{Claims: map[string]string{"login": "email", "email": "email"}}, "")
	for _, v := range []any{false, "false"} {
		if _, err := byEmail.identity(map[string]any{"email": "boss@example.com", "email_verified": v}); err != ErrClaims {
			t.Errorf("email_verified %v: %v, want ErrClaims", v, err)
		}
	}
	if id, err := byEmail.identity(map[string]any{"email": "boss@example.com", "email_verified": true}); err != nil || id.Login != "boss@example.com" {
		t.Errorf("verified: %+v %v", id, err)
	}
	byName := New(config.OIDC{Claims: map[string]string{"login": "preferred_username", "email": "email"}}, "")
	if id, err := byName.identity(map[string]any{"preferred_username": "li.na", "email": "boss@example.com", "email_verified": false}); err != nil || id.Login != "li.na" || id.Email != "" {
		t.Errorf("unverified address kept: %+v %v", id, err)
	}
}
