package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/models"
)

// manageIn runs the command in-process with DATABASE_URL set to dbURL,
// DJANGO_VERSION 3.2 and stdin as its standard input.
func manageIn(t *testing.T, dbURL string, stdin io.Reader, args ...string) result {
	t.Helper()
	getenv := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return dbURL
		case "DJANGO_VERSION":
			return "3.2"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := runWithInput(t.Context(), args, getenv, stdin, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// assumedDjangoOnly reports whether stderr is the one INFO line of a user
// command naming the Django release it hashes for, and nothing else.
func assumedDjangoOnly(stderr, release string, iterations int) bool {
	line, rest, _ := strings.Cut(stderr, "\n")
	return rest == "" && strings.Contains(line, "level=INFO") &&
		strings.Contains(line, "DJANGO_VERSION="+release+" pbkdf2_iterations="+strconv.Itoa(iterations))
}

// TestUserCommandsLogDefaultDjango: without DJANGO_VERSION, createuser
// says it hashes for Django 5.2, the newest LTS, and does.
func TestUserCommandsLogDefaultDjango(t *testing.T) {
	db := tempDB(t)
	if r := manage(t, db, "migrate"); r.code != 0 {
		t.Fatal(r)
	}
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	if code := runWithInput(t.Context(), []string{"createuser", "dora", "--password-stdin"}, getenv, strings.NewReader("pw\n"), &out, &errOut); code != 0 {
		t.Fatalf("createuser: %d %s %s", code, out.String(), errOut.String())
	}
	if !assumedDjangoOnly(errOut.String(), `"5.2 (the default)"`, 1_000_000) {
		t.Errorf("stderr %q, want the INFO line naming DJANGO_VERSION 5.2", errOut.String())
	}
	_, conn := userAuth(t, db)
	var u models.User
	if err := conn.Gorm.Where("username = ?", "dora").Take(&u).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Password, "pbkdf2_sha256$1000000$") {
		t.Errorf("password %q: want Django 5.2's 1,000,000 iterations", u.Password)
	}
}

// userAuth opens dbURL and returns an Auth on it.
func userAuth(t *testing.T, dbURL string) (*auth.Auth, *database.DB) {
	t.Helper()
	db, err := either.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := auth.New(auth.Config{DB: db.Gorm})
	if err != nil {
		t.Fatal(err)
	}
	return a, db
}

func TestCreateUserAndChangePassword(t *testing.T) {
	db := tempDB(t)
	wantFailure(t, manageIn(t, db, strings.NewReader("pw\n"), "createuser", "alice", "--password-stdin"), "not migrated", "manage migrate")
	if r := manage(t, db, "migrate"); r.code != 0 {
		t.Fatal(r)
	}

	r := manageIn(t, db, strings.NewReader("s3cret pass\n"), "createuser", "alice", "--password-stdin")
	if r.code != 0 || r.stdout != "User \"alice\" created (id 1).\n" || !assumedDjangoOnly(r.stderr, "3.2", 260_000) {
		t.Fatalf("createuser = %+v, want on stderr only the INFO line naming DJANGO_VERSION 3.2", r)
	}
	a, conn := userAuth(t, db)
	if u, err := a.Authenticate(t.Context(), "alice", "s3cret pass"); u == nil || err != nil {
		t.Errorf("alice cannot log in with her password: %v, %v", u, err)
	}
	var u models.User
	if err := conn.Gorm.Where("username = ?", "alice").Take(&u).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Password, "pbkdf2_sha256$260000$") {
		t.Errorf("password %q: want Django 3.2's pbkdf2_sha256$260000$ (DJANGO_VERSION=3.2)", u.Password)
	}

	wantFailure(t, manageIn(t, db, strings.NewReader("x\n"), "createuser", "alice", "--password-stdin"), "already exists", `"alice"`)
	wantFailure(t, manageIn(t, db, strings.NewReader("\n"), "createuser", "bob", "--password-stdin"), "password is empty")
	wantFailure(t, manageIn(t, db, strings.NewReader(""), "createuser", "bob", "--password-stdin"), "password is empty")

	r = manageIn(t, db, strings.NewReader("n3w\r\n"), "changepassword", "alice", "--password-stdin")
	if r.code != 0 || r.stdout != "Password changed successfully for user \"alice\".\n" || !assumedDjangoOnly(r.stderr, "3.2", 260_000) {
		t.Fatalf("changepassword = %+v", r)
	}
	if u, _ := a.Authenticate(t.Context(), "alice", "s3cret pass"); u != nil {
		t.Error("the old password still works")
	}
	if u, err := a.Authenticate(t.Context(), "alice", "n3w"); u == nil || err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	wantFailure(t, manageIn(t, db, strings.NewReader("x\n"), "changepassword", "nobody", "--password-stdin"), "no user", `"nobody"`)
}

func TestUserCommandUsage(t *testing.T) {
	db := tempDB(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"createuser"}, "exactly one USERNAME"},
		{[]string{"createuser", "a", "b", "--password-stdin"}, "exactly one USERNAME"},
		{[]string{"createuser", "has space", "--password-stdin"}, "invalid username"},
		{[]string{"createuser", "alice", "--bogus"}, "bogus"},
		{[]string{"changepassword"}, "exactly one USERNAME"},
		// Not a terminal, no --password-stdin: a script forgot the flag.
		{[]string{"createuser", "alice"}, "--password-stdin"},
		{[]string{"changepassword", "alice"}, "--password-stdin"},
	} {
		wantUsage(t, manageIn(t, db, strings.NewReader("pw\n"), tt.args...), tt.want)
	}
	if r := manageIn(t, db, nil, "createuser", "-h"); r.code != 0 || !strings.Contains(r.stdout, "Usage: manage createuser") {
		t.Errorf("createuser -h = %+v", r)
	}
}

// openPTY returns the two ends of a new pseudo-terminal: what the command
// reads as its terminal, and what the test types into.
func openPTY(t *testing.T) (tty, typist *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return slave, master
}

// TestPasswordPrompt: on a terminal the password is asked twice (read by
// x/term's ReadPassword, which turns echo off); an empty or mismatched
// entry changes nothing.
func TestPasswordPrompt(t *testing.T) {
	db := tempDB(t)
	if r := manage(t, db, "migrate"); r.code != 0 {
		t.Fatal(r)
	}
	for _, tt := range []struct {
		name, typed string
		code        int
		want        string
	}{
		{"mismatch", "one\ntwo\n", 1, "didn't match"},
		{"empty", "\n", 1, "password is empty"},
		{"match", "same pw\nsame pw\n", 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tty, typist := openPTY(t)
			if _, err := typist.WriteString(tt.typed); err != nil {
				t.Fatal(err)
			}
			r := manageIn(t, db, tty, "createuser", "carol")
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("createuser on a terminal = %+v, want status %d and %q", r, tt.code, tt.want)
			}
			if !strings.Contains(r.stderr, "Password: ") {
				t.Errorf("no prompt on stderr: %q", r.stderr)
			}
		})
	}
	a, _ := userAuth(t, db)
	if u, err := a.Authenticate(t.Context(), "carol", "same pw"); u == nil || err != nil {
		t.Errorf("carol cannot log in with the password typed twice: %v", err)
	}
}
