package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestOIDCSettings(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDC.Enabled() || !c.LocalLogin || c.OIDC.Provision != "match" || c.MetricsToken != "" {
		t.Fatalf("defaults: %+v local=%v", c.OIDC, c.LocalLogin)
	}
	base := map[string]string{
		"PORTAL_OIDC_ISSUER": "https://id.example.com/realms/staff", "PORTAL_OIDC_CLIENT_ID": "portal",
		"PORTAL_OIDC_CLIENT_SECRET": "s3cret", "PORTAL_OIDC_PROVISION": "JIT", "PORTAL_LOCAL_LOGIN": "false",
		"PORTAL_OIDC_CLAIMS": "login=email, department=dept", "PORTAL_OIDC_ROLES": "hr-team=hr,leads=manager,admins=admin,admins=hr",
		"PORTAL_OIDC_SCOPES": "profile groups",
	}
	c, err = FromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OIDC
	if !o.Enabled() || !o.JIT() || c.LocalLogin || o.Claims["login"] != "email" || o.Claims["department"] != "dept" ||
		o.Claims["name"] != "name" || o.Claims["roles"] != "groups" || !slices.Equal(o.Roles["admins"], []string{"admin", "hr"}) ||
		!slices.Equal(o.Scopes, []string{"openid", "profile", "groups"}) || o.Name != "SSO" {
		t.Fatalf("parsed: %+v", o)
	}
	if strings.Contains(fmt.Sprint(c.Redacted()...), "s3cret") {
		t.Error("the client secret is in the logged settings")
	}
	for k, v := range map[string]string{
		"PORTAL_OIDC_ISSUER":        "",
		"PORTAL_OIDC_CLIENT_SECRET": "",
		"PORTAL_OIDC_PROVISION":     "sometimes",
		"PORTAL_OIDC_CLAIMS":        "phone=phone_number",
		"PORTAL_OIDC_ROLES":         "leads=boss",
		"PORTAL_LOCAL_LOGIN":        "perhaps",
		"PORTAL_METRICS_TOKEN":      "short",
	} {
		bad := map[string]string{}
		for bk, bv := range base {
			bad[bk] = bv
		}
		bad[k] = v
		if _, err := FromEnv(env(bad)); err == nil || !strings.Contains(err.Error(), "config:") {
			t.Errorf("%s=%q: want a config error, got %v", k, v, err)
		}
	}
}
