package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Setting is one effective setting as the admin's settings page shows it:
// the value, safe to show (a secret only as set or unset, a URI without its
// password), and where it came from.
type Setting struct {
	Group string // general, database, mail, channels, reminders, security, sso
	Key   string // names the setting (the page's label)
	Value string // the value as text; "" when Word says it
	// Word is a value in words, for the page to translate: on, off, set,
	// unset, none, embedded, mongodb, file.
	Word string
	// Roles is a list of roles (the second step's requirement), translated by the page.
	Roles []string
	Env   string // the environment variable that sets it
	// Source is where the value came from: env (the variable), flag
	// (serve --addr), served (the address served, PORTAL_BASE_URL unset),
	// file (a key file in the data folder) or default.
	Source string
}

// Setting values in words.
const (
	WordOn       = "on"
	WordOff      = "off"
	WordSet      = "set"
	WordUnset    = "unset"
	WordNone     = "none"
	WordEmbedded = "embedded"
	WordMongoDB  = "mongodb"
	WordFile     = "file"
)

// Setting sources.
const (
	SourceEnv     = "env"
	SourceFlag    = "flag"
	SourceServed  = "served"
	SourceFile    = "file"
	SourceDefault = "default"
)

// Settings returns the effective settings in the order the page shows
// them. No secret's value is in it: passwords, client secrets, tokens and
// keys are only "set" or "unset".
func (c *Config) Settings() []Setting {
	var out []Setting
	add := func(group, key, env, value, word string) {
		src := SourceDefault
		if c.fromEnv[env] {
			src = SourceEnv
		}
		if value == "" && word == "" {
			word = WordNone
		}
		out = append(out, Setting{Group: group, Key: key, Value: value, Word: word, Env: env, Source: src})
	}
	text := func(group, key, env, value string) { add(group, key, env, value, "") }
	flag := func(group, key, env string, on bool) { add(group, key, env, "", onOff(on)) }
	secret := func(group, key, env string, set bool) {
		w := WordUnset
		if set {
			w = WordSet
		}
		add(group, key, env, "", w)
	}

	text("general", "company", "PORTAL_COMPANY_NAME", c.CompanyName)
	text("general", "base_url", "PORTAL_BASE_URL", c.BaseURL)
	if c.baseURLFromAddr {
		out[len(out)-1].Source = SourceServed
	}
	text("general", "addr", "PORTAL_ADDR", c.Addr)
	if c.Addr != c.envAddr {
		out[len(out)-1].Source = SourceFlag
	}
	if c.ContentDir == "" {
		add("general", "content", "PORTAL_CONTENT", "", WordEmbedded)
	} else {
		text("general", "content", "PORTAL_CONTENT", c.ContentDir)
	}
	text("general", "logo", "PORTAL_LOGO", c.LogoFile)
	text("general", "log_format", "PORTAL_LOG_FORMAT", c.LogFormat)

	if c.MongoURI == "" {
		add("database", "database", "MONGODB_URI", "", WordEmbedded)
	} else {
		add("database", "database", "MONGODB_URI", "", WordMongoDB)
		text("database", "mongodb_uri", "MONGODB_URI", SafeURI(c.MongoURI))
	}
	text("database", "data_dir", "PORTAL_DATA", c.DataDir)

	host, from, user, pass := c.smtpParts()
	if host == "" {
		add("mail", "smtp_host", "PORTAL_SMTP_URL", "", WordOff)
	} else {
		text("mail", "smtp_host", "PORTAL_SMTP_URL", host)
		text("mail", "smtp_from", "PORTAL_SMTP_URL", from)
		text("mail", "smtp_user", "PORTAL_SMTP_URL", user)
		secret("mail", "smtp_password", "PORTAL_SMTP_URL", pass)
	}

	secret("channels", "channels_env", "PORTAL_CHANNELS", c.Channels != "")
	flag("channels", "delivery_worker", "PORTAL_DELIVERY_WORKER", c.DeliveryWorker)

	text("reminders", "remind_days", "PORTAL_REMIND_DAYS", strconv.Itoa(c.RemindDays))
	text("reminders", "escalate_days", "PORTAL_ESCALATE_DAYS", strconv.Itoa(c.EscalateDays))
	flag("reminders", "reminder_job", "PORTAL_REMINDER_JOB", c.ReminderJob)

	add("security", "mfa_required", "PORTAL_MFA_REQUIRED", "", "")
	if len(c.MFARequired) > 0 {
		out[len(out)-1].Word, out[len(out)-1].Roles = "", append([]string(nil), c.MFARequired...)
	}
	flag("security", "local_login", "PORTAL_LOCAL_LOGIN", c.LocalLogin)
	flag("security", "employee_tokens", "PORTAL_EMPLOYEE_TOKENS", c.EmployeeTokens)
	flag("security", "cookie_secure", "PORTAL_COOKIE_SECURE", c.CookieSecure)
	text("security", "trusted_proxies", "PORTAL_TRUSTED_PROXIES", strings.Join(c.TrustedProxies, ", "))
	secret("security", "metrics_token", "PORTAL_METRICS_TOKEN", c.MetricsToken != "")
	c.keySetting(&out, "secret_key", "PORTAL_SECRET_KEY", c.SecretKey != "", c.MongoURI == "")
	c.keySetting(&out, "signing_key", "PORTAL_SIGNING_KEY", c.SigningKey != "", true)
	flag("security", "checkpoint_job", "PORTAL_CHECKPOINT_JOB", c.CheckpointJob)

	if !c.OIDC.Enabled() {
		add("sso", "oidc_issuer", "PORTAL_OIDC_ISSUER", "", WordOff)
	} else {
		text("sso", "oidc_issuer", "PORTAL_OIDC_ISSUER", c.OIDC.Issuer)
		text("sso", "oidc_client_id", "PORTAL_OIDC_CLIENT_ID", c.OIDC.ClientID)
		secret("sso", "oidc_client_secret", "PORTAL_OIDC_CLIENT_SECRET", c.OIDC.ClientSecret != "")
		text("sso", "oidc_name", "PORTAL_OIDC_NAME", c.OIDC.Name)
		text("sso", "oidc_provision", "PORTAL_OIDC_PROVISION", c.OIDC.Provision)
		text("sso", "oidc_scopes", "PORTAL_OIDC_SCOPES", strings.Join(c.OIDC.Scopes, " "))
	}
	return out
}

// keySetting adds a key that is the variable's or, unset, a file in the
// data folder (when there is one for it), or nothing.
func (c *Config) keySetting(out *[]Setting, key, env string, set, file bool) {
	s := Setting{Group: "security", Key: key, Env: env, Word: WordSet, Source: SourceEnv}
	switch {
	case set:
	case file:
		s.Word, s.Source = WordFile, SourceFile
	default:
		s.Word, s.Source = WordUnset, SourceDefault
	}
	*out = append(*out, s)
}

func onOff(on bool) string {
	if on {
		return WordOn
	}
	return WordOff
}

// smtpParts splits PORTAL_SMTP_URL into what may be shown (host:port,
// sender, user) and whether it holds a password.
func (c *Config) smtpParts() (host, from, user string, password bool) {
	if c.SMTPURL == "" {
		return "", "", "", false
	}
	u, err := url.Parse(c.SMTPURL)
	if err != nil {
		return "", "", "", false
	}
	port := u.Port()
	if port == "" {
		port = "587"
	}
	host = net.JoinHostPort(u.Hostname(), port)
	if from = u.Query().Get("from"); from == "" {
		from = "portal@" + u.Hostname()
	}
	if u.User != nil {
		user = u.User.Username()
		_, password = u.User.Password()
	}
	return host, from, user, password
}

// SafeURI is a database URI to show: scheme, user, hosts and database,
// without the password or the options (which may hold key passwords).
func SafeURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	safe := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		safe.User = url.User(u.User.Username())
	}
	return safe.String()
}
