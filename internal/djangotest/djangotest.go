// Package djangotest runs the real Django for the interoperability tests:
// a tiny Django project, djangosite, embedded here and written to a
// temporary directory, served on a free loopback port or driven with
// manage.py, on the test's SQLite file or PostgreSQL database and with the
// test's SECRET_KEY.
//
// # The Django matrix
//
// Each test runs against one release of the matrix ([Versions]): Django
// 3.2 (Debian bookworm's python3-django, in the system's Python), 4.2 and
// 5.2 (Debian trixie's and sid's packages, which make django unpacks into
// the repository's .cache/django without touching the system's Python).
// A [Django] names one: its Series ("5.2"), exact Version ("5.2.18"), and
// the PYTHONPATH that makes it importable by [Python]; [Options].Django
// chooses the release of a [Project] (default: [Newest], 5.2), and
// [Django.Command] runs `python3 -c ...` with it for tests that need no
// project.
//
// A missing release skips its test, or fails it when the environment
// variable CI is set, so that a CI run can never pass without the whole
// matrix. The exact version is logged (t.Log) by every test that uses it.
package djangotest

import (
	"bufio"
	"bytes"
	"embed"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Python is the interpreter of every release of the matrix: Debian's
// system Python 3.11, for which python3-django (3.2) is installed and on
// which the pure-Python packages of 4.2 and 5.2 run.
const Python = "/usr/bin/python3"

// SecretKey is the SECRET_KEY both sites of a test share unless the test
// chooses another.
const SecretKey = "django-insecure-interop-test-key-!@#$%^&*(-_=+)"

//go:embed djangosite
var site embed.FS

// Project is the Django project of one test, on one database.
type Project struct {
	django Django   // the release it runs
	dir    string   // the project, written out
	env    []string // the environment of every Django process
}

// Options says which Django release, database and keys a project uses.
type Options struct {
	// Django is the release (from Versions); default Newest (whose
	// version New then logs). A missing release skips the test (fails it
	// under CI).
	Django Django
	// SQLite is the path of the SQLite file; or
	SQLite string
	// Postgres is the URL of a PostgreSQL database
	// (postgres://user[:password]@host:port/name); see
	// Django.RequirePostgres for the driver each release needs.
	Postgres string
	// SecretKey is Django's SECRET_KEY; default SecretKey.
	SecretKey string
	// SecretKeyFallbacks is Django's SECRET_KEY_FALLBACKS (Django 4.1 and
	// later read it).
	SecretKeyFallbacks []string
	// Env adds NAME=value pairs to Django's environment
	// (DJANGO_SESSION_ENGINE, say).
	Env []string
}

// New writes the project to a temporary directory, for the release and
// the database of opts.
func New(t testing.TB, opts Options) *Project {
	t.Helper()
	d := opts.Django
	if d.Series == "" {
		d = Newest(t)
	} else {
		d.need(t)
	}
	dir := t.TempDir()
	err := fs.WalkDir(site, "djangosite", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := site.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatalf("write the Django project: %v", err)
	}
	key := opts.SecretKey
	if key == "" {
		key = SecretKey
	}
	env := append(d.Env(),
		"DJANGO_SECRET_KEY="+key,
		"DJANGO_SECRET_KEY_FALLBACKS="+strings.Join(opts.SecretKeyFallbacks, ","),
	)
	switch {
	case opts.Postgres != "":
		env = append(env, "DJANGO_PG="+opts.Postgres)
	case opts.SQLite != "":
		env = append(env, "DJANGO_DB="+opts.SQLite)
	default:
		t.Fatal("djangotest: Options needs SQLite or Postgres")
	}
	env = append(env, opts.Env...)
	return &Project{django: d, dir: filepath.Join(dir, "djangosite"), env: env}
}

// Django returns the release the project runs.
func (p *Project) Django() Django { return p.django }

// Manage runs manage.py with args and returns its output; it fails the
// test when the command fails, unless wantErr (and when it succeeds if
// wantErr).
func (p *Project) Manage(t testing.TB, wantErr bool, args ...string) string {
	t.Helper()
	return p.run(t, wantErr, nil, append([]string{"manage.py"}, args...)...)
}

// Shell runs Python code in the project with Django set up (its models
// and settings usable, as in manage.py shell) and returns what it prints;
// stdin is its standard input. It fails the test when the code fails.
func (p *Project) Shell(t testing.TB, code string, stdin string) string {
	t.Helper()
	prelude := "import django\ndjango.setup()\n"
	return p.run(t, false, strings.NewReader(stdin), "-c", "import os, sys\nsys.path.insert(0, os.getcwd())\nif os.environ.get('DJANGO_SITE_DIR'): sys.path.insert(0, os.environ['DJANGO_SITE_DIR'])\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'djangosite.settings')\n"+prelude+code)
}

func (p *Project) run(t testing.TB, wantErr bool, stdin io.Reader, args ...string) string {
	t.Helper()
	cmd := exec.Command(Python, args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err != nil) != wantErr {
		t.Fatalf("python3 %s: err = %v, want error %v\n%s%s", strings.Join(args, " "), err, wantErr, stdout.String(), stderr.String())
	}
	if wantErr {
		return stdout.String() + stderr.String()
	}
	return stdout.String()
}

// LockedBuffer collects a subprocess's or a logger's output safely.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start serves the project on a free loopback port until the test ends
// and returns its base URL and its stderr (Django's log).
func (p *Project) Start(t testing.TB) (string, *LockedBuffer) {
	t.Helper()
	cmd := exec.Command(Python, "serve.py")
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.SysProcAttr = procAttr()
	stderr := &LockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("Django did not start within 20 s; stderr:\n%s", stderr)
	}
	// Readiness: the first request answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/get")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stderr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Django at %s not ready: %v; stderr:\n%s", base, err, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
