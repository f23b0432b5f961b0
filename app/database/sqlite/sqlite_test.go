package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/djangosessions/gosessions/app/database/sqlite"
)

// WriteLocked sees another connection's write transaction without waiting
// for it, and takes nothing from the database's own writer.
func TestWriteLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	db, err := sqlite.OpenURL(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if locked, err := sqlite.WriteLocked(t.Context(), db); locked || err != nil {
		t.Fatalf("WriteLocked on an idle database = %v, %v; want false", locked, err)
	}
	other, err := sqlite.OpenURL(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.SQL().Begin() // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	if locked, err := sqlite.WriteLocked(t.Context(), db); !locked || err != nil {
		t.Errorf("WriteLocked during another's write transaction = %v, %v; want true", locked, err)
	}
	tx.Rollback()
	if _, err := db.SQL().Exec("CREATE TABLE t (a integer)"); err != nil {
		t.Fatalf("the writer after WriteLocked: %v", err)
	}
	mem, err := sqlite.OpenURL(t.Context(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if locked, err := sqlite.WriteLocked(t.Context(), mem); locked || err != nil {
		t.Errorf("WriteLocked in memory = %v, %v; want false", locked, err)
	}
}
