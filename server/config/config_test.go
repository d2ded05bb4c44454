package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAndValidation(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.MongoURI != "" || c.CookieSecure || c.BaseURL != "http://127.0.0.1:8080" {
		t.Fatalf("defaults: %+v", c)
	}
	for k, v := range map[string]string{
		"PORTAL_ADDR": "8080", "MONGODB_URI": "postgres://x", "PORTAL_COOKIE_SECURE": "maybe",
		"PORTAL_POSTGRESQL_URL": "postgres://pg/portal", // without MONGODB_URI
		"PORTAL_LOG_FORMAT":     "xml", "PORTAL_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip", "PORTAL_BASE_URL": "ftp://x",
	} {
		if _, err := FromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), "config:") {
			t.Errorf("%s=%s: want a config error, got %v", k, v, err)
		}
	}
}

func TestRedactedHidesPasswords(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"MONGODB_URI": "mongodb://portal:s3cret@db:27017/portal", "PORTAL_SMTP_URL": "smtp://u:hunter2@mail:587",
		"PORTAL_POSTGRESQL_URL": "postgres://ferretdb:pgs3cret@pg:5432/ferretdb"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, v := range c.Redacted() {
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", ""), "\t", "")))
	}
	if strings.Contains(b.String(), "s3cret") || strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "db:27017") || !strings.Contains(b.String(), "pg:5432") {
		t.Fatalf("redacted: %s", b.String())
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x + " "
	default:
		return ""
	}
}

// Without PORTAL_BASE_URL, links follow the address actually served; a set
// one is kept.
func TestBaseURLFollowsServedAddress(t *testing.T) {
	cfg, err := FromEnv(func(k string) string {
		if k == "PORTAL_DATA" {
			return t.TempDir()
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://127.0.0.1:8080" {
		t.Fatalf("default base URL %q", cfg.BaseURL)
	}
	if local := cfg.Served("192.168.1.10:9090"); local || cfg.BaseURL != "http://192.168.1.10:9090" {
		t.Errorf("served on 192.168.1.10:9090: base URL %q, local=%v", cfg.BaseURL, local)
	}
	if local := cfg.Served("0.0.0.0:9090"); !local {
		t.Error("0.0.0.0 is not reported as no address")
	}
	if local := cfg.Served("127.0.0.1:8081"); local || cfg.BaseURL != "http://127.0.0.1:8081" {
		t.Errorf("served on 127.0.0.1:8081: base URL %q, local=%v", cfg.BaseURL, local)
	}
	set, err := FromEnv(func(k string) string {
		if k == "PORTAL_BASE_URL" {
			return "https://portal.example.com"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if local := set.Served("127.0.0.1:9999"); local || set.BaseURL != "https://portal.example.com" {
		t.Errorf("an explicit base URL changed to %q", set.BaseURL)
	}
}
