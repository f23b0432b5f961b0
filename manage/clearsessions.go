package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/usersessions"
)

// clearSessionsUsage is the help of `manage clearsessions`.
func clearSessionsUsage() string {
	return fmt.Sprintf(`Usage: manage clearsessions [--batch-size N] [--verbose] [--database-url URL]

Deletes expired sessions, like Django's clearsessions, and prints how many.
It deletes in short transactions, each holding the database's write lock
for about %v, with pauses between them, so that the site's own writes
are never blocked for long.
  --batch-size N   rows per transaction instead (fixed)
  --verbose        also print the batches and the longest write-lock hold
`, dbstore.DefaultHoldTarget)
}

// runClearSessions is `manage clearsessions`. With terminal set it shows
// a live count while it deletes.
func runClearSessions(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, terminal bool) error {
	fs := flag.NewFlagSet("clearsessions", flag.ContinueOnError)
	batch := fs.Int("batch-size", 0, "rows per transaction (default: sized by time)")
	verbose := fs.Bool("verbose", false, "print the batches and the longest write-lock hold")
	dbURL := fs.String("database-url", "", "database URL")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	batchSet := false
	fs.Visit(func(f *flag.Flag) { batchSet = batchSet || f.Name == "batch-size" })
	if *batch < 0 || batchSet && *batch < 1 {
		return usagef("invalid --batch-size %d: want 1 or more", *batch)
	}

	db, err := openDB(ctx, *dbURL, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := requireMigrated(db); err != nil {
		return err
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
	r, err := store.ClearExpired(ctx, dbstore.ClearOptions{BatchSize: *batch, Progress: progress})
	n := r.Deleted
	if shown {
		fmt.Fprint(stdout, "\r\x1b[K") // clear the progress line
	}
	if err != nil {
		return fmt.Errorf("deleted %d expired %s, then failed: %w", n, sessions(n), err)
	}
	if *verbose {
		fmt.Fprintf(stdout, "%d batches held the write lock for %v in all, the longest for %v.\n",
			r.Batches, r.Held.Round(time.Millisecond), r.LongestHold.Round(100*time.Microsecond))
	}
	fmt.Fprintf(stdout, "Deleted %d expired %s.\n", n, sessions(n))
	// The per-user index forgets the sessions that are gone or expired
	// (its entries written within its grace period stay: their session
	// may be about to be stored).
	index, err := usersessions.NewSQL(ctx, db)
	if err != nil {
		return err
	}
	now := time.Now()
	swept, err := index.Sweep(ctx, now.Add(-usersessions.DefaultGrace), now, nil)
	if err != nil {
		return err
	}
	if swept > 0 {
		fmt.Fprintf(stdout, "Removed %d ended %s from the per-user index.\n", swept, sessions(swept))
	}
	return nil
}

// sessions is "session" or "sessions" to go with n.
func sessions(n int64) string {
	if n == 1 {
		return "session"
	}
	return "sessions"
}
