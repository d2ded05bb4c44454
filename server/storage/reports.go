package storage

import (
	"context"
	"sync"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// UsersGeneration changes whenever this process creates or changes a user's
// place in the organisation, so callers can cache the directory and know
// when to load it again.
func (s *Storage) UsersGeneration() uint64 { return s.usersGen.Load() }

// usersChanged records a change of the directory: in this process, and,
// when other processes share the database, in its users generation
// document, so that their caches notice too.
func (s *Storage) usersChanged(ctx context.Context) {
	s.usersGen.Add(1)
	if s.SoleWriter() {
		return
	}
	// A fresh random value rather than $inc: FerretDB v1 applies an update
	// as read, modify, write, so two increments could write the same
	// number; two random values never do, and any write after a reader
	// looked changes what it sees. A failure here leaves the other
	// instances to their time limit (report.directoryTTL).
	_, _ = s.c(colMeta).UpdateOne(context.WithoutCancel(ctx), bson.M{"_id": metaUsersGen},
		bson.M{"$set": bson.M{"value": model.NewID()}}, options.UpdateOne().SetUpsert(true))
}

// metaUsersGen is the _id of the users generation document.
const metaUsersGen = "users_generation"

// SharedUsersGeneration returns the users generation stored in the
// database (empty before any change): one read by _id that tells an
// instance whether another changed a user since it last looked.
func (s *Storage) SharedUsersGeneration(ctx context.Context) (string, error) {
	var doc struct {
		Value string `bson:"value"`
	}
	err := s.c(colMeta).FindOne(ctx, bson.M{"_id": metaUsersGen}).Decode(&doc)
	if err != nil && !isNotFound(err) {
		return "", wrap("users generation", err)
	}
	return doc.Value, nil
}

// directoryFields are the user fields reports need; password hashes stay
// in the database.
var directoryFields = bson.M{
	"login": 1, "name": 1, "roles": 1, "department": 1, "manager": 1, "manages": 1,
	"email": 1, "lang": 1, "hired": 1, "created": 1, "active": 1, "exceptions": 1, // created: the chart counts people from it
	"mobile": 1, "wecom_id": 1, "dingtalk_id": 1, // to mention people in group messages
	"external_id": 1, "former_logins": 1, // SCIM lists; logins a sign-on provider renamed
}

// UserDirectory returns every user without secrets, by login: from the
// in-memory directory of a sole writer, else in one read.
func (s *Storage) UserDirectory(ctx context.Context) ([]model.User, error) {
	d, err := s.indexed(ctx)
	if err != nil {
		return nil, err
	}
	if d != nil {
		var out []model.User
		d.readSorted(func(order []string) {
			out = make([]model.User, len(order))
			for i, l := range order {
				out[i] = *copyUser(d.byLogin[l].u)
			}
		})
		return out, nil
	}
	cur, err := s.c(colUsers).Find(ctx, bson.M{},
		options.Find().SetProjection(directoryFields).SetSort(bson.D{{Key: "login", Value: 1}}))
	if err != nil {
		return nil, wrap("user directory", err)
	}
	var out []model.User
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("user directory", err)
	}
	s.learnLogins(out)
	return out, nil
}

// SharedUserDirectory is UserDirectory without the copies: for a sole
// writer the in-memory directory's own users (never changed there, only
// replaced), so a caller keeping every user costs no second copy of them
// (about 45 MB at 100,000 people). Read only.
func (s *Storage) SharedUserDirectory(ctx context.Context) ([]*model.User, error) {
	d, err := s.indexed(ctx)
	if err != nil {
		return nil, err
	}
	if d != nil {
		var out []*model.User
		d.readSorted(func(order []string) {
			out = make([]*model.User, len(order))
			for i, l := range order {
				out[i] = d.byLogin[l].u
			}
		})
		return out, nil
	}
	users, err := s.UserDirectory(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*model.User, len(users))
	for i := range users {
		out[i] = &users[i]
	}
	return out, nil
}

// ProgressOf returns the progress of the users with ids; a user without
// progress is missing from the map.
func (s *Storage) ProgressOf(ctx context.Context, ids []string) (map[string]model.Progress, error) {
	if len(ids) == 0 {
		return map[string]model.Progress{}, nil
	}
	if s.progress != nil {
		return s.cachedProgress(ctx, ids)
	}
	return s.progressWhere(ctx, bson.M{"_id": bson.M{"$in": ids}}, make(map[string]model.Progress, len(ids)))
}

// progressByID reads progress documents one _id at a time, several at
// once: FerretDB v1 scans the collection for {_id: {$in: ids}} but reads
// one _id through its primary key.
func (s *Storage) progressByID(ctx context.Context, ids []string) (map[string]model.Progress, error) {
	if len(ids) > byIDLimit {
		return s.progressWhere(ctx, bson.M{"_id": bson.M{"$in": ids}}, map[string]model.Progress{})
	}
	out, err := readByIDs[model.Progress](ctx, s.c(colProgress), ids)
	return out, wrap("progress by id", err)
}

// readByIDs reads the documents with ids one _id at a time, byIDParallel
// at once (see progressByID); an id without a document is missing from the
// map.
func readByIDs[T any](ctx context.Context, c *mongo.Collection, ids []string) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errOnce error
		sem     = make(chan struct{}, byIDParallel)
	)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var v T
			err := c.FindOne(ctx, bson.M{"_id": id}).Decode(&v)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out[id] = v
			case !isNotFound(err) && errOnce == nil:
				errOnce = err
			}
		}()
	}
	wg.Wait()
	if errOnce != nil {
		return nil, errOnce
	}
	return out, nil
}

// Reading by _id one at a time beats a scan for up to byIDLimit ids.
const (
	byIDLimit    = 500
	byIDParallel = 8
)

// AllProgress returns every user's progress, in one read.
func (s *Storage) AllProgress(ctx context.Context) (map[string]model.Progress, error) {
	if s.progress != nil {
		return s.cachedProgress(ctx, nil)
	}
	return s.progressWhere(ctx, bson.M{}, map[string]model.Progress{})
}

func (s *Storage) progressWhere(ctx context.Context, filter bson.M, out map[string]model.Progress) (map[string]model.Progress, error) {
	if err := s.eachProgressWhere(ctx, filter, func(p model.Progress) { out[p.UserID] = p }); err != nil {
		return nil, err
	}
	return out, nil
}

// scanBatch is the documents a batch of a whole-collection read holds: the
// driver allows each batch 10 s, which FerretDB's 16 MB batches overran at
// 100,000 people on a loaded machine (the reports' progress load failed).
const scanBatch = 1000

// eachProgressWhere calls fn with each progress document matching filter,
// as it is read.
func (s *Storage) eachProgressWhere(ctx context.Context, filter bson.M, fn func(model.Progress)) error {
	cur, err := s.c(colProgress).Find(ctx, filter, options.Find().SetBatchSize(scanBatch))
	if err != nil {
		return wrap("progress of users", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var p model.Progress
		if err := cur.Decode(&p); err != nil {
			return wrap("progress of users", err)
		}
		fn(p)
	}
	return wrap("progress of users", cur.Err())
}

// eachProgress calls fn with every progress document, by s.scan (the
// embedded database's read from its file: the reports' load at start).
func (s *Storage) eachProgress(ctx context.Context, fn func(model.Progress)) error {
	err := scanEach(ctx, s, colProgress, nil, "", nil, func(p *model.Progress) error {
		fn(*p)
		return nil
	})
	return wrap("progress of users", err)
}

// AttemptHistory returns every attempt of a user, oldest first, with the
// results of those submitted.
func (s *Storage) AttemptHistory(ctx context.Context, userID string) ([]model.Attempt, error) {
	cur, err := s.c(colAttempts).Find(ctx, bson.M{"user_id": userID},
		options.Find().SetSort(bson.D{{Key: "started", Value: 1}}))
	if err != nil {
		return nil, wrap("attempt history", err)
	}
	var out []model.Attempt
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("attempt history", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, a := range out {
		ids[i] = a.ID
	}
	rc, err := s.c(colAttemptResults).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, wrap("attempt history results", err)
	}
	var results []attemptResult
	if err := rc.All(ctx, &results); err != nil {
		return nil, wrap("attempt history results", err)
	}
	byID := make(map[string]attemptResult, len(results))
	for _, r := range results {
		byID[r.ID] = r
	}
	for i := range out {
		if r, ok := byID[out[i].ID]; ok {
			a := &out[i]
			a.Submitted, a.At, a.Answers, a.Score, a.PassMark, a.Passed = true, r.At, r.Answers, r.Score, r.PassMark, r.Passed
		}
	}
	return out, nil
}

// ImportUsers inserts many users at once (seeding and benchmarks).
func (s *Storage) ImportUsers(ctx context.Context, users []model.User) error {
	docs := make([]any, len(users))
	for i := range users {
		docs[i] = &users[i]
	}
	err := s.writeUser(func() error {
		_, err := s.c(colUsers).InsertMany(ctx, docs)
		return wrap("import users", err)
	}, false, func(w indexWriter) {
		for i := range users {
			w.put(&users[i])
		}
	})
	s.usersChanged(ctx)
	return err
}

// ImportProgress inserts many progress documents at once (seeding and
// benchmarks).
func (s *Storage) ImportProgress(ctx context.Context, ps []model.Progress) error {
	docs := make([]any, len(ps))
	for i := range ps {
		docs[i] = &ps[i]
	}
	_, err := s.c(colProgress).InsertMany(ctx, docs)
	for i := range ps {
		s.progressDirty(ps[i].UserID)
	}
	s.changed(ctx, changeAll, "") // one entry, not one per person
	return wrap("import progress", err)
}
