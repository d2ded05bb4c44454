package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"conductportal/server/database"

	_ "modernc.org/sqlite" // the embedded database's own driver
)

// RefuseAudit makes every new audit entry fail to store, for real: a
// SQLite trigger on the embedded database's audit table aborts each
// insert, so the portal sees the error a full disk or a lost database
// would give. The trigger is dropped when the test ends.
func RefuseAudit(t testing.TB, db *database.DB) {
	t.Helper()
	file := db.EmbeddedFile()
	if file == "" {
		t.Fatal("testkit: RefuseAudit needs the embedded database")
	}
	ctx := context.Background()
	conn, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatalf("testkit: open %s: %v", file, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	var table string
	if err := conn.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = 'audit'`).Scan(&table); err != nil {
		t.Fatalf("testkit: find the audit table: %v", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		`CREATE TRIGGER refuse_audit BEFORE INSERT ON "%s" BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END`, table)); err != nil {
		t.Fatalf("testkit: refuse audit writes: %v", err)
	}
	t.Cleanup(func() { _, _ = conn.ExecContext(ctx, `DROP TRIGGER IF EXISTS refuse_audit`) })
}
