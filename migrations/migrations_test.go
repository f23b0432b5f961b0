package migrations_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"gorm.io/gorm/schema"

	"github.com/djangosessions/gosessions/migrations"
	"github.com/djangosessions/gosessions/models"
)

// Django's DDL for the table and its index (sqlmigrate sessions 0001).
const (
	djangoTable = `CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)`
	djangoIndex = `CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")`
)

var first = migrations.Info{Version: 1, Name: "create_django_session"}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "db.sqlite3")+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func status(t *testing.T, db *sql.DB) []migrations.Info {
	t.Helper()
	got, err := migrations.Status(db)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return got
}

func applied(m migrations.Info, ok bool) migrations.Info {
	m.Applied = ok
	return m
}

func wantInfos(t *testing.T, what string, got []migrations.Info, want ...migrations.Info) {
	t.Helper()
	if len(want) == 0 {
		want = nil
	}
	if len(got) == 0 {
		got = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// record returns a report function that collects the steps.
func record(steps *[]migrations.Info) func(migrations.Info) {
	return func(m migrations.Info) { *steps = append(*steps, m) }
}

func tableExists(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'django_session'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// checkSchema compares the table with models.Session, column by column,
// and with Django's own DDL.
func checkSchema(t *testing.T, db *sql.DB) {
	t.Helper()
	s, err := schema.Parse(&models.Session{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Table != "django_session" {
		t.Errorf("model table = %q", s.Table)
	}

	type column struct {
		typ         string
		notNull, pk bool
	}
	want := map[string]column{}
	for _, f := range s.Fields {
		if f.DBName != "" {
			want[f.DBName] = column{strings.ToLower(string(f.DataType)), f.NotNull, f.PrimaryKey}
		}
	}
	rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info('django_session')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]column{}
	for rows.Next() {
		var name string
		var c column
		if err := rows.Scan(&name, &c.typ, &c.notNull, &c.pk); err != nil {
			t.Fatal(err)
		}
		c.typ = strings.ToLower(c.typ) // SQL types ignore case; SQLite reports "TEXT"
		got[name] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("table columns = %+v\nmodel columns = %+v", got, want)
	}

	for _, idx := range s.ParseIndexes() {
		var cols []string
		for _, f := range idx.Fields {
			cols = append(cols, f.DBName)
		}
		var sqlText string
		if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = 'django_session'`, idx.Name).Scan(&sqlText); err != nil {
			t.Errorf("model index %s: %v", idx.Name, err)
			continue
		}
		if want := `("` + strings.Join(cols, `", "`) + `")`; !strings.HasSuffix(sqlText, want) {
			t.Errorf("index %s = %s, want columns %s", idx.Name, sqlText, want)
		}
	}

	for name, want := range map[string]string{"django_session": djangoTable, "django_session_expire_date_a5c62663": djangoIndex} {
		var got string
		if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, name).Scan(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("sqlite_master sql of %s =\n%s\nwant Django's\n%s", name, got, want)
		}
	}
}

func TestUpDownUp(t *testing.T) {
	db := openDB(t)

	wantInfos(t, "Status of a new database", status(t, db), applied(first, false))

	var steps []migrations.Info
	if err := migrations.Up(db, record(&steps)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", steps, applied(first, true))
	wantInfos(t, "Status after Up", status(t, db), applied(first, true))
	checkSchema(t, db)

	steps = nil
	if err := migrations.Up(db, record(&steps)); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	wantInfos(t, "second Up reported", steps)

	if err := migrations.To(db, 0, record(&steps)); err != nil {
		t.Fatalf("To(0): %v", err)
	}
	wantInfos(t, "To(0) reported", steps, applied(first, false))
	wantInfos(t, "Status after To(0)", status(t, db), applied(first, false))
	if tableExists(t, db) {
		t.Error("django_session still exists after To(0)")
	}

	steps = nil
	if err := migrations.To(db, 1, record(&steps)); err != nil {
		t.Fatalf("To(1): %v", err)
	}
	wantInfos(t, "To(1) reported", steps, applied(first, true))
	checkSchema(t, db)

	// Up with a nil report works too.
	if err := migrations.To(db, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, db)

	if err := db.Ping(); err != nil {
		t.Errorf("the caller's *sql.DB was closed: %v", err)
	}
}

// TestAdoptDjangoTable runs the migrations on a database where Django
// created the table already: the table and its rows are kept.
func TestAdoptDjangoTable(t *testing.T) {
	db := openDB(t)
	for _, q := range []string{
		djangoTable,
		djangoIndex,
		`INSERT INTO django_session VALUES ('k2mvlfalnvfy7e8pe66k4ac8xzjwr4jt', 'eyJmb28iOiJiYXIifQ:1xWemM:sig', '2030-01-01 00:00:00')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	wantInfos(t, "Status of Django's database", status(t, db), applied(first, false))
	var steps []migrations.Info
	if err := migrations.Up(db, record(&steps)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", steps, applied(first, true))
	wantInfos(t, "Status after Up", status(t, db), applied(first, true))
	checkSchema(t, db)

	var data, expire string
	err := db.QueryRow(`SELECT session_data, CAST(expire_date AS TEXT) FROM django_session WHERE session_key = 'k2mvlfalnvfy7e8pe66k4ac8xzjwr4jt'`).Scan(&data, &expire)
	if err != nil {
		t.Fatalf("Django's row after Up: %v", err)
	}
	if data != "eyJmb28iOiJiYXIifQ:1xWemM:sig" || expire != "2030-01-01 00:00:00" {
		t.Errorf("Django's row after Up = %q, %q", data, expire)
	}
}

func TestToUnknownVersion(t *testing.T) {
	db := openDB(t)
	err := migrations.To(db, 7, nil)
	if err == nil || !strings.Contains(err.Error(), "no migration has version 7") {
		t.Errorf("To(7) = %v, want an error naming the version", err)
	}
	if tableExists(t, db) {
		t.Error("To(7) created the table")
	}
}

func TestDirty(t *testing.T) {
	db := openDB(t)
	if err := migrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	// What golang-migrate leaves when migration 1 fails: its transaction is
	// rolled back and the version is marked dirty.
	if _, err := db.Exec(`DROP TABLE django_session; UPDATE schema_migrations SET dirty = 1`); err != nil {
		t.Fatal(err)
	}

	err := migrations.Up(db, nil)
	if !errors.Is(err, migrations.ErrDirty) {
		t.Fatalf("Up on a dirty database = %v, want ErrDirty", err)
	}
	const fix = "DELETE FROM schema_migrations"
	if !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "1_create_django_session") {
		t.Errorf("error %q does not name the migration and the fix %q", err, fix)
	}
	if err := migrations.To(db, 0, nil); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("To(0) on a dirty database = %v, want ErrDirty", err)
	}
	got, err := migrations.Status(db)
	if !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Status on a dirty database: error %v, want ErrDirty", err)
	}
	wantInfos(t, "Status on a dirty database", got, applied(first, false))

	// The fix the error gives works.
	if _, err := db.Exec(fix); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(db, nil); err != nil {
		t.Fatalf("Up after the fix: %v", err)
	}
	checkSchema(t, db)
}

func TestNewerDatabase(t *testing.T) {
	db := openDB(t)
	if err := migrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_migrations SET version = 99`); err != nil {
		t.Fatal(err)
	}
	err := migrations.Up(db, nil)
	if err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("Up on a newer database = %v, want an error naming version 99", err)
	}
}
