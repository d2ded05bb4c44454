package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CreateCertificate stores a certificate; the same fingerprint twice gives
// ErrDuplicate.
func (s *Storage) CreateCertificate(ctx context.Context, c *model.Certificate) error {
	_, err := s.c(colCertificates).InsertOne(ctx, c)
	return wrap("create certificate", err)
}

// Certificate returns the certificate with a verification code.
func (s *Storage) Certificate(ctx context.Context, code string) (*model.Certificate, error) {
	var c model.Certificate
	if err := s.c(colCertificates).FindOne(ctx, bson.M{"_id": code}).Decode(&c); err != nil {
		return nil, wrap("certificate", err)
	}
	return &c, nil
}

// CertificateByFingerprint returns the certificate of one completed set.
func (s *Storage) CertificateByFingerprint(ctx context.Context, fp string) (*model.Certificate, error) {
	var c model.Certificate
	if err := s.c(colCertificates).FindOne(ctx, bson.M{"fingerprint": fp}).Decode(&c); err != nil {
		return nil, wrap("certificate by fingerprint", err)
	}
	return &c, nil
}
