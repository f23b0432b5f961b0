package migrations_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"gorm.io/gorm/schema"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/migrations"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/djangosessions/gosessions/models"
)

// Django's DDL for the table and its index (sqlmigrate sessions 0001).
const (
	djangoTable = `CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)`
	djangoIndex = `CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")`
)

// The embedded migrations.
var (
	first  = migrations.Info{Version: 1, Name: "create_django_session"}
	second = migrations.Info{Version: 2, Name: "create_auth_user"}
)

// known lists every embedded migration, oldest first.
var known = []migrations.Info{
	first,
	second,
	{Version: 3, Name: "notify_session_changes"},
	{Version: 4, Name: "notify_session_expiry"},
}

// statuses returns every known migration, those up to version v applied.
func statuses(v uint) []migrations.Info {
	var out []migrations.Info
	for _, m := range known {
		out = append(out, applied(m, m.Version <= v))
	}
	return out
}

// last is the version of the newest migration.
var last = known[len(known)-1].Version

// steps returns the reports of migrating from version from to version to,
// one migration at a time.
func steps(from, to uint) []migrations.Info {
	var out []migrations.Info
	if from < to {
		for _, m := range known {
			if m.Version > from && m.Version <= to {
				out = append(out, applied(m, true))
			}
		}
		return out
	}
	for i := len(known) - 1; i >= 0; i-- {
		if m := known[i]; m.Version <= from && m.Version > to {
			out = append(out, applied(m, false))
		}
	}
	return out
}

func openDB(t *testing.T) *database.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "db.sqlite3"))
}

func openPath(t *testing.T, path string) *database.DB {
	t.Helper()
	u, err := database.ParseURL("sqlite:" + path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func status(t *testing.T, db *database.DB) []migrations.Info {
	t.Helper()
	e, err := either.Migrations(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Status(db)
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

func tableExists(t *testing.T, db *database.DB) bool {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'django_session'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// columnsMatchModel checks that table, as SQLite reports it, has exactly
// the n columns of model's GORM schema, with the same types, NOT NULL and
// primary key; it returns the schema.
func columnsMatchModel(t *testing.T, db *database.DB, model any, table string, n int) *schema.Schema {
	t.Helper()
	s, err := schema.Parse(model, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Table != table {
		t.Errorf("model table = %q, want %q", s.Table, table)
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
	rows, err := db.SQL().Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, table)
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
	if len(got) != n || !reflect.DeepEqual(got, want) {
		t.Errorf("%s columns = %+v\nmodel columns = %+v", table, got, want)
	}
	return s
}

// checkSchema compares the table with models.Session, column by column,
// and with Django's own DDL.
func checkSchema(t *testing.T, db *database.DB) {
	t.Helper()
	s := columnsMatchModel(t, db, &models.Session{}, "django_session", 3)

	for _, idx := range s.ParseIndexes() {
		var cols []string
		for _, f := range idx.Fields {
			cols = append(cols, f.DBName)
		}
		var sqlText string
		if err := db.SQL().QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ? AND tbl_name = 'django_session'`, idx.Name).Scan(&sqlText); err != nil {
			t.Errorf("model index %s: %v", idx.Name, err)
			continue
		}
		if want := `("` + strings.Join(cols, `", "`) + `")`; !strings.HasSuffix(sqlText, want) {
			t.Errorf("index %s = %s, want columns %s", idx.Name, sqlText, want)
		}
	}

	for name, want := range map[string]string{"django_session": djangoTable, "django_session_expire_date_a5c62663": djangoIndex} {
		var got string
		if err := db.SQL().QueryRow(`SELECT sql FROM sqlite_master WHERE name = ?`, name).Scan(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got != want {
			t.Errorf("sqlite_master sql of %s =\n%s\nwant Django's\n%s", name, got, want)
		}
	}
}

func TestUpDownUp(t *testing.T) {
	db := openDB(t)

	wantInfos(t, "Status of a new database", status(t, db), statuses(0)...)

	var got []migrations.Info
	if err := sqlitemigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", got, steps(0, last)...)
	wantInfos(t, "Status after Up", status(t, db), statuses(last)...)
	checkSchema(t, db)

	got = nil
	if err := sqlitemigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	wantInfos(t, "second Up reported", got)

	if err := sqlitemigrations.To(db, 0, record(&got)); err != nil {
		t.Fatalf("To(0): %v", err)
	}
	wantInfos(t, "To(0) reported", got, steps(last, 0)...)
	wantInfos(t, "Status after To(0)", status(t, db), statuses(0)...)
	if tableExists(t, db) {
		t.Error("django_session still exists after To(0)")
	}

	got = nil
	if err := sqlitemigrations.To(db, 1, record(&got)); err != nil {
		t.Fatalf("To(1): %v", err)
	}
	wantInfos(t, "To(1) reported", got, applied(first, true))
	checkSchema(t, db)

	// Up with a nil report works too.
	if err := sqlitemigrations.To(db, 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, db)

	if err := db.SQL().Ping(); err != nil {
		t.Errorf("the caller's *database.DB was closed: %v", err)
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
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	wantInfos(t, "Status of Django's database", status(t, db), statuses(0)...)
	var got []migrations.Info
	if err := sqlitemigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", got, steps(0, last)...)
	wantInfos(t, "Status after Up", status(t, db), statuses(last)...)
	checkSchema(t, db)

	var data, expire string
	err := db.SQL().QueryRow(`SELECT session_data, CAST(expire_date AS TEXT) FROM django_session WHERE session_key = 'k2mvlfalnvfy7e8pe66k4ac8xzjwr4jt'`).Scan(&data, &expire)
	if err != nil {
		t.Fatalf("Django's row after Up: %v", err)
	}
	if data != "eyJmb28iOiJiYXIifQ:1xWemM:sig" || expire != "2030-01-01 00:00:00" {
		t.Errorf("Django's row after Up = %q, %q", data, expire)
	}
}

func TestToUnknownVersion(t *testing.T) {
	db := openDB(t)
	err := sqlitemigrations.To(db, 7, nil)
	if err == nil || !strings.Contains(err.Error(), "no migration has version 7") {
		t.Errorf("To(7) = %v, want an error naming the version", err)
	}
	if tableExists(t, db) {
		t.Error("To(7) created the table")
	}
}

func TestDirty(t *testing.T) {
	db := openDB(t)
	if err := sqlitemigrations.To(db, 1, nil); err != nil {
		t.Fatal(err)
	}
	// What golang-migrate leaves when migration 1 fails: its transaction is
	// rolled back and the version is marked dirty.
	if _, err := db.SQL().Exec(`DROP TABLE django_session; UPDATE ` + migrations.VersionTable + ` SET version = 1, dirty = 1`); err != nil {
		t.Fatal(err)
	}

	err := sqlitemigrations.Up(db, nil)
	if !errors.Is(err, migrations.ErrDirty) {
		t.Fatalf("Up on a dirty database = %v, want ErrDirty", err)
	}
	const fix = "DELETE FROM " + migrations.VersionTable
	if !strings.Contains(err.Error(), fix) || !strings.Contains(err.Error(), "1_create_django_session") {
		t.Errorf("error %q does not name the migration and the fix %q", err, fix)
	}
	if err := sqlitemigrations.To(db, 0, nil); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("To(0) on a dirty database = %v, want ErrDirty", err)
	}
	got, err := sqlitemigrations.Status(db)
	if !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Status on a dirty database: error %v, want ErrDirty", err)
	}
	wantInfos(t, "Status on a dirty database", got, statuses(0)...)
	if _, err := sqlitemigrations.Migrations().Pending(t.Context(), db); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Pending on a dirty database: %v, want ErrDirty", err)
	}

	// The fix the error gives works.
	if _, err := db.SQL().Exec(fix); err != nil {
		t.Fatal(err)
	}
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatalf("Up after the fix: %v", err)
	}
	checkSchema(t, db)
}

func TestNewerDatabase(t *testing.T) {
	db := openDB(t)
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`UPDATE ` + migrations.VersionTable + ` SET version = 99`); err != nil {
		t.Fatal(err)
	}
	err := sqlitemigrations.Up(db, nil)
	if err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("Up on a newer database = %v, want an error naming version 99", err)
	}
}

// appMigrations are an application's own golang-migrate migrations, kept
// in golang-migrate's default table, schema_migrations.
var appMigrations = fstest.MapFS{
	"1_create_orders.up.sql":   {Data: []byte(`CREATE TABLE orders (id integer PRIMARY KEY)`)},
	"1_create_orders.down.sql": {Data: []byte(`DROP TABLE orders`)},
	"2_add_total.up.sql":       {Data: []byte(`ALTER TABLE orders ADD COLUMN total integer`)},
	"2_add_total.down.sql":     {Data: []byte(`ALTER TABLE orders DROP COLUMN total`)},
}

// migrateApp applies appMigrations to the SQLite file at path the way an
// application does, on a connection of its own (golang-migrate's driver
// closes it).
func migrateApp(t *testing.T, path string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	drv, err := sqlite3.WithInstance(conn, &sqlite3.Config{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := iofs.New(appMigrations, ".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "sqlite3", drv)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatalf("the application's migrations: %v", err)
	}
	if v, dirty, err := m.Version(); v != 2 || dirty || err != nil {
		t.Fatalf("the application's version = %d, %v, %v; want 2", v, dirty, err)
	}
}

// TestCoexistsWithApplicationMigrations: an application's own
// golang-migrate migrations and the package's apply side by side, in
// either order, each set in its own version table.
func TestCoexistsWithApplicationMigrations(t *testing.T) {
	for _, appFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("appFirst=%v", appFirst), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db.sqlite3")
			db := openPath(t, path)
			if appFirst {
				migrateApp(t, path)
			}
			var got []migrations.Info
			if err := sqlitemigrations.Up(db, record(&got)); err != nil {
				t.Fatalf("Up: %v", err)
			}
			wantInfos(t, "Up reported", got, steps(0, last)...)
			if !appFirst {
				migrateApp(t, path)
			}
			checkSchema(t, db)
			wantInfos(t, "Status", status(t, db), statuses(last)...)
			var total sql.NullInt64
			if err := db.SQL().QueryRow(`SELECT total FROM orders`).Scan(&total); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("the application's table after both: %v, want it there and empty", err)
			}
		})
	}
}

// TestAdoptsTheVersionOfEarlierReleases: earlier releases recorded version
// 1 in schema_migrations. The new table adopts it without running it again
// (the later migrations run) and leaves schema_migrations alone.
func TestAdoptsTheVersionOfEarlierReleases(t *testing.T) {
	db := openDB(t)
	for _, q := range []string{
		djangoTable,
		djangoIndex,
		`CREATE TABLE schema_migrations (version uint64, dirty bool)`,
		`INSERT INTO schema_migrations VALUES (1, 0)`,
	} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	wantInfos(t, "Status", status(t, db), statuses(1)...)
	var got []migrations.Info
	if err := sqlitemigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", got, steps(1, last)...)
	var v int
	if err := db.SQL().QueryRow(`SELECT version FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Errorf("schema_migrations after Up = %d, %v; want it untouched at 1", v, err)
	}

	// Another version there is the application's, not ours: not adopted.
	other := openDB(t)
	for _, q := range []string{djangoTable, `CREATE TABLE schema_migrations (version uint64, dirty bool)`, `INSERT INTO schema_migrations VALUES (2, 0)`} {
		if _, err := other.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	wantInfos(t, "Status with the application's version 2 in schema_migrations", status(t, other), statuses(0)...)
}
