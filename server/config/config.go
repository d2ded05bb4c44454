// Package config reads the portal's settings from the environment once, and
// validates them. The Config is passed down; nothing reads the environment later.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the portal.
type Config struct {
	Addr       string // PORTAL_ADDR
	MongoURI   string // MONGODB_URI; empty: embedded database
	DataDir    string // PORTAL_DATA
	ContentDir string // PORTAL_CONTENT; empty: the embedded content
	BaseURL    string // PORTAL_BASE_URL
	// PostgreSQLURL (PORTAL_POSTGRESQL_URL) is the PostgreSQL database
	// behind FerretDB when MONGODB_URI is FerretDB on PostgreSQL: the portal
	// adds there the _id indexes FerretDB's reads can use.
	PostgreSQLURL string
	// baseURLFromAddr: PORTAL_BASE_URL was not set, so BaseURL follows the
	// address actually served (Served).
	baseURLFromAddr bool
	CookieSecure    bool     // PORTAL_COOKIE_SECURE
	TrustedProxies  []string // PORTAL_TRUSTED_PROXIES, comma separated
	LogFormat       string   // PORTAL_LOG_FORMAT: text or json
	SMTPURL         string   // PORTAL_SMTP_URL
	CompanyName     string   // PORTAL_COMPANY_NAME, shown beside the portal's name
	LogoFile        string   // PORTAL_LOGO: a PNG, JPEG or SVG file shown in the header
	MFARequired     []string // PORTAL_MFA_REQUIRED: roles that must use a second factor
	RemindDays      int      // PORTAL_REMIND_DAYS: remind people this many days before a due date
	EscalateDays    int      // PORTAL_ESCALATE_DAYS: tell the manager when this many days overdue
	ReminderJob     bool     // PORTAL_REMINDER_JOB: run the daily reminder job in this process
	CheckpointJob   bool     // PORTAL_CHECKPOINT_JOB: sign the receipt chains' heads daily in this process
	// MetricsToken (PORTAL_METRICS_TOKEN) lets a scraper that is not on
	// loopback read /metrics with Authorization: Bearer.
	MetricsToken string
	// OIDC is single sign-on with an OpenID Connect provider (PORTAL_OIDC_*).
	OIDC OIDC
	// LocalLogin (PORTAL_LOCAL_LOGIN, default true): false hides the
	// password form and refuses password logins; people sign in with OIDC.
	LocalLogin     bool
	DeliveryWorker bool // PORTAL_DELIVERY_WORKER: send queued channel messages from this process
	// EmployeeTokens (PORTAL_EMPLOYEE_TOKENS, default off): on lets people
	// who are only employees make API tokens for their own training;
	// managers, HR and admins always may.
	EmployeeTokens bool
	// SecretKey seals channel secrets (PORTAL_SECRET_KEY, 32 bytes as hex or
	// base64). Unset with the embedded database: <data>/secret.key.
	SecretKey string
	// SigningKey signs the receipt checkpoints (PORTAL_SIGNING_KEY, base64
	// of a 32-byte Ed25519 seed). Unset: <data>/signing.key, made on the
	// first start. Never stored in the database.
	SigningKey string
	// Channels is PORTAL_CHANNELS: a JSON array of channels created on the
	// first start (when there are none); HR manages them afterwards.
	Channels string

	// Timeouts against slow or idle clients (not from the environment).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration

	// fromEnv holds the variables the environment set (not defaults), and
	// envAddr the address they gave, so Settings can say where each value
	// came from (serve --addr overrides Addr afterwards).
	fromEnv map[string]bool
	envAddr string
}

// FromEnv reads the configuration from getenv (os.Getenv when nil).
func FromEnv(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	set := map[string]bool{}
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			set[k] = true
			return v
		}
		return def
	}
	c := &Config{
		Addr:        get("PORTAL_ADDR", "127.0.0.1:8080"),
		MongoURI:    get("MONGODB_URI", ""),
		DataDir:     get("PORTAL_DATA", "./data"),
		ContentDir:  get("PORTAL_CONTENT", ""),
		BaseURL:     strings.TrimRight(get("PORTAL_BASE_URL", ""), "/"),
		LogFormat:   get("PORTAL_LOG_FORMAT", "text"),
		SMTPURL:     get("PORTAL_SMTP_URL", ""),
		CompanyName: get("PORTAL_COMPANY_NAME", ""),
		LogoFile:    get("PORTAL_LOGO", ""),
		SecretKey:   get("PORTAL_SECRET_KEY", ""),
		SigningKey:  get("PORTAL_SIGNING_KEY", ""),
		Channels:    get("PORTAL_CHANNELS", ""),

		MetricsToken: get("PORTAL_METRICS_TOKEN", ""),

		ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
	}
	c.PostgreSQLURL = get("PORTAL_POSTGRESQL_URL", "")
	switch v := strings.ToLower(get("PORTAL_COOKIE_SECURE", "false")); v {
	case "true", "1", "yes":
		c.CookieSecure = true
	case "false", "0", "no":
	default:
		return nil, fmt.Errorf("config: PORTAL_COOKIE_SECURE=%q: want true or false", v)
	}
	for _, d := range []struct {
		key string
		def string
		to  *int
	}{{"PORTAL_REMIND_DAYS", "3", &c.RemindDays}, {"PORTAL_ESCALATE_DAYS", "7", &c.EscalateDays}} {
		n, err := strconv.Atoi(get(d.key, d.def))
		if err != nil || n < 0 || n > 365 {
			return nil, fmt.Errorf("config: %s=%q: want a number of days from 0 to 365", d.key, get(d.key, d.def))
		}
		*d.to = n
	}
	if err := c.OIDC.fromEnv(get); err != nil {
		return nil, err
	}
	switch v := strings.ToLower(get("PORTAL_LOCAL_LOGIN", "true")); v {
	case "true", "1", "yes", "on":
		c.LocalLogin = true
	case "false", "0", "no", "off":
	default:
		return nil, fmt.Errorf("config: PORTAL_LOCAL_LOGIN=%q: want true or false", v)
	}
	switch v := strings.ToLower(get("PORTAL_REMINDER_JOB", "on")); v {
	case "on", "true", "1", "yes":
		c.ReminderJob = true
	case "off", "false", "0", "no":
	default:
		return nil, fmt.Errorf("config: PORTAL_REMINDER_JOB=%q: want on or off", v)
	}
	switch v := strings.ToLower(get("PORTAL_CHECKPOINT_JOB", "on")); v {
	case "on", "true", "1", "yes":
		c.CheckpointJob = true
	case "off", "false", "0", "no":
	default:
		return nil, fmt.Errorf("config: PORTAL_CHECKPOINT_JOB=%q: want on or off", v)
	}
	switch v := strings.ToLower(get("PORTAL_EMPLOYEE_TOKENS", "off")); v {
	case "on", "true", "1", "yes":
		c.EmployeeTokens = true
	case "off", "false", "0", "no":
	default:
		return nil, fmt.Errorf("config: PORTAL_EMPLOYEE_TOKENS=%q: want on or off", v)
	}
	switch v := strings.ToLower(get("PORTAL_DELIVERY_WORKER", "on")); v {
	case "on", "true", "1", "yes":
		c.DeliveryWorker = true
	case "off", "false", "0", "no":
	default:
		return nil, fmt.Errorf("config: PORTAL_DELIVERY_WORKER=%q: want on or off", v)
	}
	if p := get("PORTAL_TRUSTED_PROXIES", ""); p != "" {
		for _, s := range strings.Split(p, ",") {
			c.TrustedProxies = append(c.TrustedProxies, strings.TrimSpace(s))
		}
	}
	if r := get("PORTAL_MFA_REQUIRED", ""); r != "" {
		for _, role := range strings.Split(r, ",") {
			role = strings.TrimSpace(role)
			switch role {
			case "employee", "manager", "hr", "admin":
				c.MFARequired = append(c.MFARequired, role)
			default:
				return nil, fmt.Errorf("config: PORTAL_MFA_REQUIRED: unknown role %q (employee, manager, hr, admin)", role)
			}
		}
	}
	if c.BaseURL == "" {
		c.BaseURL, c.baseURLFromAddr = "http://"+c.Addr, true
	}
	c.fromEnv, c.envAddr = set, c.Addr
	return c, c.Validate()
}

// Served records the address the portal listens on: without
// PORTAL_BASE_URL, links in messages and certificates point there (serve
// --addr, or port 0, would otherwise leave them at PORTAL_ADDR's). It
// reports whether the base URL is no address at all (0.0.0.0 or ::, every
// interface), so the caller can warn that links need PORTAL_BASE_URL.
func (c *Config) Served(addr string) (local bool) {
	if !c.baseURLFromAddr {
		return false
	}
	c.BaseURL = "http://" + addr
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsUnspecified()
}

// Validate checks that every setting makes sense.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("config: PORTAL_ADDR=%q: want host:port: %w", c.Addr, err)
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return fmt.Errorf("config: MONGODB_URI must start with mongodb:// or mongodb+srv://")
	}
	if c.PostgreSQLURL != "" {
		if c.MongoURI == "" {
			return fmt.Errorf("config: PORTAL_POSTGRESQL_URL is for FerretDB on PostgreSQL: set MONGODB_URI to that FerretDB too")
		}
		if !strings.HasPrefix(c.PostgreSQLURL, "postgres://") && !strings.HasPrefix(c.PostgreSQLURL, "postgresql://") {
			return fmt.Errorf("config: PORTAL_POSTGRESQL_URL must start with postgres:// or postgresql://")
		}
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config: PORTAL_BASE_URL=%q: want an http(s) URL", c.BaseURL)
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
			return fmt.Errorf("config: PORTAL_SMTP_URL: want smtp://user:password@host:587?from=portal@example.com")
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("config: PORTAL_LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	if c.LogoFile != "" {
		switch strings.ToLower(filepath.Ext(c.LogoFile)) {
		case ".png", ".jpg", ".jpeg", ".svg":
		default:
			return fmt.Errorf("config: PORTAL_LOGO=%q: want a .png, .jpg or .svg file", c.LogoFile)
		}
		st, err := os.Stat(c.LogoFile)
		if err != nil || st.IsDir() || st.Size() > 512<<10 {
			return fmt.Errorf("config: PORTAL_LOGO=%q: want a readable file of at most 512 KiB", c.LogoFile)
		}
	}
	if err := c.OIDC.validate(); err != nil {
		return err
	}
	if !c.LocalLogin && !c.OIDC.Enabled() {
		return fmt.Errorf("config: PORTAL_LOCAL_LOGIN=false needs single sign-on: set PORTAL_OIDC_ISSUER, PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return fmt.Errorf("config: PORTAL_METRICS_TOKEN is shorter than 16 characters")
	}
	if len([]rune(c.CompanyName)) > 60 {
		return fmt.Errorf("config: PORTAL_COMPANY_NAME is longer than 60 characters")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return fmt.Errorf("config: PORTAL_TRUSTED_PROXIES: %q is not an address or CIDR range", p)
			}
		}
	}
	return nil
}

// Redacted returns the settings for the log, passwords in URIs masked.
func (c *Config) Redacted() []any {
	return []any{
		"addr", c.Addr, "database", redactURL(c.MongoURI, "embedded in "+c.DataDir),
		"postgresql", redactURL(c.PostgreSQLURL, "unset"),
		"content", orDefault(c.ContentDir, "embedded"), "base_url", c.BaseURL,
		"cookie_secure", c.CookieSecure, "trusted_proxies", c.TrustedProxies,
		"smtp", redactURL(c.SMTPURL, "off"), "remind_days", c.RemindDays, "escalate_days", c.EscalateDays, "reminder_job", c.ReminderJob,
		"checkpoint_job", c.CheckpointJob,
		"metrics_token", c.MetricsToken != "", "oidc_issuer", orDefault(c.OIDC.Issuer, "off"),
		"oidc_provision", c.OIDC.Provision, "local_login", c.LocalLogin, "time_zone", time.Local.String(),
		"delivery_worker", c.DeliveryWorker, "secret_key", orDefault(mask(c.SecretKey), "unset"),
		"signing_key", orDefault(mask(c.SigningKey), "signing.key"), "channels_env", c.Channels != "",
	}
}

// mask says a secret is set without showing it.
func mask(s string) string {
	if s == "" {
		return ""
	}
	return "set"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func redactURL(raw, empty string) string {
	if raw == "" {
		return empty
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}
