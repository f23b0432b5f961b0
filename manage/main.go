// Command manage is the project's manage.py: administrative commands that
// share the site's configuration (DATABASE_URL and the other settings of
// app.LoadConfig, from the environment).
//
//	go run ./manage migrate                  apply pending migrations
//	go run ./manage migrate --list           show applied and pending ones
//	go run ./manage migrate 0                revert every migration (or migrate to a version)
//	go run ./manage clearsessions            delete expired sessions
//	go run ./manage createuser NAME          create a Django user (password asked twice)
//	go run ./manage changepassword NAME      set a user's password
//	go run ./manage sessions list            list, show, delete, revoke live sessions; stats
//
// Usage errors exit with status 2, failures with status 1, each with one
// line on stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/mattn/go-isatty"
)

const usage = `Usage: manage <command> [options]

Commands:
  migrate [--list] [target]       apply pending migrations; --list shows applied [X] and pending [ ];
                                  target (a migration number, or zero) migrates up or down to it
  clearsessions [--batch-size N]  delete expired sessions, N rows per transaction
  createuser USERNAME [--password-stdin]
                                  create a user in Django's auth_user (password asked twice
                                  without echo, or read from standard input)
  changepassword USERNAME [--password-stdin]
                                  set a user's password; their sessions on both sites end
  sessions list|show|delete|revoke|stats
                                  operate live sessions (manage sessions -h)
  help                            show this text

Every command takes --database-url URL, which overrides DATABASE_URL (default sqlite:db.sqlite3).
`

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line is wrong (as flag.Parse's ExitOnError)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command in args and returns the exit status. Output
// goes to stdout; errors, one line each, to stderr. Passwords are read
// from the process's standard input.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWithInput(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runWithInput is run with stdin as the standard input.
func runWithInput(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "manage: no command given")
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "migrate":
		return finish(runMigrate(ctx, args, getenv, stdout), "migrate", migrateUsage, stdout, stderr)
	case "clearsessions":
		return finish(runClearSessions(ctx, args, getenv, stdout, isTerminal(stdout)), "clearsessions", clearSessionsUsage(), stdout, stderr)
	case "createuser":
		return finish(runCreateUser(ctx, args, getenv, console{stdin, stderr}, stdout), "createuser", createUserUsage, stdout, stderr)
	case "changepassword":
		return finish(runChangePassword(ctx, args, getenv, console{stdin, stderr}, stdout), "changepassword", changePasswordUsage, stdout, stderr)
	case "sessions":
		sub, err := runSessions(ctx, args, getenv, stdout, stderr)
		return finish(err, sub, sessionsUsage, stdout, stderr)
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "manage: give the command first, then its options (got %q)\n", name)
	} else {
		fmt.Fprintf(stderr, "manage: unknown command %q\n", name)
	}
	fmt.Fprint(stderr, usage)
	return exitUsage
}

// usageError is a mistake on the command line: exit status 2 and the
// command's usage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// finish reports a command's outcome and returns the exit status.
func finish(err error, name, cmdUsage string, stdout, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, cmdUsage)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "manage %s: %s\n", name, oneLine(err.Error()))
		fmt.Fprint(stderr, cmdUsage)
		return exitUsage
	}
	fmt.Fprintf(stderr, "manage %s: %s\n", name, oneLine(err.Error()))
	return exitFailure
}

// oneLine keeps an error message on one line, whatever a driver put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// parseArgs parses fs's flags wherever they appear among the positional
// arguments ("migrate 1 --list" as well as "migrate --list 1") and returns
// the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openDB loads the site's configuration, with databaseURL (when not empty)
// overriding DATABASE_URL, and opens the database.
func openDB(ctx context.Context, databaseURL string, getenv func(string) string) (*database.DB, error) {
	var args []string
	if databaseURL != "" {
		args = []string{"-database-url=" + databaseURL}
	}
	cfg, err := app.LoadConfig(args, getenv)
	if err != nil {
		return nil, err
	}
	return either.Open(ctx, cfg.Database)
}

// isTerminal reports whether w is a terminal, where live progress is
// welcome; in a pipe or a file it would be noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// requireMigrated refuses a database whose migrations are not all
// applied: the tables a command needs (django_session, auth_user) may be
// missing or not yet in their final shape.
func requireMigrated(db *database.DB) error {
	all, err := migrationStatus(db)
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
	return nil
}
