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
		"PORTAL_LOG_FORMAT": "xml", "PORTAL_TRUSTED_PROXIES": "10.0.0.0/8,not-an-ip", "PORTAL_BASE_URL": "ftp://x",
	} {
		if _, err := FromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), "config:") {
			t.Errorf("%s=%s: want a config error, got %v", k, v, err)
		}
	}
}

func TestRedactedHidesPasswords(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"MONGODB_URI": "mongodb://portal:s3cret@db:27017/portal", "PORTAL_SMTP_URL": "smtp://u:hunter2@mail:587"}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, v := range c.Redacted() {
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", ""), "\t", "")))
	}
	if strings.Contains(b.String(), "s3cret") || strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "db:27017") {
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
