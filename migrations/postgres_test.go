package migrations_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/schema"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/internal/pgtest"
	"github.com/djangosessions/gosessions/migrations"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/djangosessions/gosessions/models"
)

// Django's DDL for the table and its indexes on PostgreSQL (sqlmigrate
// sessions 0001 with the postgresql backend).
var djangoPostgres = []string{
	`CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL)`,
	`CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")`,
	`CREATE INDEX "django_session_session_key_c0390e0f_like" ON "django_session" ("session_key" varchar_pattern_ops)`,
}

// openPostgres opens a new database on the test server and closes it when
// the test ends.
func openPostgres(t *testing.T) *database.DB {
	t.Helper()
	return openPostgresURL(t, pgtest.NewDatabase(t))
}

func openPostgresURL(t *testing.T, url string) *database.DB {
	t.Helper()
	u, err := database.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *database.DB, statements ...string) {
	t.Helper()
	for _, s := range statements {
		if _, err := db.SQL().Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func postgresTableExists(t *testing.T, db *database.DB) bool {
	t.Helper()
	var ok bool
	if err := db.SQL().QueryRow(`SELECT to_regclass('django_session') IS NOT NULL`).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// postgresSchema describes django_session as the catalog has it: its
// columns, then every index with its full definition (constraints
// included, as their indexes).
func postgresSchema(t *testing.T, db *database.DB) []string {
	t.Helper()
	var out []string
	rows, err := db.SQL().Query(`SELECT column_name, data_type, coalesce(character_maximum_length, 0), is_nullable
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'django_session' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ, nullable string
		var length int
		if err := rows.Scan(&name, &typ, &length, &nullable); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("column %s %s(%d) nullable=%s", name, typ, length, nullable))
	}
	rows, err = db.SQL().Query(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'django_session' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			t.Fatal(err)
		}
		out = append(out, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// djangoSchema is the schema Django's own DDL gives, on a database of its
// own.
func djangoSchema(t *testing.T) []string {
	t.Helper()
	db := openPostgres(t)
	exec(t, db, djangoPostgres...)
	return postgresSchema(t, db)
}

// checkPostgresSchema compares the table with the one Django's DDL makes,
// and with models.Session's columns.
func checkPostgresSchema(t *testing.T, db *database.DB, django []string) {
	t.Helper()
	got := postgresSchema(t, db)
	if !reflect.DeepEqual(got, django) {
		t.Errorf("schema:\n  %s\nDjango's:\n  %s", strings.Join(got, "\n  "), strings.Join(django, "\n  "))
	}
	for _, want := range []string{
		"column expire_date timestamp with time zone(0) nullable=NO",
		"CREATE INDEX django_session_session_key_c0390e0f_like ON public.django_session USING btree (session_key varchar_pattern_ops)",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("schema lacks %q", want)
		}
	}

	s, err := schema.Parse(&models.Session{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, f := range s.Fields {
		cols = append(cols, fmt.Sprintf("%s pk=%v notnull=%v", f.DBName, f.PrimaryKey, f.NotNull))
	}
	var table []string
	rows, err := db.SQL().Query(`SELECT a.attname, coalesce(i.indisprimary, false), a.attnotnull
		FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY(i.indkey)
		WHERE a.attrelid = 'django_session'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var pk, notNull bool
		if err := rows.Scan(&name, &pk, &notNull); err != nil {
			t.Fatal(err)
		}
		table = append(table, fmt.Sprintf("%s pk=%v notnull=%v", name, pk, notNull))
	}
	if !reflect.DeepEqual(table, cols) {
		t.Errorf("table columns %q, model columns %q", table, cols)
	}
}

func TestPostgresUpDownUp(t *testing.T) {
	django := djangoSchema(t)
	db := openPostgres(t)

	wantInfos(t, "Status of a new database", status(t, db), statuses(0)...)
	var got []migrations.Info
	if err := pgmigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", got, steps(0, last)...)
	wantInfos(t, "Status after Up", status(t, db), statuses(last)...)
	checkPostgresSchema(t, db, django)

	got = nil
	if err := pgmigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	wantInfos(t, "second Up reported", got)

	if err := pgmigrations.To(db, 0, record(&got)); err != nil {
		t.Fatalf("To(0): %v", err)
	}
	wantInfos(t, "To(0) reported", got, steps(last, 0)...)
	wantInfos(t, "Status after To(0)", status(t, db), statuses(0)...)
	if postgresTableExists(t, db) {
		t.Error("django_session still exists after To(0)")
	}
	var indexes int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'django_session%'`).Scan(&indexes); err != nil || indexes != 0 {
		t.Errorf("%d django_session indexes left after To(0), %v", indexes, err)
	}

	got = nil
	if err := pgmigrations.To(db, 1, record(&got)); err != nil {
		t.Fatalf("To(1): %v", err)
	}
	wantInfos(t, "To(1) reported", got, applied(first, true))
	checkPostgresSchema(t, db, django)

	if err := pgmigrations.To(db, 7, nil); err == nil || !strings.Contains(err.Error(), "no migration has version 7") {
		t.Errorf("To(7) = %v", err)
	}

	// The caller's pool is the caller's: still open, and nothing of it is
	// held (golang-migrate's driver works on a pool of its own, closed).
	if err := db.SQL().Ping(); err != nil {
		t.Errorf("the caller's *database.DB was closed: %v", err)
	}
	if inUse := db.SQL().Stats().InUse; inUse != 0 {
		t.Errorf("%d of the caller's connections still in use", inUse)
	}
	// Only this pool's connections remain on the server.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var others int
		open := db.SQL().Stats().OpenConnections
		if err := db.SQL().QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).Scan(&others); err != nil {
			t.Fatal(err)
		}
		if others <= open {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d connections to the database, the pool has %d: the migrations left theirs open", others, open)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPostgresAdoptDjangoTable runs the migrations on a database where
// Django created the table already: the table and its rows are kept.
func TestPostgresAdoptDjangoTable(t *testing.T) {
	django := djangoSchema(t)
	db := openPostgres(t)
	exec(t, db, djangoPostgres...)
	exec(t, db, `INSERT INTO django_session VALUES ('k2mvlfalnvfy7e8pe66k4ac8xzjwr4jt', 'eyJmb28iOiJiYXIifQ:1xWemM:sig', '2030-01-01 01:00:00+01')`)

	wantInfos(t, "Status of Django's database", status(t, db), statuses(0)...)
	var got []migrations.Info
	if err := pgmigrations.Up(db, record(&got)); err != nil {
		t.Fatalf("Up: %v", err)
	}
	wantInfos(t, "Up reported", got, steps(0, last)...)
	checkPostgresSchema(t, db, django)

	var data string
	var expire time.Time
	err := db.SQL().QueryRow(`SELECT session_data, expire_date FROM django_session WHERE session_key = 'k2mvlfalnvfy7e8pe66k4ac8xzjwr4jt'`).Scan(&data, &expire)
	if err != nil {
		t.Fatalf("Django's row after Up: %v", err)
	}
	if want := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC); data != "eyJmb28iOiJiYXIifQ:1xWemM:sig" || !expire.Equal(want) {
		t.Errorf("Django's row after Up = %q, %v; want the same data, %v", data, expire, want)
	}
}

func TestPostgresDirty(t *testing.T) {
	db := openPostgres(t)
	if err := pgmigrations.To(db, 1, nil); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `DROP TABLE django_session`, `UPDATE `+migrations.VersionTable+` SET version = 1, dirty = true`)

	err := pgmigrations.Up(db, nil)
	if !errors.Is(err, migrations.ErrDirty) {
		t.Fatalf("Up on a dirty database = %v, want ErrDirty", err)
	}
	const fix = "DELETE FROM " + migrations.VersionTable
	if !strings.Contains(err.Error(), fix) {
		t.Errorf("error %q does not give the fix %q", err, fix)
	}
	if _, err := pgmigrations.Status(db); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Status on a dirty database: %v, want ErrDirty", err)
	}
	// No one holds the migration lock: dirty, not a migration in flight.
	if _, err := pgmigrations.Migrations().Pending(t.Context(), db); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Pending on a dirty database: %v, want ErrDirty", err)
	}
	exec(t, db, fix)
	if err := pgmigrations.Up(db, nil); err != nil {
		t.Fatalf("Up after the fix: %v", err)
	}
	if !postgresTableExists(t, db) {
		t.Error("no table after the fix and Up")
	}
}

// TestPostgresFailedMigrationRollsBack: a migration file runs in one
// transaction, so one that fails half-way leaves nothing behind.
func TestPostgresFailedMigrationRollsBack(t *testing.T) {
	db := openPostgres(t)
	// A table of that name without the columns the index needs: the
	// CREATE TABLE IF NOT EXISTS keeps it, and the first CREATE INDEX fails.
	exec(t, db, `CREATE TABLE django_session (session_key varchar(40) PRIMARY KEY)`)
	err := pgmigrations.Up(db, nil)
	if err == nil || !strings.Contains(err.Error(), "expire_date") {
		t.Fatalf("Up = %v, want the failure naming the column", err)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM pg_indexes WHERE indexname = 'django_session_session_key_c0390e0f_like'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d like indexes after the failed migration (%v): not rolled back", n, err)
	}
	if _, err := pgmigrations.Status(db); !errors.Is(err, migrations.ErrDirty) {
		t.Errorf("Status after a failed migration: %v, want ErrDirty", err)
	}
}

// TestPostgresConcurrentUp: two processes starting at once both migrate;
// the advisory lock makes one wait for the other.
func TestPostgresConcurrentUp(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			u, err := database.ParseURL(url)
			if err != nil {
				errs[i] = err
				return
			}
			db, err := postgres.Open(t.Context(), u)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = pgmigrations.Up(db, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Up %d: %v", i, err)
		}
	}
	wantInfos(t, "Status", status(t, openPostgresURL(t, url)), statuses(last)...)
}

// TestEnginesHaveTheSameMigrations: every SQLite migration has its
// PostgreSQL twin, same version and name, and the other way round, among
// the files each engine's package embeds.
func TestEnginesHaveTheSameMigrations(t *testing.T) {
	list := func(e migrations.Engine) []string {
		entries, err := fs.ReadDir(e.Files, ".")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && path.Ext(e.Name()) == ".sql" {
				names = append(names, e.Name())
			}
		}
		return names
	}
	lite, pg := list(sqlitemigrations.Migrations()), list(pgmigrations.Migrations())
	if len(lite) == 0 || !reflect.DeepEqual(lite, pg) {
		t.Errorf("SQLite migrations %q, PostgreSQL migrations %q: want the same files", lite, pg)
	}
}

// Pending counts what Up would apply, from nothing to everything, and
// opens no connection beyond the pool's.
func TestPostgresPending(t *testing.T) {
	db := openPostgres(t)
	all, err := pgmigrations.Status(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint{0, 2, all[len(all)-1].Version} {
		if err := pgmigrations.To(db, v, nil); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, m := range all {
			if m.Version > v {
				want++
			}
		}
		if n, err := pgmigrations.Migrations().Pending(t.Context(), db); n != want || err != nil {
			t.Errorf("Pending at version %d = %d, %v; want %d", v, n, err, want)
		}
	}
	exec(t, db, `DROP TABLE `+migrations.VersionTable)
	if n, err := pgmigrations.Migrations().Pending(t.Context(), db); n != len(all) || err != nil {
		t.Errorf("Pending without the version table = %d, %v; want %d", n, err, len(all))
	}
}
