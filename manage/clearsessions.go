package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/migrations"
)

// clearSessionsUsage is the help of `manage clearsessions`.
func clearSessionsUsage() string {
	return fmt.Sprintf(`Usage: manage clearsessions [--batch-size N] [--database-url URL]

Deletes expired sessions, like Django's clearsessions, and prints how many.
  --batch-size N   rows deleted per transaction (default %d), so that the
                   site's own writes are never blocked for long
`, dbstore.DefaultBatchSize)
}

// runClearSessions is `manage clearsessions`. With terminal set it shows
// a live count while it deletes.
func runClearSessions(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, terminal bool) error {
	fs := flag.NewFlagSet("clearsessions", flag.ContinueOnError)
	batch := fs.Int("batch-size", dbstore.DefaultBatchSize, "rows per transaction")
	dbURL := fs.String("database-url", "", "database URL")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *batch < 1 {
		return usagef("invalid --batch-size %d: want 1 or more", *batch)
	}

	db, err := openDB(ctx, *dbURL, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := migrations.Status(db)
	if err != nil {
		return err
	}
	var pending []string
	for _, m := range all {
		if !m.Applied {
			pending = append(pending, migrationName(m))
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database is not migrated (pending: %s): run `manage migrate` first", strings.Join(pending, ", "))
	}

	var progress func(int64)
	shown := false
	if terminal {
		progress = func(deleted int64) {
			shown = true
			fmt.Fprintf(stdout, "\rDeleting expired sessions... %d", deleted)
		}
	}
	store, err := dbstore.New(db)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.DeleteExpired(ctx, *batch, progress)
	if shown {
		fmt.Fprint(stdout, "\r\x1b[K") // clear the progress line
	}
	if err != nil {
		return fmt.Errorf("deleted %d expired %s, then failed: %w", n, sessions(n), err)
	}
	fmt.Fprintf(stdout, "Deleted %d expired %s.\n", n, sessions(n))
	return nil
}

// sessions is "session" or "sessions" to go with n.
func sessions(n int64) string {
	if n == 1 {
		return "session"
	}
	return "sessions"
}
