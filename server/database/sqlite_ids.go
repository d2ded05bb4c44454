package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, already linked in
)

// ensureCollections makes the named collections that do not exist yet.
func (db *DB) ensureCollections(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	have, err := db.Database.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return fmt.Errorf("database: list collections: %w", err)
	}
	for _, n := range names {
		if slices.Contains(have, n) {
			continue
		}
		err := db.Database.CreateCollection(ctx, n)
		var ce mongo.CommandError
		if errors.As(err, &ce) && ce.Code == 48 { // NamespaceExists: another start made it
			err = nil
		}
		if err != nil {
			return fmt.Errorf("database: create collection %s: %w", n, err)
		}
	}
	return nil
}

// IndexEmbeddedIDs gives every collection table of the embedded database
// an index that FerretDB v1.24's reads and writes by _id can use.
//
// FerretDB's SQLite backend creates its unique _id index on the
// expression _ferretdb_sjson->"_id" but queries by _ferretdb_sjson->'$._id':
// SQLite matches index expressions by their text, so every find, update
// and delete by _id scans the table. Measured on 10,000 progress
// documents: 54 ms a read by _id, 0.5 ms with this index. The index is
// plain SQLite: FerretDB keeps its own list of indexes and never sees it;
// dropping a collection drops its table and the index with it.
//
// Tables are made when a collection is first written, so the portal calls
// this at start (after the schema steps and the content import), and
// names the collections it will write (made empty here when missing): a
// collection first written after start would otherwise be read by
// scanning until the next start (measured: quiz submits spent half their
// time scanning attempt_results, a collection the bench's seed leaves
// empty).
func (db *DB) IndexEmbeddedIDs(ctx context.Context, collections ...string) (int, error) {
	if !db.Embedded {
		return 0, nil
	}
	if err := db.ensureCollections(ctx, collections); err != nil {
		return 0, err
	}
	file := filepath.Join(db.embedded.dir, db.Database.Name()+".sqlite")
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("database: open %s: %w", file, err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return 0, fmt.Errorf("database: list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("database: list tables: %w", err)
		}
		tables = append(tables, t)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("database: list tables: %w", err)
	}
	made := 0
	for _, t := range tables {
		if strings.ContainsAny(t, `"'`) {
			continue // FerretDB names tables from [a-z0-9_]; anything else is not ours to touch
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(
			`CREATE INDEX IF NOT EXISTS "%s__id_path" ON "%s" (_ferretdb_sjson->'$._id')`, t, t)); err != nil {
			return made, fmt.Errorf("database: index %s: %w", t, err)
		}
		made++
	}
	return made, nil
}

// EmbeddedFile is the SQLite file of the embedded database, or "" when the
// database is not embedded (tests open it to make a write fail for real).
func (db *DB) EmbeddedFile() string {
	if !db.Embedded {
		return ""
	}
	return filepath.Join(db.embedded.dir, db.Database.Name()+".sqlite")
}

// CountEmbedded is how many documents an embedded collection holds, by
// SQLite's count of its table (no document read). FerretDB v1 answers
// count, the estimated one too, by reading and decoding every document:
// the portal_sessions gauge at each metrics scrape scanned every session
// (10,000 of them left about 120 MB of garbage, the collector's work
// during the requests that followed). A collection never written counts
// 0. Not embedded: an error (ask the database).
func (db *DB) CountEmbedded(ctx context.Context, collection string) (int64, error) {
	if !db.Embedded {
		return 0, fmt.Errorf("database: count %s: not embedded", collection)
	}
	file := db.EmbeddedFile()
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("database: open %s: %w", file, err)
	}
	defer conn.Close()
	var table string
	// No metadata table: FerretDB has not written to the database yet.
	err = conn.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, collection).Scan(&table)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("database: count %s: %w", collection, err)
	}
	if strings.ContainsAny(table, `"'`) {
		return 0, fmt.Errorf("database: count %s: unexpected table name %q", collection, table)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM "%s"`, table)).Scan(&n); err != nil { // #nosec G201 -- a FerretDB table name, quotes refused above
		return 0, fmt.Errorf("database: count %s: %w", collection, err)
	}
	return n, nil
}
