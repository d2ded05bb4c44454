package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"conductportal/server/secret"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// step is one schema change. Steps run in order, each once; the number of
// the last applied step is recorded in the schema collection.
// box is the portal's secret key (nil: none), for steps that seal data.
type step func(ctx context.Context, db *mongo.Database, box *secret.Box) error

var steps = []step{
	// 1: unique keys that enforce the domain's rules.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"users": {unique("login_unique", bson.D{{Key: "login", Value: 1}})},
			"receipts": {
				// One receipt per user, lesson and version: exactly-once acknowledgement.
				unique("user_lesson_version", bson.D{{Key: "user_id", Value: 1}, {Key: "lesson", Value: 1}, {Key: "version", Value: 1}}),
				// One receipt per position in a user's chain: concurrent acknowledgements cannot fork it.
				unique("user_seq", bson.D{{Key: "user_id", Value: 1}, {Key: "seq", Value: 1}}),
			},
			"attempts": {plain("user_lesson", bson.D{{Key: "user_id", Value: 1}, {Key: "lesson", Value: 1}})},
			"sessions": {plain("user", bson.D{{Key: "user_id", Value: 1}})},
			"audit":    {plain("at", bson.D{{Key: "at", Value: -1}})},
		})
	},
	// 2: one certificate per completed set of lesson versions.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"certificates": {unique("fingerprint_unique", bson.D{{Key: "fingerprint", Value: 1}})},
		})
	},
	// 3: team reports and notifications. A notification's _id is its
	// once-a-day key (kind/person/lesson/day), unique by nature.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"users": {
				plain("manager", bson.D{{Key: "manager", Value: 1}}),
				plain("department", bson.D{{Key: "department", Value: 1}}),
			},
			"notifications": {
				plain("user_created", bson.D{{Key: "user_id", Value: 1}, {Key: "created", Value: -1}}),
				plain("about_created", bson.D{{Key: "about", Value: 1}, {Key: "created", Value: -1}}),
			},
			"attempts": {plain("user_started", bson.D{{Key: "user_id", Value: 1}, {Key: "started", Value: 1}})},
		})
	},
	// 4: renewals. A lesson with a validity period is signed again when the
	// receipt ages out, so the exactly-once key gains the renewal cycle.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		receipts := db.Collection("receipts")
		if _, err := receipts.UpdateMany(ctx, bson.M{"cycle": bson.M{"$exists": false}}, bson.M{"$set": bson.M{"cycle": 0}}); err != nil {
			return fmt.Errorf("backfill cycle: %w", err)
		}
		if err := createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"receipts": {unique("user_lesson_version_cycle", bson.D{{Key: "user_id", Value: 1}, {Key: "lesson", Value: 1}, {Key: "version", Value: 1}, {Key: "cycle", Value: 1}})},
		}); err != nil {
			return err
		}
		if err := receipts.Indexes().DropOne(ctx, "user_lesson_version"); err != nil && !isIndexNotFound(err) {
			return fmt.Errorf("drop user_lesson_version: %w", err)
		}
		return nil
	},
	// 5: the audit log filtered by actor on HR's audit page. Drafts need no index: one
	// per lesson, read by _id.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"audit": {plain("actor_at", bson.D{{Key: "actor", Value: 1}, {Key: "at", Value: -1}})},
		})
	},
	// 6: the channels' delivery queue: the worker reads what is due, HR's
	// log the newest. Uniqueness is the _id (message|channel, and
	// delivery#attempt for the claims).
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"deliveries": {
				plain("status_next", bson.D{{Key: "status", Value: 1}, {Key: "next", Value: 1}}),
				plain("updated", bson.D{{Key: "updated", Value: -1}}),
			},
		})
	},
	// 7: several instances on one database: each refreshes its cache of
	// everyone's progress by reading what changed since it last looked.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		return createIndexes(ctx, db, map[string][]mongo.IndexModel{
			"progress": {plain("updated", bson.D{{Key: "updated", Value: 1}})},
		})
	},
	// 8: second-factor secrets (and enrolments under way) stored in clear
	// are sealed with the portal's key, as channel secrets are.
	sealSecondFactors,
	// 9: item statistics a rebuild stored with no option chosen had
	// chosen: null, which refuses the next $inc of chosen.<option>, so the
	// sums held for them were never written.
	func(ctx context.Context, db *mongo.Database, _ *secret.Box) error {
		if _, err := db.Collection("item_stats").UpdateMany(ctx, bson.M{"chosen": nil}, bson.M{"$unset": bson.M{"chosen": ""}}); err != nil {
			return fmt.Errorf("item statistics without choices: %w", err)
		}
		return nil
	},
}

// sealSecondFactors seals every clear TOTP secret and pending enrolment.
// Without a key it fails only when there is something to seal, naming the
// setting, so a portal without second factors starts as before.
func sealSecondFactors(ctx context.Context, db *mongo.Database, box *secret.Box) error {
	users := db.Collection("users")
	cur, err := users.Find(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	type mfa struct {
		Secret  string `bson:"secret"`
		Pending string `bson:"pending"`
	}
	var todo []bson.M // _id and the fields to set
	for cur.Next(ctx) {
		var u struct {
			ID  string `bson:"_id"`
			MFA mfa    `bson:"mfa"`
		}
		if err := cur.Decode(&u); err != nil {
			_ = cur.Close(ctx)
			return fmt.Errorf("read users: %w", err)
		}
		set := bson.M{}
		for field, v := range map[string]string{"mfa.secret": u.MFA.Secret, "mfa.pending": u.MFA.Pending} {
			if v == "" || secret.Sealed(v) {
				continue
			}
			sealed, err := box.Seal(v)
			if err != nil {
				_ = cur.Close(ctx)
				return fmt.Errorf("second-factor secrets are stored in clear and need PORTAL_SECRET_KEY to be sealed: %w", err)
			}
			set[field] = sealed
		}
		if len(set) > 0 {
			todo = append(todo, bson.M{"_id": u.ID, "set": set})
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	_ = cur.Close(ctx)
	for _, t := range todo {
		if _, err := users.UpdateOne(ctx, bson.M{"_id": t["_id"]}, bson.M{"$set": t["set"]}); err != nil {
			return fmt.Errorf("seal second factor: %w", err)
		}
	}
	return nil
}

// isIndexNotFound reports the server's "index not found" (code 27): the
// step ran before, or the index never existed.
func isIndexNotFound(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(27)
}

// SchemaVersion is the number of schema steps this build knows.
func SchemaVersion() int { return len(steps) }

func unique(name string, keys bson.D) mongo.IndexModel {
	return mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name).SetUnique(true)}
}

func plain(name string, keys bson.D) mongo.IndexModel {
	return mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name)}
}

func createIndexes(ctx context.Context, db *mongo.Database, byCollection map[string][]mongo.IndexModel) error {
	for col, models := range byCollection {
		if _, err := db.Collection(col).Indexes().CreateMany(ctx, models); err != nil {
			return fmt.Errorf("indexes of %s: %w", col, err)
		}
	}
	return nil
}

type schemaDoc struct {
	ID      string    `bson:"_id"`
	Version int       `bson:"version"`
	Updated time.Time `bson:"updated"`
}

// Migrate applies the steps not yet recorded. Steps are idempotent, so two
// instances starting together at worst both apply the same step.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) (int, error) {
	col := db.Database.Collection("schema")
	var doc schemaDoc
	err := col.FindOne(ctx, bson.M{"_id": "schema"}).Decode(&doc)
	if err != nil && err != mongo.ErrNoDocuments {
		return 0, fmt.Errorf("database: read schema version: %w", err)
	}
	if doc.Version > len(steps) {
		return doc.Version, fmt.Errorf("database: a newer portal has used this database (schema step %d; this portal knows %d): "+
			"a downgrade is refused, nothing was changed. Run that version or a newer one, or restore a backup made before the upgrade into an empty database",
			doc.Version, len(steps))
	}
	for i := doc.Version; i < len(steps); i++ {
		if err := steps[i](ctx, db.Database, db.secrets); err != nil {
			return i, fmt.Errorf("database: schema step %d: %w", i+1, err)
		}
		_, err := col.UpdateOne(ctx, bson.M{"_id": "schema"},
			bson.M{"$max": bson.M{"version": i + 1}, "$set": bson.M{"updated": time.Now().UTC()}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			return i, fmt.Errorf("database: record schema step %d: %w", i+1, err)
		}
		logger.Info("schema step applied", "step", i+1)
	}
	return len(steps), nil
}
