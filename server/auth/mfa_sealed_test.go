package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/database"
	"conductportal/server/model"
	"conductportal/server/secret"
	"conductportal/server/storage"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSecondFactorSecretsAreSealed: what the database holds of a second
// factor, being set up or on, is sealed with the portal's key; without a
// key, setting one up is refused.
func TestSecondFactorSecretsAreSealed(t *testing.T) {
	a, st, c := newAuthStore(t)
	ctx := context.Background()
	u := mkUser(t, a, "sealed")
	if err := a.StartEnrolment(ctx, u); err != nil {
		t.Fatal(err)
	}
	e, err := a.Enrolment(u, "x")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := st.User(ctx, u.ID)
	if !secret.Sealed(stored.MFA.Pending) || strings.Contains(stored.MFA.Pending, e.Secret) {
		t.Fatalf("pending enrolment stored as %q", stored.MFA.Pending)
	}
	if _, err := a.ConfirmEnrolment(ctx, u, auth.CodeAt(e.Secret, c.Now())); err != nil {
		t.Fatal(err)
	}
	stored, _ = st.User(ctx, u.ID)
	if !secret.Sealed(stored.MFA.Secret) || strings.Contains(stored.MFA.Secret, e.Secret) || stored.MFA.Pending != "" {
		t.Fatalf("secret stored as %+v", stored.MFA)
	}
	c.add(30 * time.Second)
	if err := a.CheckSecondFactor(ctx, stored, auth.CodeAt(e.Secret, c.Now())); err != nil {
		t.Fatalf("a code against the sealed secret: %v", err)
	}
	keyless := auth.New(st, c.Now)
	if err := keyless.StartEnrolment(ctx, mkUser(t, a, "keyless")); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("enrolling without a key: %v", err)
	}
}

// TestSchemaStepSealsClearSecrets: secrets stored in clear by an older
// portal are sealed by the schema step, and still work; without a key
// the step refuses to start, naming the setting.
func TestSchemaStepSealsClearSecrets(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	open := func(box *secret.Box) (*database.DB, error) {
		db, err := database.Open(ctx, database.Options{DataDir: dir, Logger: log, Secrets: box})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Migrate(ctx, log)
		return db, err
	}
	db, err := open(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := storage.New(db.Database)
	a := auth.New(st, nil)
	u := mkUser(t, a, "old")
	const clear = "JBSWY3DPEHPK3PXP"
	users, schema := db.Database.Collection("users"), db.Database.Collection("schema")
	if _, err := users.UpdateOne(ctx, bson.M{"_id": u.ID}, bson.M{"$set": bson.M{"mfa": model.MFA{Enabled: true, Secret: clear, Pending: "KRSXG5BAMFZXIZLS"}}}); err != nil {
		t.Fatal(err)
	}
	back := func() {
		if _, err := schema.UpdateOne(ctx, bson.M{"_id": "schema"}, bson.M{"$set": bson.M{"version": 7}}); err != nil {
			t.Fatal(err)
		}
	}
	back()
	_ = db.Close(ctx)
	if db, err = open(nil); err == nil || !strings.Contains(err.Error(), "PORTAL_SECRET_KEY") {
		t.Fatalf("clear secrets and no key: %v", err)
	}
	_ = db.Close(ctx)
	box, _ := secret.NewBox(bytes.Repeat([]byte{3}, 32))
	if db, err = open(box); err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var raw struct {
		MFA model.MFA `bson:"mfa"`
	}
	if err := db.Database.Collection("users").FindOne(ctx, bson.M{"_id": u.ID}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if m := raw.MFA; !secret.Sealed(m.Secret) || strings.Contains(m.Secret, clear) || !secret.Sealed(m.Pending) {
		t.Fatalf("after the step: %+v", m)
	}
	a = auth.New(storage.New(db.Database), nil)
	a.SetSecrets(box)
	sealedUser, err := a.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CheckSecondFactor(ctx, sealedUser, auth.CodeAt(clear, time.Now().Add(30*time.Second))); err != nil {
		t.Fatalf("the migrated secret: %v", err)
	}
}
