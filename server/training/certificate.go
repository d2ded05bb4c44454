package training

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"conductportal/server/fault"
	"conductportal/server/model"
)

// Errors of certificates.
var (
	ErrNotComplete error = &fault.Error{Kind: fault.Conflict, Text: "training: not every assigned lesson is done",
		Code: "not_complete", Key: "certificate.notyet", Message: "not every assigned lesson is done"}
	ErrNotIssued error = &fault.Error{Kind: fault.NotFound, Text: "training: no certificate issued for this completion yet"}
)

// codeAlphabet leaves out look-alikes (0/O, 1/I/L) so a code can be read
// aloud or typed from paper.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newCode returns a verification code like 7KQ2-M9XD-4RTA (about 59 bits).
func newCode() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Errorf("training: crypto/rand failed: %w", err))
	}
	var s strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(codeAlphabet[int(x)%len(codeAlphabet)])
	}
	return s.String()
}

// NormalizeCode turns what a person typed into the stored form.
func NormalizeCode(code string) string {
	code = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, code))
	if len(code) != 12 {
		return ""
	}
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12]
}

// Certificate returns the user's certificate for the lessons they have
// completed, issuing it the first time. Every assigned lesson must be done.
func (s *Service) Certificate(ctx context.Context, u *model.User) (*model.Certificate, error) {
	return s.certificate(ctx, u, true)
}

// IssuedCertificate returns the certificate of the user's current
// completion without issuing one (ErrNotIssued): for reading pages.
func (s *Service) IssuedCertificate(ctx context.Context, u *model.User) (*model.Certificate, error) {
	return s.certificate(ctx, u, false)
}

func (s *Service) certificate(ctx context.Context, u *model.User, issue bool) (*model.Certificate, error) {
	sts, err := s.Standings(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(sts) == 0 {
		return nil, ErrNotComplete
	}
	for _, st := range sts {
		if st.Code != StatusDone {
			return nil, ErrNotComplete
		}
	}
	c := certificateOf(u, sts, func(st Standing) bool { return !st.Expires.IsZero() })
	if existing, err := s.store.CertificateByFingerprint(ctx, c.Fingerprint); err == nil {
		return existing, nil
	} else if !errors.Is(err, model.ErrNotFound) {
		return nil, err
	}
	if !issue {
		return nil, ErrNotIssued
	}
	c.Code, c.Issued = newCode(), s.Now()
	if err := s.store.CreateCertificate(ctx, c); err != nil {
		if errors.Is(err, model.ErrDuplicate) {
			// Issued by a concurrent request: that one is the certificate.
			return s.store.CertificateByFingerprint(ctx, c.Fingerprint)
		}
		return nil, err
	}
	return c, nil
}

// certificateOf is the certificate for the versions u last signed of
// sts, and its fingerprint (which names the completion: the same
// signatures, the same certificate). A lesson whose signature ages out
// (ages) adds the time it was signed, so a renewal is a new certificate,
// with the expiry of its earliest-ageing lesson.
func certificateOf(u *model.User, sts []Standing, ages func(Standing) bool) *model.Certificate {
	c := &model.Certificate{UserID: u.ID, Name: u.Name}
	fp := sha256.New()
	fmt.Fprintf(fp, "%s;", u.ID)
	for _, st := range sts {
		c.Lessons = append(c.Lessons, model.CertificateLesson{Slug: st.Lesson.Slug, Titles: st.Lesson.Titles, Version: st.Progress.AckVersion})
		fmt.Fprintf(fp, "%s@%d;", st.Lesson.Slug, st.Progress.AckVersion)
		if ages(st) {
			fmt.Fprintf(fp, "%d;", st.Progress.Acknowledged.UnixMilli())
			if c.Expires.IsZero() || st.Expires.Before(c.Expires) {
				c.Expires = st.Expires
			}
		}
	}
	c.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	return c
}

// Earned is the certificate a person has earned. While a new version of a
// lesson waits for their signature, the certificate they earned for the
// versions they signed stays theirs (and verifiable), with Pending naming
// what to sign for it to be current again.
type Earned struct {
	Cert    *model.Certificate
	Pending []Standing
}

// CertificateStanding tells from a person's standings alone, with no
// read, whether they hold a certificate (every lesson done, or signed
// before and waiting for a new signature) and which lessons wait: the
// learner's home page shows it on every view.
func CertificateStanding(sts []Standing) (earned bool, pending []Standing) {
	for _, st := range sts {
		switch {
		case st.Code == StatusDone:
		case st.Code == StatusNeedsReack && st.Progress.AckVersion > 0:
			pending = append(pending, st)
		default:
			return false, nil
		}
	}
	return len(sts) > 0, pending
}

// EarnedCertificate returns the user's current certificate, or the one
// they earned before a lesson asked for a new signature (ErrNotComplete
// when there is neither, ErrNotIssued when the completion has none yet).
func (s *Service) EarnedCertificate(ctx context.Context, u *model.User) (*Earned, error) {
	sts, err := s.Standings(ctx, u)
	if err != nil {
		return nil, err
	}
	earned, pending := CertificateStanding(sts)
	if !earned {
		return nil, ErrNotComplete
	}
	if len(pending) == 0 {
		c, err := s.IssuedCertificate(ctx, u)
		if err != nil {
			return nil, err
		}
		return &Earned{Cert: c}, nil
	}
	// The certificate of the versions signed before: a lesson that ages
	// added its signing time then as it does now.
	c := certificateOf(u, sts, func(st Standing) bool { return st.Lesson.ValidMonths > 0 && !st.Progress.Acknowledged.IsZero() })
	prev, err := s.store.CertificateByFingerprint(ctx, c.Fingerprint)
	if errors.Is(err, model.ErrNotFound) {
		// Those versions were never all signed at once (one lesson signed
		// anew while another waits): the newest certificate issued is the
		// one earned.
		prev, err = s.store.LatestCertificate(ctx, u.ID)
	}
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrNotComplete
	}
	if err != nil {
		return nil, err
	}
	return &Earned{Cert: prev, Pending: pending}, nil
}

// CertificateExpired reports whether a certificate has aged out.
func (s *Service) CertificateExpired(c *model.Certificate) bool {
	return !c.Expires.IsZero() && !s.Now().Before(c.Expires)
}

// VerifyCertificate returns the certificate with a code, for the public
// verification page.
func (s *Service) VerifyCertificate(ctx context.Context, code string) (*model.Certificate, error) {
	code = NormalizeCode(code)
	if code == "" {
		return nil, ErrNotFound
	}
	c, err := s.store.Certificate(ctx, code)
	return c, notFound(err)
}
