// Package dbtest gives a test a migrated database of its own, opened as
// the site and manage open theirs (package either, then the migrations
// of its engine): a SQLite file in the test's temporary directory, a
// PostgreSQL database of pgtest's, or any DATABASE_URL.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// SQLite returns a migrated SQLite file of the test's own (in WAL mode,
// as the site runs it), closed when the test ends.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	return Open(t, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite3"))
}

// Postgres returns a migrated PostgreSQL database of the test's own
// (pgtest.NewDatabase: the test is skipped, or fails under CI, without
// TEST_POSTGRES_URL), closed when the test ends.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return Open(t, pgtest.NewDatabase(t))
}

// Open opens the database at url (a DATABASE_URL), applies its engine's
// migrations (adopting tables Django made, as the site does) and closes
// it when the test ends.
func Open(t testing.TB, url string) *database.DB {
	t.Helper()
	db, err := either.OpenURL(context.Background(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	m, err := either.Migrations(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Up(db, nil); err != nil {
		t.Fatalf("migrate %s: %v", url, err)
	}
	return db
}
