package config

import (
	"strings"
	"testing"
)

// Settings says where each value came from and never holds a secret's value.
func TestSettingsSourcesWithoutSecrets(t *testing.T) {
	secrets := map[string]string{
		"MONGODB_URI":               "mongodb://portal:mongo-pass-1@db1:27017,db2:27017/portal?tlsCertificateKeyFilePassword=tls-pass-2",
		"PORTAL_SMTP_URL":           "smtp://mailer:smtp-pass-3@mail.example.com:2525?from=training@example.com",
		"PORTAL_METRICS_TOKEN":      "metrics-token-4-abcdefgh",
		"PORTAL_SECRET_KEY":         strings.Repeat("ab", 32),
		"PORTAL_SIGNING_KEY":        "c2lnbmluZy1rZXktNS1zZWNyZXQtdmFsdWUtMzJieQ==",
		"PORTAL_OIDC_ISSUER":        "https://id.example.com",
		"PORTAL_OIDC_CLIENT_ID":     "portal-client",
		"PORTAL_OIDC_CLIENT_SECRET": "oidc-secret-6",
		"PORTAL_COMPANY_NAME":       "Acme",
		"PORTAL_MFA_REQUIRED":       "hr,admin",
	}
	c, err := FromEnv(env(secrets))
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = "127.0.0.1:9191" // as serve --addr does
	got := map[string]Setting{}
	var all strings.Builder
	for _, s := range c.Settings() {
		got[s.Key] = s
		all.WriteString(s.Value + " " + s.Word + " " + strings.Join(s.Roles, ",") + "\n")
	}
	for _, k := range []string{"MONGODB_URI", "PORTAL_METRICS_TOKEN", "PORTAL_SECRET_KEY", "PORTAL_SIGNING_KEY", "PORTAL_OIDC_CLIENT_SECRET"} {
		if strings.Contains(all.String(), secrets[k]) {
			t.Errorf("the settings show %s's value", k)
		}
	}
	for _, v := range []string{"mongo-pass-1", "tls-pass-2", "smtp-pass-3"} {
		if strings.Contains(all.String(), v) {
			t.Errorf("the settings show the password %q", v)
		}
	}
	for key, want := range map[string]Setting{
		"company":            {Value: "Acme", Source: SourceEnv, Env: "PORTAL_COMPANY_NAME"},
		"addr":               {Value: "127.0.0.1:9191", Source: SourceFlag},
		"base_url":           {Value: "http://127.0.0.1:8080", Source: SourceServed},
		"log_format":         {Value: "text", Source: SourceDefault},
		"database":           {Word: WordMongoDB, Source: SourceEnv},
		"mongodb_uri":        {Value: "mongodb://portal@db1:27017,db2:27017/portal", Source: SourceEnv},
		"smtp_host":          {Value: "mail.example.com:2525", Source: SourceEnv},
		"smtp_from":          {Value: "training@example.com"},
		"smtp_password":      {Word: WordSet},
		"oidc_client_id":     {Value: "portal-client"},
		"oidc_client_secret": {Word: WordSet},
		"metrics_token":      {Word: WordSet},
		"secret_key":         {Word: WordSet, Source: SourceEnv},
		"trusted_proxies":    {Word: WordNone, Source: SourceDefault},
		"reminder_job":       {Word: WordOn, Source: SourceDefault},
	} {
		s, ok := got[key]
		switch {
		case !ok:
			t.Errorf("no setting %s", key)
		case want.Value != "" && s.Value != want.Value, want.Word != "" && s.Word != want.Word,
			want.Source != "" && s.Source != want.Source, want.Env != "" && s.Env != want.Env:
			t.Errorf("%s = %+v, want %+v", key, s, want)
		}
	}
	if r := got["mfa_required"].Roles; strings.Join(r, ",") != "hr,admin" {
		t.Errorf("mfa_required roles %v", r)
	}

	// The embedded database: keys in files of the data folder, no SMTP.
	d, err := FromEnv(env(map[string]string{"PORTAL_BASE_URL": "https://portal.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	dg := map[string]Setting{}
	for _, s := range d.Settings() {
		dg[s.Key] = s
	}
	if s := dg["secret_key"]; s.Word != WordFile || s.Source != SourceFile {
		t.Errorf("embedded secret key %+v", s)
	}
	if s := dg["base_url"]; s.Source != SourceEnv || s.Value != "https://portal.example.com" {
		t.Errorf("base URL set %+v", s)
	}
	if s := dg["smtp_host"]; s.Word != WordOff {
		t.Errorf("no SMTP %+v", s)
	}
	if _, ok := dg["smtp_password"]; ok {
		t.Error("a password line without SMTP")
	}
	if s := dg["database"]; s.Word != WordEmbedded || s.Source != SourceDefault {
		t.Errorf("embedded database %+v", s)
	}
}
