package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/migrations"
)

const migrateUsage = `Usage: manage migrate [--list] [--database-url URL] [target]

Applies every pending migration, printing each one, like Django's migrate.
  --list   print every migration, [X] applied or [ ] pending, and change nothing
  target   a migration number (1, 0001 or 0001_create_django_session), or zero:
           apply or revert migrations until the database is at that version
`

// runMigrate is `manage migrate`.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	list := fs.Bool("list", false, "list migrations")
	dbURL := fs.String("database-url", "", "database URL")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("too many arguments: %q (give at most one target)", pos)
	}
	var (
		target     uint
		targetName string
		hasTarget  = len(pos) == 1
	)
	if hasTarget {
		if *list {
			return usagef("--list takes no target")
		}
		if target, targetName, err = parseTarget(pos[0]); err != nil {
			return err
		}
	}

	db, err := openDB(ctx, *dbURL, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if *list {
		return listMigrations(db, stdout)
	}
	if targetName != "" {
		// A full name must be one this program knows.
		all, _ := migrationStatus(db) // the list comes even with an error
		if !slices.ContainsFunc(all, func(m migrations.Info) bool { return m.Version == target && m.Name == targetName }) {
			return fmt.Errorf("no migration is named %q; see manage migrate --list", pos[0])
		}
	}

	// The header comes with the first step, so that a refused target
	// prints nothing but its error.
	n := 0
	report := func(m migrations.Info) {
		if n == 0 {
			fmt.Fprintln(stdout, "Running migrations:")
		}
		n++
		verb := "Applying"
		if !m.Applied {
			verb = "Unapplying"
		}
		fmt.Fprintf(stdout, "  %s %s... OK\n", verb, migrationName(m))
	}
	e, err := either.Migrations(db)
	switch {
	case err != nil:
	case hasTarget:
		err = e.To(db, target, report)
	default:
		err = e.Up(db, report)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "Running migrations:\n  No migrations to apply.")
	}
	return nil
}

// listMigrations prints what Django's showmigrations prints.
func listMigrations(db *database.DB, stdout io.Writer) error {
	all, err := migrationStatus(db)
	for _, m := range all {
		mark := " "
		if m.Applied {
			mark = "X"
		}
		fmt.Fprintf(stdout, "[%s] %s\n", mark, migrationName(m))
	}
	return err
}

// parseTarget reads a migration target: "zero", a number, or a full
// migration name (its part after the number is returned as name, to be
// checked against the known ones).
func parseTarget(s string) (version uint, name string, err error) {
	if s == "zero" {
		return 0, "", nil
	}
	num, name, _ := strings.Cut(s, "_")
	v, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, "", usagef("invalid target %q: want a migration number such as 1, or zero", s)
	}
	return uint(v), name, nil
}

// migrationStatus is Django's showmigrations for db's engine: every
// migration, with whether it is applied.
func migrationStatus(db *database.DB) ([]migrations.Info, error) {
	e, err := either.Migrations(db)
	if err != nil {
		return nil, err
	}
	return e.Status(db)
}

// migrationName is a migration's name as Django would print it:
// 0001_create_django_session.
func migrationName(m migrations.Info) string {
	return fmt.Sprintf("%04d_%s", m.Version, m.Name)
}
