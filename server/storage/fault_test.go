package storage_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"conductportal/server/auth"
	"conductportal/server/fault"
	"conductportal/server/model"
	"conductportal/server/storage"
	"conductportal/server/testkit"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Storage's errors are of fault's kinds, so the layers above answer them
// without importing storage: a missing document is NotFound, a taken key
// Conflict (both still storage's own errors), a database out of reach
// Unavailable.
func TestErrorsHaveTheirKinds(t *testing.T) {
	p := testkit.Start(t, filepath.Join(t.TempDir(), "data"), io.Discard)
	ctx := context.Background()
	_, err := p.Store.UserByLogin(ctx, "nobody")
	if !errors.Is(err, fault.NotFound) || !errors.Is(err, model.ErrNotFound) {
		t.Errorf("an unknown login: %v", err)
	}
	if _, err := p.Store.User(ctx, "no-such-id"); !errors.Is(err, fault.NotFound) {
		t.Errorf("an unknown id: %v", err)
	}
	if _, err := p.Auth.CreateUser(ctx, auth.NewUser{Login: "zhao.yi", Name: "赵一", Password: "a long password"}); err != nil {
		t.Fatal(err)
	}
	_, err = p.Auth.CreateUser(ctx, auth.NewUser{Login: "zhao.yi", Name: "赵一", Password: "a long password"})
	if !errors.Is(err, fault.Conflict) || !errors.Is(err, model.ErrDuplicate) || errors.Is(err, fault.NotFound) {
		t.Errorf("a taken login: %v", err)
	}

	// A database that does not answer: a port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://" + addr).SetServerSelectionTimeout(300 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	_, err = storage.New(client.Database("portal")).User(ctx, "someone")
	if !errors.Is(err, fault.Unavailable) || !storage.IsUnavailable(err) || errors.Is(err, fault.NotFound) {
		t.Errorf("a database out of reach: %v", err)
	}
	if a, ok := fault.Of(err); !ok || a.Status != 503 {
		t.Errorf("answered %+v, %v", a, ok)
	}
}
