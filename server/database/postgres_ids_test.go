package database

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"conductportal/server/pgserver"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestMain serves FerretDB when pgserver runs this test binary as its
// FerretDB child process.
func TestMain(m *testing.M) {
	pgserver.Host()
	os.Exit(m.Run())
}

// startPostgreSQL starts a throw-away PostgreSQL cluster with FerretDB in
// front of it. Without PostgreSQL's programs the test is skipped (tests
// never install anything), except under CI, whose machine has them.
func startPostgreSQL(tb testing.TB) *pgserver.Server {
	tb.Helper()
	if !pgserver.Installed() {
		if os.Getenv("CI") != "" {
			tb.Fatal("PostgreSQL is not installed: .ci/run installs Debian's postgresql")
		}
		tb.Skip("PostgreSQL is not installed (apt-get install postgresql): FerretDB on PostgreSQL is not tested")
	}
	dir, err := os.MkdirTemp("", "portal-pgtest-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	// PostgreSQL runs as its own account when this is root: it must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil { // #nosec G302 -- a test's folder
		tb.Fatal(err)
	}
	pg, err := pgserver.Start(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pg.Stop)
	return pg
}

// seedIDs writes n small documents with _id "u00000"... to col.
func seedIDs(tb testing.TB, col *mongo.Collection, n int) {
	tb.Helper()
	ctx := context.Background()
	var docs []any
	for i := range n {
		docs = append(docs, bson.M{"_id": fmt.Sprintf("u%05d", i), "n": i, "lessons": bson.M{"attendance": bson.M{"status": "done", "version": 3}}})
		if len(docs) == 1000 || i == n-1 {
			if _, err := col.InsertMany(ctx, docs); err != nil {
				tb.Fatal(err)
			}
			docs = docs[:0]
		}
	}
}

// explainIDRead is PostgreSQL's plan, as FerretDB reports it, of the
// query FerretDB sends for a find by _id.
func explainIDRead(t *testing.T, db *mongo.Database, collection, id string) string {
	t.Helper()
	var res bson.Raw
	if err := db.RunCommand(context.Background(), bson.D{
		{Key: "explain", Value: bson.D{{Key: "find", Value: collection}, {Key: "filter", Value: bson.D{{Key: "_id", Value: id}}}}},
		{Key: "verbosity", Value: "queryPlanner"},
	}).Decode(&res); err != nil {
		t.Fatal(err)
	}
	plan, err := res.LookupErr("queryPlanner")
	if err != nil {
		t.Fatalf("explain without a queryPlanner: %s", res)
	}
	return plan.String()
}

// TestIndexPostgreSQLIDs: on FerretDB's PostgreSQL backend a find by _id
// scans the table until the portal adds the GIN index; after it,
// PostgreSQL's plan for FerretDB's own query reads that index, and the
// documents read, update, reject a duplicate and drop as before.
func TestIndexPostgreSQLIDs(t *testing.T) {
	ctx := context.Background()
	pg := startPostgreSQL(t)
	db, err := Open(ctx, Options{URI: pg.URI, PostgreSQLURL: pg.PostgreSQLURL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	col := db.Database.Collection("progress")
	seedIDs(t, col, 10000)
	raw, err := pgx.Connect(ctx, pg.PostgreSQLURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	if _, err := raw.Exec(ctx, `ANALYZE`); err != nil { // the statistics autovacuum would gather
		t.Fatal(err)
	}
	// Without the PostgreSQL URL (MongoDB, or FerretDB whose PostgreSQL the
	// portal was not told of) nothing is done.
	other, err := Open(ctx, Options{URI: pg.URI, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if n, err := other.IndexIDs(ctx, "attempt_results"); err != nil || n != 0 {
		t.Fatalf("index without the URL: %d %v, want nothing done", n, err)
	}
	if p := explainIDRead(t, db.Database, "progress", "u04242"); !strings.Contains(p, "Seq Scan") {
		t.Fatalf("before: %s\nFerretDB's own _id index is usable after all, and this index is not needed", p)
	}
	for range 2 { // again: nothing changes
		if n, err := db.IndexIDs(ctx, "attempt_results"); err != nil || n < 2 {
			t.Fatalf("index: %d %v", n, err)
		}
	}
	p := explainIDRead(t, db.Database, "progress", "u04242")
	if strings.Contains(p, "Seq Scan") || !strings.Contains(p, "Index Scan") || !strings.Contains(p, "__id_gin") {
		t.Fatalf("after: %s\nwant a search by the new index", p)
	}
	// Every collection has it, the one named but not yet written included.
	var unindexed []string
	rows, err := raw.Query(ctx, `SELECT m._jsonb->>'_id' FROM portal._ferretdb_database_metadata m
		WHERE NOT EXISTS (SELECT 1 FROM pg_indexes i WHERE i.schemaname = 'portal'
			AND i.tablename = m._jsonb->>'table' AND i.indexname = (m._jsonb->>'table') || '__id_gin')`)
	if err == nil {
		unindexed, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(unindexed) > 0 {
		t.Fatalf("collections without the index: %v %v", unindexed, err)
	}

	var doc struct{ N int }
	if err := col.FindOne(ctx, bson.M{"_id": "u04242"}).Decode(&doc); err != nil || doc.N != 4242 {
		t.Fatalf("read by _id after the index: %+v %v", doc, err)
	}
	if _, err := col.UpdateOne(ctx, bson.M{"_id": "u04242"}, bson.M{"$inc": bson.M{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := col.FindOne(ctx, bson.M{"_id": "u04242"}).Decode(&doc); err != nil || doc.N != 4243 {
		t.Fatalf("read by _id after an update: %+v %v", doc, err)
	}
	if err := col.FindOne(ctx, bson.M{"_id": "nobody"}).Err(); err != mongo.ErrNoDocuments {
		t.Fatalf("read of a missing _id: %v", err)
	}
	if _, err := col.InsertOne(ctx, bson.M{"_id": "u04242"}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("a duplicate _id: %v, want a duplicate-key error", err)
	}
	if err := col.Drop(ctx); err != nil {
		t.Fatalf("drop a collection with the extra index: %v", err)
	}
}

// BenchmarkIDRead is one find by _id among 10,000 documents, before and
// after the portal's index, on the embedded database (SQLite) and on
// FerretDB on PostgreSQL. On PostgreSQL "index-old-connections" reads
// through FerretDB's connections that read before the index existed (they
// keep their plan; see IndexPostgreSQLIDs), "index" after FerretDB
// restarts with new ones.
//
//	go test -run '^$' -bench IDRead ./server/database/
func BenchmarkIDRead(b *testing.B) {
	ctx := context.Background()
	read := func(col *mongo.Collection) func(b *testing.B) {
		return func(b *testing.B) {
			var doc struct{ N int }
			for i := 0; b.Loop(); i++ {
				if err := col.FindOne(ctx, bson.M{"_id": fmt.Sprintf("u%05d", (i*37)%10000)}).Decode(&doc); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		db, err := Open(ctx, Options{DataDir: b.TempDir(), Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close(ctx)
		col := db.Database.Collection("progress")
		seedIDs(b, col, 10000)
		b.Run("scan", read(col))
		if _, err := db.IndexIDs(ctx); err != nil {
			b.Fatal(err)
		}
		b.Run("index", read(col))
	})
	b.Run("postgresql", func(b *testing.B) {
		pg := startPostgreSQL(b)
		db, err := Open(ctx, Options{URI: pg.URI, PostgreSQLURL: pg.PostgreSQLURL, Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close(ctx)
		col := db.Database.Collection("progress")
		seedIDs(b, col, 10000)
		b.Run("scan", read(col))
		if _, err := db.IndexIDs(ctx); err != nil {
			b.Fatal(err)
		}
		b.Run("index-old-connections", read(col))
		pg.StopFerretDB()
		if err := pg.StartFerretDB(); err != nil {
			b.Fatal(err)
		}
		b.Run("index", read(col))
	})
}
