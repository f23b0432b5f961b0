package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
)

const createUserUsage = `Usage: manage createuser USERNAME [--password-stdin] [--database-url URL]

Creates an active user in Django's auth_user table, like Django's
User.objects.create_user: its password is hashed with Django's default
hasher (PBKDF2, with the iteration count of DJANGO_VERSION), so the user
logs in on the Go site and on a Django site sharing the database.
  --password-stdin   read the password from the first line of standard input;
                     otherwise it is asked for twice, without echo, on a terminal
`

const changePasswordUsage = `Usage: manage changepassword USERNAME [--password-stdin] [--database-url URL]

Sets a new password, like Django's changepassword. Every session of that user,
on the Go site and on a Django site sharing the database, is logged out at its
next request (the session auth hash no longer matches).
  --password-stdin   read the password from the first line of standard input;
                     otherwise it is asked for twice, without echo, on a terminal
`

// console is where a command asks for a password: stdin, and the
// terminal's prompts on stderr as Django writes them.
type console struct {
	stdin  io.Reader
	stderr io.Writer
}

// runCreateUser is `manage createuser`.
func runCreateUser(ctx context.Context, args []string, getenv func(string) string, con console, stdout io.Writer) error {
	a, db, username, password, err := userCommand(ctx, "createuser", args, getenv, con)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := a.CreateUser(ctx, username, password)
	if err != nil {
		return explainUserError(err)
	}
	logAssumedDjango(con.stderr, getenv, a)
	fmt.Fprintf(stdout, "User %q created (id %d).\n", u.Username, u.ID)
	return nil
}

// runChangePassword is `manage changepassword`.
func runChangePassword(ctx context.Context, args []string, getenv func(string) string, con console, stdout io.Writer) error {
	a, db, username, password, err := userCommand(ctx, "changepassword", args, getenv, con)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := a.SetPassword(ctx, username, password); err != nil {
		return explainUserError(err)
	}
	logAssumedDjango(con.stderr, getenv, a)
	fmt.Fprintf(stdout, "Password changed successfully for user %q.\n", auth.NormalizeUsername(username))
	return nil
}

// userCommand parses the command line shared by createuser and
// changepassword, reads the password and opens the database, checking
// that auth_user is migrated.
func userCommand(ctx context.Context, name string, args []string, getenv func(string) string, con console) (a *auth.Auth, db *database.DB, username, password string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input")
	dbURL := fs.String("database-url", "", "database URL")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, "", "", err
	}
	if len(pos) != 1 {
		return nil, nil, "", "", usagef("want exactly one USERNAME, got %d arguments", len(pos))
	}
	username = pos[0]
	if name == "createuser" {
		if err := auth.ValidateUsername(auth.NormalizeUsername(username)); err != nil {
			return nil, nil, "", "", usageError{errors.New(strings.TrimPrefix(err.Error(), "auth: "))}
		}
	}
	var cfgArgs []string
	if *dbURL != "" {
		cfgArgs = []string{"-database-url=" + *dbURL}
	}
	cfg, err := app.LoadConfig(cfgArgs, getenv)
	if err != nil {
		return nil, nil, "", "", err
	}
	if *fromStdin {
		password, err = readLine(con.stdin)
	} else {
		password, err = prompt(con, username)
	}
	if err != nil {
		return nil, nil, "", "", err
	}
	if password == "" {
		return nil, nil, "", "", errors.New("the password is empty: refused")
	}

	db, err = either.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, "", "", err
	}
	if err := requireMigrated(db); err != nil {
		db.Close()
		return nil, nil, "", "", err
	}
	// A command has no one to answer quickly: its hash waits for a slot
	// rather than fail.
	a, err = auth.New(auth.Config{DB: db.Gorm, Iterations: cfg.PasswordIterations, HashingWait: -1})
	if err != nil {
		db.Close()
		return nil, nil, "", "", err
	}
	return a, db, username, password, nil
}

// logAssumedDjango says, in one INFO line on w once the password is
// hashed, which Django release the hash was made for (DJANGO_VERSION,
// default the newest LTS): Django rehashes a password made for another
// release at the next login. A failed command prints its error alone.
func logAssumedDjango(w io.Writer, getenv func(string) string, a *auth.Auth) {
	release := strings.TrimSpace(getenv("DJANGO_VERSION"))
	if release == "" {
		release = auth.DefaultDjangoVersion + " (the default)"
	}
	slog.New(slog.NewTextHandler(w, nil)).Info("hashed for the Django release sharing the database",
		"DJANGO_VERSION", release, "pbkdf2_iterations", a.Config().Iterations)
}

// explainUserError turns the auth package's errors into one line for the
// operator.
func explainUserError(err error) error {
	switch {
	case errors.Is(err, auth.ErrUserExists), errors.Is(err, auth.ErrNoUser), errors.Is(err, auth.ErrInvalidUsername):
		return errors.New(strings.TrimPrefix(err.Error(), "auth: "))
	}
	return err
}

// readLine reads the password from the first line of r (without its line
// ending), as docker login --password-stdin does.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// prompt asks for the password twice on the terminal, without echo, as
// Django's createsuperuser and changepassword do. Standard input that is
// not a terminal is a usage error: scripts give --password-stdin.
func prompt(con console, username string) (string, error) {
	f, ok := con.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("standard input is not a terminal: give --password-stdin to read the password from it")
	}
	ask := func(label string) (string, error) {
		fmt.Fprint(con.stderr, label)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(con.stderr)
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	fmt.Fprintf(con.stderr, "Password for user %q\n", username)
	first, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	if first == "" {
		return "", errors.New("the password is empty: refused")
	}
	second, err := ask("Password (again): ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the passwords didn't match: nothing changed")
	}
	return first, nil
}
