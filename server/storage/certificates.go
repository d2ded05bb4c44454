package storage

import (
	"context"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateCertificate stores a certificate; the same fingerprint twice gives
// model.ErrDuplicate.
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

// LatestCertificate returns the certificate issued last to a user. It
// reads by user, so on FerretDB it scans: only for the rare page that
// finds no certificate by fingerprint.
func (s *Storage) LatestCertificate(ctx context.Context, userID string) (*model.Certificate, error) {
	var c model.Certificate
	opts := options.FindOne().SetSort(bson.D{{Key: "issued", Value: -1}})
	if err := s.c(colCertificates).FindOne(ctx, bson.M{"user_id": userID}, opts).Decode(&c); err != nil {
		return nil, wrap("latest certificate", err)
	}
	return &c, nil
}
