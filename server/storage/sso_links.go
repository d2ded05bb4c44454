package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// An account signed on through a provider is bound to the provider's
// (issuer, sub), which the provider never hands to someone else, unlike
// the login claim. The binding is two documents in sso_links, both read
// and written by _id (any other read is a full scan on FerretDB):
//
//	"s:" + sha256(issuer, sub) -> the user: who this provider account is
//	"u:" + user id            -> the subject key: which provider account the user is
//
// Each is a unique insert, so neither a provider account nor a portal
// account can be bound twice, even by two instances at once.

// SSOSubjectKey is the _id of the binding document of (issuer, sub).
func SSOSubjectKey(issuer, sub string) string {
	h := sha256.Sum256([]byte(issuer + "\x00" + sub))
	return "s:" + hex.EncodeToString(h[:])
}

func ssoUserKey(userID string) string { return "u:" + userID }

// SSOLinkBySubject returns the binding of the provider account (issuer, sub).
func (s *Storage) SSOLinkBySubject(ctx context.Context, issuer, sub string) (*model.SSOLink, error) {
	var l model.SSOLink
	if err := s.c(colSSOLinks).FindOne(ctx, bson.M{"_id": SSOSubjectKey(issuer, sub)}).Decode(&l); err != nil {
		return nil, wrap("sso link by subject", err)
	}
	return &l, nil
}

// SSOLinkOfUser returns the binding of a portal account.
func (s *Storage) SSOLinkOfUser(ctx context.Context, userID string) (*model.SSOLink, error) {
	var l model.SSOLink
	if err := s.c(colSSOLinks).FindOne(ctx, bson.M{"_id": ssoUserKey(userID)}).Decode(&l); err != nil {
		return nil, wrap("sso link of user", err)
	}
	return &l, nil
}

// LinkSSO binds the user to (issuer, sub) and reports whether this call
// made the binding (false: it was there already, as asked). It gives
// model.ErrBoundElsewhere when the user is bound to another provider account,
// and model.ErrDuplicate when (issuer, sub) is bound to another user.
//
// The user's document goes first: after a crash between the two inserts
// the account is held for (issuer, sub), and that identity's next sign-on
// finds it by login and completes the binding.
func (s *Storage) LinkSSO(ctx context.Context, userID, issuer, sub string, at time.Time) (bool, error) {
	key := SSOSubjectKey(issuer, sub)
	made := true
	_, err := s.c(colSSOLinks).InsertOne(ctx, model.SSOLink{ID: ssoUserKey(userID), UserID: userID, Subject: key, Issuer: issuer, Sub: sub, At: at})
	if werr := wrap("link sso", err); errors.Is(werr, model.ErrDuplicate) {
		held, err := s.SSOLinkOfUser(ctx, userID)
		if err != nil {
			return false, err
		}
		if held.Subject != key {
			return false, wrap("link sso", model.ErrBoundElsewhere)
		}
		made = false
	} else if werr != nil {
		return false, werr
	}
	_, err = s.c(colSSOLinks).InsertOne(ctx, model.SSOLink{ID: key, UserID: userID, Subject: key, Issuer: issuer, Sub: sub, At: at})
	if err = wrap("link sso", err); errors.Is(err, model.ErrDuplicate) {
		other, err := s.SSOLinkBySubject(ctx, issuer, sub)
		if err != nil {
			return false, err
		}
		if other.UserID == userID {
			return false, nil
		}
		// The provider account is someone else's already: give the user
		// back, unless it was bound before this call.
		if made {
			_, _ = s.c(colSSOLinks).DeleteOne(ctx, bson.M{"_id": ssoUserKey(userID)})
		}
		return false, wrap("link sso", model.ErrDuplicate)
	}
	return made, err
}

// UnlinkSSO removes the user's binding, reporting whether there was one:
// the next sign-on matches by login again, as a first one does.
func (s *Storage) UnlinkSSO(ctx context.Context, userID string) (bool, error) {
	l, err := s.SSOLinkOfUser(ctx, userID)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// The subject first: a crash between leaves the user held, and a second
	// unlink finishes it.
	if _, err := s.c(colSSOLinks).DeleteOne(ctx, bson.M{"_id": l.Subject, "user_id": userID}); err != nil {
		return false, wrap("unlink sso", err)
	}
	if _, err := s.c(colSSOLinks).DeleteOne(ctx, bson.M{"_id": ssoUserKey(userID)}); err != nil {
		return false, wrap("unlink sso", err)
	}
	return true, nil
}

// RenameUser changes a user's login from old to login, keeping old among
// the user's former logins (receipts signed under it still name it), and
// points the people old managed at the new login. A login that is taken
// gives model.ErrDuplicate (the unique index on login) and changes nothing.
func (s *Storage) RenameUser(ctx context.Context, id, old, login string) error {
	defer s.userWritten(ctx, id)
	defer s.usersChanged(ctx)
	var reports []model.User
	err := s.writeUser(func() error {
		res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id, "login": old},
			bson.M{"$set": bson.M{"login": login}, "$addToSet": bson.M{"former_logins": old}})
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
			// FerretDB on SQLite answers an update that breaks a unique index
			// with an internal error, not a duplicate key (inserts do).
			return fmt.Errorf("storage: rename user: %w", errors.Join(model.ErrDuplicate, err))
		}
		if err != nil {
			return wrap("rename user", err)
		}
		if res.MatchedCount == 0 {
			return wrap("rename user", model.ErrNotFound)
		}
		s.loginIDs.Delete(old)
		s.loginIDs.Store(login, id)
		// A rename is rare, so the scan for the people old managed is fine.
		cur, err := s.c(colUsers).Find(ctx, bson.M{"manager": old})
		if err != nil {
			return wrap("rename user: reports", err)
		}
		if err := cur.All(ctx, &reports); err != nil {
			return wrap("rename user: reports", err)
		}
		for _, r := range reports {
			if _, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": r.ID}, bson.M{"$set": bson.M{"manager": login}}); err != nil {
				return wrap("rename user: reports", err)
			}
			s.userWritten(ctx, r.ID)
		}
		return nil
	}, true, func(w indexWriter) {
		w.change(id, func(u *model.User) {
			u.Login = login
			if !slices.Contains(u.FormerLogins, old) {
				u.FormerLogins = append(u.FormerLogins, old)
			}
		})
		for _, r := range reports {
			w.change(r.ID, func(u *model.User) { u.Manager = login })
		}
	})
	return err
}
