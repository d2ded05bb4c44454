package storage

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"conductportal/server/model"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Several instances on one FerretDB may not update one user's progress at
// once: FerretDB v1 applies an update as read, modify, write, so one of two
// concurrent updates can be lost. A lease serializes them: a document in
// locks whose _id names the user, taken by a unique insert (which FerretDB
// and MongoDB both make atomic) and given back by deleting it. A lease not
// given back (its instance died) is taken over after leaseTTL.
//
// Only the unique insert is atomic; a delete is a read and then a delete
// by _id. So a lease that may be expired is ended through an end marker,
// itself a unique insert keyed by the lease's token: only the one instance
// that inserted the marker deletes the lease, and only after reading that
// it is still the one with that token. A marker left by an instance that
// died while holding it is ended the same way, one level up. The lease
// assumption is the usual one: no instance stalls for longer than
// leaseTTL between taking a lease and giving it back.

// leaseTTL is how long a lease holds without being given back: far more
// than a progress update takes, short enough that a crashed instance
// delays its users' progress by seconds only.
const leaseTTL = 5 * time.Second

// errLeaseBusy: another instance is ending the lease; try again.
var errLeaseBusy = errors.New("storage: lease being ended elsewhere")

type lease struct {
	ID      string    `bson:"_id"`
	Token   string    `bson:"token"`
	Expires time.Time `bson:"expires"`
}

// lockProgress serializes the updates of a user's progress: in this
// process by taking turns (turns.go), and across instances (when others write the
// database) by a lease. Call the returned function to unlock.
func (s *Storage) lockProgress(ctx context.Context, userID string) (func(), error) {
	unlock, err := s.turns.lock(ctx, progressKey(userID))
	if err != nil {
		return nil, err
	}
	if s.sole {
		return unlock, nil
	}
	l, err := s.takeLease(ctx, progressKey(userID))
	if err != nil {
		unlock()
		return nil, err
	}
	return func() {
		s.giveLease(context.WithoutCancel(ctx), l)
		unlock()
	}, nil
}

// takeLease waits until it holds the lease id, or ctx ends.
func (s *Storage) takeLease(ctx context.Context, id string) (*lease, error) {
	wait := time.Millisecond
	for {
		l := &lease{ID: id, Token: model.NewID(), Expires: time.Now().Add(leaseTTL)}
		_, err := s.c(colLocks).InsertOne(ctx, l)
		if err == nil {
			return l, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, wrap("take lease", err)
		}
		var held lease
		err = s.c(colLocks).FindOne(ctx, bson.M{"_id": id}).Decode(&held)
		switch {
		case isNotFound(err):
			continue // given back just now
		case err != nil:
			return nil, wrap("take lease", err)
		case time.Now().After(held.Expires):
			// Its holder died or stalled: end it, exactly once.
			if err := s.endLease(ctx, &held, 0); err == nil {
				continue
			} else if !errors.Is(err, errLeaseBusy) {
				return nil, err
			}
		}
		// Jittered, so instances waiting on one user do not retry in step.
		t := time.NewTimer(wait/2 + rand.N(wait)) // #nosec G404 -- jitter, not a secret
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, wrap("take lease", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// giveLease gives a lease back. Well within its time nobody else can have
// taken it over, so a delete by _id and token does; later it is ended
// through a marker, as a takeover would. A failure leaves the lease to
// expire.
func (s *Storage) giveLease(ctx context.Context, l *lease) {
	if time.Until(l.Expires) > leaseTTL/2 {
		_, _ = s.c(colLocks).DeleteOne(ctx, bson.M{"_id": l.ID, "token": l.Token})
		return
	}
	_ = s.endLease(ctx, l, 0)
}

// endLease deletes the lease l if it is still the one with l's token,
// exactly once however many instances try: the one that inserts the end
// marker does. depth bounds the markers of markers.
func (s *Storage) endLease(ctx context.Context, l *lease, depth int) error {
	m := &lease{ID: l.ID + "/end/" + l.Token, Token: model.NewID(), Expires: time.Now().Add(leaseTTL)}
	_, err := s.c(colLocks).InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		var held lease
		err := s.c(colLocks).FindOne(ctx, bson.M{"_id": m.ID}).Decode(&held)
		switch {
		case isNotFound(err):
			return errLeaseBusy // ended just now
		case err != nil:
			return wrap("end lease", err)
		case depth < 2 && time.Now().After(held.Expires):
			// Its ender died: end the marker, then try again.
			if err := s.endLease(ctx, &held, depth+1); err != nil && !errors.Is(err, errLeaseBusy) {
				return err
			}
		}
		return errLeaseBusy
	}
	if err != nil {
		return wrap("end lease", err)
	}
	var cur lease
	err = s.c(colLocks).FindOne(ctx, bson.M{"_id": l.ID}).Decode(&cur)
	if err == nil && cur.Token == l.Token {
		_, err = s.c(colLocks).DeleteOne(ctx, bson.M{"_id": l.ID})
	}
	if err != nil && !isNotFound(err) {
		return wrap("end lease", err)
	}
	// The lease with this token is gone for good (tokens are never
	// reused), so whoever inserts this marker later finds nothing to do.
	_, err = s.c(colLocks).DeleteOne(ctx, bson.M{"_id": m.ID})
	return wrap("end lease", err)
}
