package storage

import (
	"context"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CreateInvitation stores inv and makes it the user's open invitation.
func (s *Storage) CreateInvitation(ctx context.Context, inv *model.Invitation) error {
	if _, err := s.c(colInvitations).InsertOne(ctx, inv); err != nil {
		return wrap("create invitation", err)
	}
	return s.setUserInvitation(ctx, inv.UserID, inv.ID)
}

// Invitation returns the invitation whose _id (the token's hash) is id.
func (s *Storage) Invitation(ctx context.Context, id string) (*model.Invitation, error) {
	var inv model.Invitation
	if err := s.c(colInvitations).FindOne(ctx, bson.M{"_id": id}).Decode(&inv); err != nil {
		return nil, wrap("invitation", err)
	}
	return &inv, nil
}

// ClaimInvitation records the use of invitation id. Only the first claim
// succeeds (a unique insert; a conditional update is not atomic on
// FerretDB); a second gives model.ErrDuplicate.
func (s *Storage) ClaimInvitation(ctx context.Context, id string, at time.Time) error {
	_, err := s.c(colInvitations).InsertOne(ctx, bson.M{"_id": "used/" + id, "at": at})
	return wrap("claim invitation", err)
}

// DeleteInvitation removes invitation id and clears it from its user.
func (s *Storage) DeleteInvitation(ctx context.Context, userID, id string) error {
	if id == "" {
		return nil
	}
	if _, err := s.c(colInvitations).DeleteOne(ctx, bson.M{"_id": id}); err != nil {
		return wrap("delete invitation", err)
	}
	return s.setUserInvitation(ctx, userID, "")
}

func (s *Storage) setUserInvitation(ctx context.Context, userID, id string) error {
	defer s.userWritten(ctx, userID)
	up := bson.M{"$set": bson.M{"invitation": id}}
	if id == "" {
		up = bson.M{"$unset": bson.M{"invitation": ""}}
	}
	_, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID}, up)
	return wrap("set user invitation", err)
}

// LinkExternalID records that the identity provider's externalID is the
// user userID. The key document's _id is the externalId, so the lookup is
// an _id read and a second person with the same externalId is refused
// (model.ErrDuplicate).
func (s *Storage) LinkExternalID(ctx context.Context, externalID, userID string) error {
	_, err := s.c(colExternalIDs).InsertOne(ctx, bson.M{"_id": externalID, "user_id": userID})
	return wrap("link external id", err)
}

// UnlinkExternalID forgets an externalId.
func (s *Storage) UnlinkExternalID(ctx context.Context, externalID string) error {
	_, err := s.c(colExternalIDs).DeleteOne(ctx, bson.M{"_id": externalID})
	return wrap("unlink external id", err)
}

// UserByExternalID returns the user the identity provider knows as externalID.
func (s *Storage) UserByExternalID(ctx context.Context, externalID string) (*model.User, error) {
	var k struct {
		UserID string `bson:"user_id"`
	}
	if err := s.c(colExternalIDs).FindOne(ctx, bson.M{"_id": externalID}).Decode(&k); err != nil {
		return nil, wrap("user by external id", err)
	}
	return s.User(ctx, k.UserID)
}

// SetUserExternalID stores the identity provider's id on the user.
func (s *Storage) SetUserExternalID(ctx context.Context, userID, externalID string) error {
	defer s.userWritten(ctx, userID)
	return s.writeUser(func() error {
		_, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID}, bson.M{"$set": bson.M{"external_id": externalID}})
		return wrap("set user external id", err)
	}, true, func(w indexWriter) { w.change(userID, func(u *model.User) { u.ExternalID = externalID }) })
}

// CreateUsersInvited inserts new accounts and their invitations in batched
// writes (a sync of thousands of people). With ordered inserts, a failure
// (a login taken meanwhile) leaves the documents before it stored; the
// caller finds out which with UserExists and goes on one at a time.
func (s *Storage) CreateUsersInvited(ctx context.Context, users []model.User, invs []model.Invitation) error {
	defer s.usersChanged(ctx)
	if len(users) > 0 {
		docs := make([]any, len(users))
		for i := range users {
			docs[i] = &users[i]
		}
		// Not clean: an ordered insert that fails keeps what came before.
		err := s.writeUser(func() error {
			_, err := s.c(colUsers).InsertMany(ctx, docs)
			return wrap("create users", err)
		}, false, func(w indexWriter) {
			for i := range users {
				w.put(&users[i])
			}
		})
		if err != nil {
			return err
		}
		s.learnLogins(users)
	}
	if len(invs) > 0 {
		docs := make([]any, len(invs))
		for i := range invs {
			docs[i] = &invs[i]
		}
		if _, err := s.c(colInvitations).InsertMany(ctx, docs); err != nil {
			return wrap("create invitations", err)
		}
	}
	return nil
}

// AuditMany appends entries to the audit log in one write.
func (s *Storage) AuditMany(ctx context.Context, entries []model.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	docs := make([]any, len(entries))
	for i := range entries {
		if entries[i].ID == "" {
			entries[i].ID = model.NewID()
		}
		docs[i] = &entries[i]
	}
	_, err := s.c(colAudit).InsertMany(ctx, docs)
	for i := range entries {
		s.auditWritten(&entries[i], err)
	}
	return wrap("audit", err)
}
