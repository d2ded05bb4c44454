package storage

import (
	"context"
	"errors"
	"maps"
	"slices"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CreateUser inserts u; a taken login gives model.ErrDuplicate.
func (s *Storage) CreateUser(ctx context.Context, u *model.User) error {
	err := s.writeUser(func() error {
		_, err := s.c(colUsers).InsertOne(ctx, u)
		return wrap("create user", err)
	}, true, func(w indexWriter) { w.put(u) })
	s.usersChanged(ctx)
	return err
}

// User returns the user with id, from memory when kept (see
// accessCache); every write to a user below drops it.
func (s *Storage) User(ctx context.Context, id string) (*model.User, error) {
	if u, ok := s.users.getSettled(ctx, id); ok {
		return copyUser(u), nil
	}
	if s.dir != nil {
		if u, ok := s.dir.keptUser(id); ok {
			return u, nil
		}
	}
	at, drops := s.users.begin()
	var u model.User
	err := s.c(colUsers).FindOne(ctx, bson.M{"_id": id}).Decode(&u)
	if err != nil {
		return nil, wrap("user", err)
	}
	s.users.put(id, copyUser(&u), at, drops)
	return &u, nil
}

// userWritten drops the cached copy of a user this process changes; a
// defer of it runs after the write, so no read racing the write caches
// the old document past it.
func (s *Storage) userWritten(ctx context.Context, id string) {
	s.users.drop(id)
	if s.dir != nil {
		s.dir.written(id)
	}
	s.changed(ctx, changeUser, id)
}

// UserByLogin returns the user with login. FerretDB v1 answers a query
// by any field but _id by scanning the table (BenchmarkUserByLogin, 10,000
// users: 2.5 ms, growing with the users, against 0.3 ms by _id), and every
// login and person page asks by login. So the _id a login was last seen
// with is remembered and read instead, and checked: a restored database
// may give the login another _id, which falls back to the scan.
func (s *Storage) UserByLogin(ctx context.Context, login string) (*model.User, error) {
	d, err := s.indexed(ctx)
	if err != nil {
		return nil, err
	}
	if d != nil {
		return s.userByLoginIndexed(ctx, d, login)
	}
	if id, ok := s.loginIDs.Load(login); ok {
		u, err := s.User(ctx, id.(string))
		switch {
		case err == nil && u.Login == login:
			return u, nil
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return nil, err
		}
		s.loginIDs.Delete(login)
	}
	var u model.User
	err = s.c(colUsers).FindOne(ctx, bson.M{"login": login}).Decode(&u)
	if err != nil {
		return nil, wrap("user by login", err)
	}
	s.loginIDs.Store(u.Login, u.ID)
	return &u, nil
}

// userByLoginIndexed reads the user the index names for login by _id. The
// index holds every login, so one absent from it is nobody's. Should the
// document read not be that login's (a change behind storage's back with
// no DropCaches), the index is loaded again once and asked again.
func (s *Storage) userByLoginIndexed(ctx context.Context, d *dirIndex, login string) (*model.User, error) {
	for try := 0; ; try++ {
		d.mu.RLock()
		e := d.byLogin[login]
		d.mu.RUnlock()
		if e == nil {
			return nil, wrap("user by login", model.ErrNotFound)
		}
		u, err := s.User(ctx, e.u.ID)
		switch {
		case err == nil && u.Login == login:
			return u, nil
		case err != nil && !errors.Is(err, model.ErrNotFound):
			return nil, err
		case try > 0:
			return nil, wrap("user by login", model.ErrNotFound)
		}
		d.write.Lock()
		d.forget()
		err = s.loadIndex(ctx)
		d.write.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// learnLogins remembers the _id of each user's login (see UserByLogin).
func (s *Storage) learnLogins(users []model.User) {
	for i := range users {
		s.loginIDs.Store(users[i].Login, users[i].ID)
	}
}

// Users returns every user, by login.
func (s *Storage) Users(ctx context.Context) ([]model.User, error) {
	cur, err := s.c(colUsers).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "login", Value: 1}}))
	if err != nil {
		return nil, wrap("users", err)
	}
	var out []model.User
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("users", err)
	}
	s.learnLogins(out)
	return out, nil
}

// HasUsers tells whether any user exists. It reads one document: on
// FerretDB a count scans the collection (measured on PostgreSQL with
// 10,000 users on a loaded machine: past the 10 s timeout, so the start
// failed), a find without a filter stops at the first.
func (s *Storage) HasUsers(ctx context.Context) (bool, error) {
	err := s.c(colUsers).FindOne(ctx, bson.M{}, options.FindOne().SetProjection(bson.M{"_id": 1})).Err()
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, wrap("any user", err)
}

// UserCount returns how many users exist.
func (s *Storage) UserCount(ctx context.Context) (int64, error) {
	n, err := s.c(colUsers).CountDocuments(ctx, bson.M{})
	return n, wrap("count users", err)
}

// SetPassword stores a new password hash and whether it must be changed.
func (s *Storage) SetPassword(ctx context.Context, id, hash string, mustChange bool) error {
	defer s.userWritten(ctx, id)
	res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id},
		bson.M{"$set": bson.M{"password_hash": hash, "must_change_password": mustChange}})
	if err != nil {
		return wrap("set password", err)
	}
	if res.MatchedCount == 0 {
		return wrap("set password", model.ErrNotFound)
	}
	return nil
}

// SetUserLang remembers the user's language.
func (s *Storage) SetUserLang(ctx context.Context, id, lang string) error {
	defer s.userWritten(ctx, id)
	return s.writeUser(func() error {
		_, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"lang": lang}})
		return wrap("set user lang", err)
	}, true, func(w indexWriter) { w.change(id, func(u *model.User) { u.Lang = lang }) })
}

// SetUserActive turns an account on or off.
func (s *Storage) SetUserActive(ctx context.Context, id string, active bool) error {
	defer s.userWritten(ctx, id)
	defer s.usersChanged(ctx) // the reports' directory holds this field
	return s.writeUser(func() error {
		res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"active": active}})
		if err != nil {
			return wrap("set user active", err)
		}
		if res.MatchedCount == 0 {
			return wrap("set user active", model.ErrNotFound)
		}
		return nil
	}, true, func(w indexWriter) { w.change(id, func(u *model.User) { u.Active = active }) })
}

// SetMFA replaces a user's second-factor state.
func (s *Storage) SetMFA(ctx context.Context, id string, m model.MFA) error {
	defer s.userWritten(ctx, id)
	res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id}, bson.M{"$set": bson.M{"mfa": m}})
	if err != nil {
		return wrap("set mfa", err)
	}
	if res.MatchedCount == 0 {
		return wrap("set mfa", model.ErrNotFound)
	}
	return nil
}

// SetRecoveryCodes replaces only the hashes of a user's recovery codes, so
// a code check racing it keeps its record of the last step used.
func (s *Storage) SetRecoveryCodes(ctx context.Context, id string, hashes []string) error {
	defer s.userWritten(ctx, id)
	res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id, "mfa.enabled": true}, bson.M{"$set": bson.M{"mfa.recovery": hashes}})
	if err != nil {
		return wrap("set recovery codes", err)
	}
	if res.MatchedCount == 0 {
		return wrap("set recovery codes", model.ErrNotFound)
	}
	return nil
}

// UseMFAStep records that the code of time step was used, unless a code of
// that or a later step was used already (then it reports false). A user's
// code checks take turns in this process: FerretDB's conditional updates
// are not atomic, so two racing requests could both use one code (MongoDB's
// are, which covers other instances).
func (s *Storage) UseMFAStep(ctx context.Context, id string, step int64) (bool, error) {
	unlock, err := s.turns.lock(ctx, userKey(id))
	if err != nil {
		return false, err
	}
	defer unlock()
	defer s.userWritten(ctx, id)
	res, err := s.c(colUsers).UpdateOne(ctx,
		bson.M{"_id": id, "$or": bson.A{bson.M{"mfa.last_step": bson.M{"$lt": step}}, bson.M{"mfa.last_step": bson.M{"$exists": false}}}},
		bson.M{"$set": bson.M{"mfa.last_step": step}})
	if err != nil {
		return false, wrap("use mfa step", err)
	}
	return res.ModifiedCount == 1, nil
}

// UseRecoveryCode removes one recovery code hash, reporting whether it was
// there; in turn with the user's other code checks (see UseMFAStep).
func (s *Storage) UseRecoveryCode(ctx context.Context, id, hash string) (bool, error) {
	unlock, err := s.turns.lock(ctx, userKey(id))
	if err != nil {
		return false, err
	}
	defer unlock()
	defer s.userWritten(ctx, id)
	res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": id, "mfa.recovery": hash},
		bson.M{"$pull": bson.M{"mfa.recovery": hash}})
	if err != nil {
		return false, wrap("use recovery code", err)
	}
	return res.ModifiedCount == 1, nil
}

// UpdateUser stores the editable fields of u: name, roles, department,
// manager, hire date, email and the ids that mention the person in group chats.
func (s *Storage) UpdateUser(ctx context.Context, u *model.User) error {
	defer s.userWritten(ctx, u.ID)
	defer s.usersChanged(ctx) // the reports' directory holds these fields
	return s.writeUser(func() error {
		res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": u.ID}, bson.M{"$set": bson.M{
			"name": u.Name, "roles": u.Roles, "department": u.Department, "manager": u.Manager, "hired": u.Hired,
			"mobile": u.Mobile, "wecom_id": u.WeComID, "dingtalk_id": u.DingTalkID, "email": u.Email,
		}})
		if err != nil {
			return wrap("update user", err)
		}
		if res.MatchedCount == 0 {
			return wrap("update user", model.ErrNotFound)
		}
		return nil
	}, true, func(w indexWriter) {
		w.change(u.ID, func(c *model.User) {
			c.Name, c.Roles, c.Department, c.Manager, c.Hired = u.Name, slices.Clone(u.Roles), u.Department, u.Manager, u.Hired
			c.Mobile, c.WeComID, c.DingTalkID, c.Email = u.Mobile, u.WeComID, u.DingTalkID, u.Email
		})
	})
}

// SetException stores HR's exception for one person and lesson; nil clears it.
func (s *Storage) SetException(ctx context.Context, userID, slug string, ex *model.Exception) error {
	defer s.userWritten(ctx, userID)
	defer s.usersChanged(ctx) // the reports' directory holds exceptions
	up := bson.M{"$unset": bson.M{"exceptions." + slug: ""}}
	if ex != nil {
		up = bson.M{"$set": bson.M{"exceptions." + slug: ex}}
	}
	return s.writeUser(func() error {
		res, err := s.c(colUsers).UpdateOne(ctx, bson.M{"_id": userID}, up)
		if err != nil {
			return wrap("set exception", err)
		}
		if res.MatchedCount == 0 {
			return wrap("set exception", model.ErrNotFound)
		}
		return nil
	}, true, func(w indexWriter) {
		w.change(userID, func(u *model.User) { setException(u, slug, ex) })
	})
}

// setException gives the directory's copy of u the exception ex for slug
// (nil: none), on a fresh map: the old copy may still be read.
func setException(u *model.User, slug string, ex *model.Exception) {
	u.Exceptions = maps.Clone(u.Exceptions)
	if ex == nil {
		delete(u.Exceptions, slug)
		return
	}
	if u.Exceptions == nil {
		u.Exceptions = map[string]model.Exception{}
	}
	u.Exceptions[slug] = *ex
}
