// Package either opens a database of either engine, SQLite or PostgreSQL,
// whichever its URL names, and finds its migrations: it is what the site
// and manage use, whose DATABASE_URL may be either, and so it links both
// drivers, cgo's SQLite included. An application that uses one engine
// imports that engine's packages instead: database/postgres and
// migrations/postgres build without cgo, database/sqlite and
// migrations/sqlite need it.
package either

import (
	"context"
	"fmt"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/migrations"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

// Open opens the database u names, with package sqlite or package
// postgres.
func Open(ctx context.Context, u database.URL, opts ...database.Option) (*database.DB, error) {
	switch u.Engine {
	case database.SQLite:
		return sqlite.Open(ctx, u, opts...)
	case database.PostgreSQL:
		return postgres.Open(ctx, u, opts...)
	}
	return nil, fmt.Errorf("either: no database engine for %s", u)
}

// OpenURL parses raw with database.ParseURL and opens it with Open.
func OpenURL(ctx context.Context, raw string, opts ...database.Option) (*database.DB, error) {
	u, err := database.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return Open(ctx, u, opts...)
}

// Migrations returns the migrations of db's engine.
func Migrations(db *database.DB) (migrations.Engine, error) {
	switch db.Engine {
	case database.SQLite:
		return sqlitemigrations.Migrations(), nil
	case database.PostgreSQL:
		return pgmigrations.Migrations(), nil
	}
	return migrations.Engine{}, fmt.Errorf("either: no migrations for the database engine %v", db.Engine)
}
