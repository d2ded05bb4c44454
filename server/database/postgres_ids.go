package database

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// IndexIDs gives every collection the index that FerretDB's reads by _id
// can use: on the embedded database (IndexEmbeddedIDs) and, when the
// PostgreSQL URL is configured, on FerretDB's PostgreSQL backend
// (IndexPostgreSQLIDs). On MongoDB, or FerretDB whose PostgreSQL the
// portal was not told of, it does nothing. It names the collections the
// portal will write; see IndexEmbeddedIDs.
func (db *DB) IndexIDs(ctx context.Context, collections ...string) (int, error) {
	if db.Embedded {
		return db.IndexEmbeddedIDs(ctx, collections...)
	}
	return db.IndexPostgreSQLIDs(ctx, collections...)
}

// IndexPostgreSQLIDs gives every collection table of FerretDB v1.24's
// PostgreSQL backend a GIN index on _jsonb->'_id'.
//
// FerretDB makes its unique _id index a B-tree on _jsonb->'_id' (what
// its updates and deletes use: _jsonb->'_id' = $1), but finds by _id with
// _jsonb->$1 @> $2: containment, which a B-tree cannot answer, so every
// read by _id scans the table (measured on 10,000 progress documents:
// 3-18 ms a read, by load; see the README). A GIN index answers @>, and
// PostgreSQL matches it once it plans with the key '_id' in place of $1
// (its custom plans, which it keeps choosing because they are cheaper).
// fastupdate is off so that a read never scans a pending list of recent
// inserts. FerretDB keeps its own list of indexes and never sees this
// one; dropping a collection drops its table and the index with it.
//
// A FerretDB connection that ran a read by _id on a large table before
// the index existed keeps its cached plan (PostgreSQL compares the
// generic plan with the custom plans it made, all of them scans then), so
// on a database first indexed while FerretDB was running its reads speed
// up as FerretDB renews its connections (pgx's lifetime, an hour) or
// when it restarts.
func (db *DB) IndexPostgreSQLIDs(ctx context.Context, collections ...string) (int, error) {
	if db.pgURL == "" || db.Embedded {
		return 0, nil
	}
	if err := db.ensureCollections(ctx, collections); err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, db.pgURL)
	if err != nil {
		return 0, fmt.Errorf("database: PostgreSQL behind FerretDB: %w", err)
	}
	defer conn.Close(context.Background())
	schema := db.Database.Name() // FerretDB keeps a database in the schema of its name
	tables, err := ferretTables(ctx, conn, schema)
	if err != nil {
		return 0, err
	}
	made := 0
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s USING gin ((_jsonb->'_id')) WITH (fastupdate = off)`,
			pgx.Identifier{t + "__id_gin"}.Sanitize(), pgx.Identifier{schema, t}.Sanitize())
		// duplicate_table or unique_violation: another portal's start made
		// the same index at the same moment (IF NOT EXISTS misses that race).
		if _, err := conn.Exec(ctx, q); err != nil && !pgCode(err, "42P07", "23505") {
			return made, fmt.Errorf("database: index %s.%s: %w", schema, t, err)
		}
		made++
	}
	return made, nil
}

// pgCode tells whether err is a PostgreSQL error with one of codes.
func pgCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && slices.Contains(codes, pe.Code)
}

// ferretTables lists the tables of FerretDB's collections in schema; none
// when FerretDB has not made the database yet.
func ferretTables(ctx context.Context, conn *pgx.Conn, schema string) ([]string, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT _jsonb->>'table' FROM %s`,
		pgx.Identifier{schema, "_ferretdb_database_metadata"}.Sanitize()))
	var tables []string
	if err == nil {
		tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if pgCode(err, "42P01") { // undefined_table: no collection yet
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("database: list FerretDB's tables: %w", err)
	}
	return tables, nil
}
