package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image/png"
	"strings"
	"time"

	"conductportal/server/audit"
	"conductportal/server/fault"
	"conductportal/server/model"
	"conductportal/server/secret"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Errors of the second factor.
var (
	ErrBadCode error = &fault.Error{Kind: fault.Invalid, Text: "auth: wrong or used code",
		Key: "mfa.bad_code", Message: "wrong or used code", Field: "code"}
	ErrNoEnrolment error = &fault.Error{Kind: fault.Conflict, Text: "auth: no second factor is being set up"}
	ErrMFAEnabled  error = &fault.Error{Kind: fault.Conflict, Text: "auth: the second factor is already on"}
	// ErrNoKey: the portal has no secret key to seal a second factor with.
	ErrNoKey         = secret.ErrNoKey
	recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
)

const (
	totpPeriod     = 30
	recoveryCodes  = 10
	pendingTimeout = 10 * time.Minute // to type the code after the password
)

// SetSecrets gives the key that seals second-factor secrets in the
// database (nil: none, and enrolling is refused with ErrNoKey).
func (s *Service) SetSecrets(box *secret.Box) { s.secrets = box }

// open reads a stored second-factor secret. One stored before secrets were
// sealed (schema step 8 seals them at start) is read as it is.
func (s *Service) open(stored string) (string, error) {
	if !secret.Sealed(stored) {
		return stored, nil
	}
	plain, err := s.secrets.Open(stored)
	if err != nil {
		return "", fmt.Errorf("auth: open the second factor: %w", err)
	}
	return plain, nil
}

// MFARequired reports whether one of u's roles must use a second factor.
func MFARequired(u *model.User, roles []string) bool {
	for _, r := range roles {
		if u.HasRole(r) {
			return true
		}
	}
	return false
}

// Enrolment is what the setup page shows: the secret as a QR code and as
// text for typing into the app by hand.
type Enrolment struct {
	Secret string
	URL    string // otpauth:// URL
	QRCode string // data: URL of a PNG
}

// StartEnrolment makes a new secret to set up for u.
func (s *Service) StartEnrolment(ctx context.Context, u *model.User) error {
	if u.MFA.Enabled {
		return ErrMFAEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "x", AccountName: u.Login, Period: totpPeriod, Rand: rand.Reader})
	if err != nil {
		return fmt.Errorf("auth: totp secret: %w", err)
	}
	sealed, err := s.secrets.Seal(key.Secret())
	if err != nil {
		return fmt.Errorf("auth: seal the second factor: %w", err)
	}
	m := u.MFA
	m.Pending = sealed
	if err := s.store.SetMFA(ctx, u.ID, m); err != nil {
		return err
	}
	u.MFA = m
	return nil
}

// Enrolment shows the secret being set up, or nil when none is.
func (s *Service) Enrolment(u *model.User, issuer string) (*Enrolment, error) {
	if u.MFA.Enabled || u.MFA.Pending == "" {
		return nil, nil
	}
	secret, err := s.open(u.MFA.Pending)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s&period=%d&digits=6&algorithm=SHA1",
		escape(issuer), escape(u.Login), secret, escape(issuer), totpPeriod)
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		return nil, fmt.Errorf("auth: totp key: %w", err)
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return nil, fmt.Errorf("auth: qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("auth: qr code: %w", err)
	}
	return &Enrolment{Secret: secret, URL: url, QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func escape(s string) string {
	return strings.NewReplacer(" ", "%20", ":", "%3A", "&", "%26", "?", "%3F", "#", "%23", "/", "%2F").Replace(s)
}

// ConfirmEnrolment turns the second factor on when code matches the secret
// being set up, and returns ten recovery codes, shown only this once.
func (s *Service) ConfirmEnrolment(ctx context.Context, u *model.User, code string) ([]string, error) {
	if u.MFA.Enabled {
		return nil, ErrMFAEnabled
	}
	if u.MFA.Pending == "" {
		return nil, ErrNoEnrolment
	}
	pending, err := s.open(u.MFA.Pending)
	if err != nil {
		return nil, err
	}
	step, ok := matchStep(pending, code, s.clock())
	if !ok {
		return nil, ErrBadCode
	}
	codes, hashes := newRecoveryCodes()
	m := model.MFA{Enabled: true, Secret: u.MFA.Pending, LastStep: step, Recovery: hashes, Since: s.clock()}
	if err := s.store.SetMFA(ctx, u.ID, m); err != nil {
		return nil, err
	}
	u.MFA = m
	return codes, nil
}

// EnableMFA is ConfirmEnrolment from the person's session keep: the other
// sessions, opened with the password alone, end; the change is audited
// with the client's address.
func (s *Service) EnableMFA(ctx context.Context, u *model.User, keep, code, client string) ([]string, error) {
	codes, err := s.ConfirmEnrolment(ctx, u, code)
	if err != nil {
		return nil, err
	}
	if err := s.EndOtherSessions(ctx, u, keep); err != nil {
		return nil, err
	}
	if err := s.auditChange(ctx, model.Actor{Login: u.Login, Client: client}, "mfa.enable", u.Login, audit.Detail{}); err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckSecondFactor accepts a current TOTP code (one step either side, each
// step once) or an unused recovery code.
func (s *Service) CheckSecondFactor(ctx context.Context, u *model.User, code string) error {
	if !u.MFA.Enabled {
		return ErrNoEnrolment
	}
	// A code is used once, racing requests included: storage lets one
	// user's code checks take turns (UseMFAStep, UseRecoveryCode).
	code = strings.ToLower(strings.Join(strings.Fields(code), ""))
	if len(code) > 6 {
		ok, err := s.store.UseRecoveryCode(ctx, u.ID, hashRecovery(code))
		if err != nil {
			return err
		}
		if !ok {
			return ErrBadCode
		}
		return nil
	}
	plain, err := s.open(u.MFA.Secret)
	if err != nil {
		return err
	}
	step, ok := matchStep(plain, code, s.clock())
	if !ok || step <= u.MFA.LastStep {
		return ErrBadCode
	}
	fresh, err := s.store.UseMFAStep(ctx, u.ID, step)
	if err != nil {
		return err
	}
	if !fresh {
		return ErrBadCode
	}
	return nil
}

// ErrMFARequired refuses turning off a second factor the person's role
// must use.
var ErrMFARequired error = &fault.Error{Kind: fault.Forbidden, Text: "auth: this role must use a second factor",
	Code: "mfa_required", Key: "mfa.off.required", Message: "your role must use two-step sign-in"}

// NewRecoveryCodes replaces u's recovery codes with ten new ones, shown only
// this once, after a current code (or an unused recovery code): whoever
// holds an old list, or the session alone, cannot.
func (s *Service) NewRecoveryCodes(ctx context.Context, u *model.User, code, client string) ([]string, error) {
	if err := s.CheckSecondFactor(ctx, u, code); err != nil {
		return nil, err
	}
	codes, hashes := newRecoveryCodes()
	if err := s.store.SetRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, err
	}
	u.MFA.Recovery = hashes
	if err := s.auditChange(ctx, model.Actor{Login: u.Login, Client: client}, "mfa.codes", u.Login,
		audit.Detail{Key: "audit.detail.mfa_codes", Text: "new recovery codes; the old ones no longer work"}); err != nil {
		return nil, err
	}
	return codes, nil
}

// TurnOffMFA turns u's own second factor off after a current code (or an
// unused recovery code), unless u's role must use one (required lists
// those roles). The person's sessions stay: they proved the factor now.
func (s *Service) TurnOffMFA(ctx context.Context, u *model.User, code string, required []string, client string) error {
	if MFARequired(u, required) {
		return ErrMFARequired
	}
	if err := s.CheckSecondFactor(ctx, u, code); err != nil {
		return err
	}
	if err := s.store.SetMFA(ctx, u.ID, model.MFA{}); err != nil {
		return err
	}
	u.MFA = model.MFA{}
	return s.auditChange(ctx, model.Actor{Login: u.Login, Client: client}, "mfa.off", u.Login,
		audit.Detail{Key: "audit.detail.mfa_off_own", Text: "turned off by its owner"})
}

// ResetMFA turns the second factor off; the person enrols again when their
// role requires it.
func (s *Service) ResetMFA(ctx context.Context, u *model.User) error {
	if err := s.store.SetMFA(ctx, u.ID, model.MFA{}); err != nil {
		return err
	}
	return s.store.DeleteUserSessions(ctx, u.ID, "")
}

// matchStep finds the time step, within one either side of now, whose code
// is code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// CodeAt returns the TOTP code of secret at t (for tests and tools).
func CodeAt(secret string, t time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}

func newRecoveryCodes() (codes, hashes []string) {
	for i := 0; i < recoveryCodes; i++ {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			panic(fmt.Errorf("auth: crypto/rand failed: %w", err))
		}
		for j := range b {
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)]
		}
		code := string(b[:5]) + "-" + string(b[5:])
		codes = append(codes, code)
		hashes = append(hashes, hashRecovery(strings.ReplaceAll(code, "-", "")))
	}
	return codes, hashes
}

func hashRecovery(code string) string {
	h := sha256.Sum256([]byte("conduct-portal-recovery:" + strings.ReplaceAll(code, "-", "")))
	return hex.EncodeToString(h[:])
}

// StartPendingSession opens a session that only allows the second-factor
// step; it lasts a few minutes.
func (s *Service) StartPendingSession(ctx context.Context, u *model.User, client string) (string, error) {
	tok := randomToken()
	now := s.clock()
	sess := &model.Session{ID: hashToken(tok), UserID: u.ID, CSRF: randomToken(), Created: now, LastSeen: now,
		Expires: now.Add(pendingTimeout), Client: client, Pending: true}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", err
	}
	return tok, nil
}
