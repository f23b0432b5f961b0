package database_test

import (
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// TestSlowStatementsLogNoArguments: GORM renders a statement for its log
// (a slow one, at the default level) through the logger's ParamsFilter;
// the arguments, session keys and data, must not be in it.
func TestSlowStatementsLogNoArguments(t *testing.T) {
	db := open(t, "sqlite:"+filepath.Join(t.TempDir(), "db.sqlite3"))
	f, ok := db.Gorm.Logger.(gorm.ParamsFilter)
	if !ok {
		t.Fatal("GORM's logger has no ParamsFilter: slow statements are logged with their arguments")
	}
	const key = "abcdefghijklmnopqrstuvwxyz012345"
	sql, params := f.ParamsFilter(t.Context(), "SELECT * FROM django_session WHERE session_key = ?", key)
	if logged := db.Gorm.Dialector.Explain(sql, params...); strings.Contains(logged, key) {
		t.Errorf("a slow statement would be logged as %q", logged)
	}
}
