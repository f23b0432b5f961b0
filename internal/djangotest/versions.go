package djangotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The Django matrix: the releases every interop test can run against.
// Series3 is Debian bookworm's python3-django, installed in the system's
// Python by make deps; the others are Debian's newer packages that make
// django unpacks into the repository's .cache/django/SERIES
// (internal/djangotest/fetch.sh), put first on PYTHONPATH. All of them run
// on the same interpreter, Python.
const (
	// Series32 is Django 3.2 LTS, the system's (Debian bookworm).
	Series32 = "3.2"
	// Series42 is Django 4.2 LTS (Debian trixie).
	Series42 = "4.2"
	// Series52 is Django 5.2 LTS (Debian sid), the newest LTS.
	Series52 = "5.2"
)

// series lists the matrix, oldest first; the last is Newest's.
var series = []string{Series32, Series42, Series52}

// cacheDir is where make django unpacks the newer releases, relative to
// the module root.
const cacheDir = ".cache/django"

// Django is one release of the matrix on this machine.
//
// Use it with [Each], which runs a test once per release:
//
//	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
//		p := djangotest.New(t, djangotest.Options{Django: d, SQLite: path})
//		...
//	})
//
// or with [Versions] and a subtest of one's own that calls
// [Django.Require] first: it skips or fails the test when the release is
// missing, and logs the exact version. [New] checks it too (quietly);
// code that runs Python itself calls [Django.Command].
type Django struct {
	// Series is the release the matrix pins, "major.minor" ("5.2").
	Series string
	// Version is the exact version, django.get_version() ("5.2.18");
	// empty when the release is missing here.
	Version string
	// PythonPath is the folder that goes first on PYTHONPATH for this
	// release (.cache/django/5.2/usr/lib/python3/dist-packages), or ""
	// for the system's Django.
	PythonPath string
	// Source says where it comes from, for logs ("Debian sid, unpacked
	// in /repo/.cache/django/5.2").
	Source string
	// missing says why the release cannot run here ("" when it can).
	missing string
}

// Available reports whether this release can run here.
func (d Django) Available() bool { return d.Series != "" && d.missing == "" }

// String is "Django 5.2.18" (or "Django 5.2 (missing)").
func (d Django) String() string {
	if !d.Available() {
		return "Django " + d.Series + " (missing)"
	}
	return "Django " + d.Version
}

// Require skips the test when this release is missing, or fails it when
// the environment variable CI is set (CI runs make django first, so a CI
// run never passes without the whole matrix); otherwise it logs the exact
// version the test runs against.
func (d Django) Require(t testing.TB) {
	t.Helper()
	d.need(t)
	t.Logf("Django %s (%s)", d.Version, d.Source)
}

// need is Require without the log line.
func (d Django) need(t testing.TB) {
	t.Helper()
	if d.Series == "" {
		t.Fatal("djangotest: a zero Django: take one from Versions or Newest")
	}
	switch {
	case d.missing == "":
	case os.Getenv("CI") != "":
		t.Fatal(d.missing)
	default:
		t.Skip(d.missing)
	}
}

// Env returns the environment of a Python process running this release:
// the test's own, with PYTHONPATH naming this release's folder (and no
// other), the user's site-packages left out, and no .pyc files written.
func (d Django) Env() []string {
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONPATH=") && !strings.HasPrefix(kv, "PYTHONNOUSERSITE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1")
	if d.PythonPath != "" {
		env = append(env, "PYTHONPATH="+d.PythonPath)
	}
	return env
}

// Command returns Python with this release importable, running args
// (for example "-c", "import django; print(django.get_version())"). No
// Django settings are configured: code that needs them configures them
// (django.conf.settings.configure) or runs in a [Project] instead.
func (d Django) Command(args ...string) *exec.Cmd {
	cmd := exec.Command(Python, args...)
	cmd.Env = d.Env()
	return cmd
}

// RunJSON runs Python with this release on args (a script and its
// arguments) and decodes what it prints, one JSON value, into out; in,
// unless nil, goes to its standard input as JSON. It fails the test when
// the command fails (showing its standard error) or its output does not
// decode.
func (d Django) RunJSON(t testing.TB, in, out any, args ...string) {
	t.Helper()
	cmd := d.Command(args...)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = bytes.NewReader(b)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("python3 %s: output %q: %v", strings.Join(args, " "), stdout, err)
	}
}

// RequirePostgres skips the test (fails it under CI) unless this
// release's PostgreSQL backend loads a database driver it accepts, and
// returns that driver ("psycopg 3.3.5", "psycopg2 2.9.5 ..."). Django 5.2
// needs psycopg >= 3.1.8 or psycopg2 >= 2.9.9: its folder carries psycopg
// 3 from the same Debian suite; 3.2 and 4.2 use the system's psycopg2.
func (d Django) RequirePostgres(t testing.TB) string {
	t.Helper()
	d.need(t)
	out, err := d.Command("-c", `import django
from django.conf import settings
settings.configure()
django.setup()
from django.db.backends.postgresql import base
if getattr(base, "is_psycopg3", False):
    print("psycopg", base.Database.__version__)
else:
    print("psycopg2", base.Database.__version__)
`).CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("Django %s cannot use PostgreSQL here (make deps installs python3-psycopg2; make django brings psycopg 3 for 5.2): %s", d.Version, strings.TrimSpace(string(out)))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	driver := strings.TrimSpace(string(out))
	t.Logf("Django %s on PostgreSQL with %s", d.Version, driver)
	return driver
}

// Versions returns the matrix, oldest first: every release, available or
// not (a missing one skips or fails the test that requires it, see
// [Django.Require]). Tests run each in a subtest named "django"+Series.
func Versions(t testing.TB) []Django {
	t.Helper()
	return matrix()
}

// Each runs test once per release of the matrix, oldest first, each in a
// subtest named "django"+Series ("django5.2") that starts with
// [Django.Require]: a missing release skips (or, under CI, fails) its own
// subtest only.
func Each(t *testing.T, test func(t *testing.T, d Django)) {
	t.Helper()
	for _, d := range Versions(t) {
		t.Run("django"+d.Series, func(t *testing.T) {
			d.Require(t)
			test(t, d)
		})
	}
}

// Newest returns the newest release of the matrix (Django 5.2), required:
// for the tests that run on one release only.
func Newest(t testing.TB) Django {
	t.Helper()
	m := matrix()
	d := m[len(m)-1]
	d.Require(t)
	return d
}

// Require requires the newest release (see [Newest]) and returns its
// exact version: the Django of a [Project] whose Options name none.
func Require(t testing.TB) string {
	t.Helper()
	return Newest(t).Version
}

// matrix finds each release once per test binary: which are here, and
// their exact versions (one Python process each). What it finds does not
// change while the tests run.
var matrix = sync.OnceValue(func() []Django {
	root, rootErr := moduleRoot()
	var ds []Django
	for _, s := range series {
		d := Django{Series: s}
		if s == Series32 {
			d.Source = "Debian bookworm's python3-django, the system's " + Python
		} else if rootErr != nil {
			d.missing = fmt.Sprintf("Django %s: %v", s, rootErr)
			ds = append(ds, d)
			continue
		} else {
			dir := filepath.Join(root, cacheDir, s)
			d.PythonPath = filepath.Join(dir, "usr", "lib", "python3", "dist-packages")
			d.Source = "unpacked in " + dir
			if stamp, err := os.ReadFile(filepath.Join(dir, "stamp")); err == nil {
				for _, line := range strings.Split(string(stamp), "\n") {
					if suite, ok := strings.CutPrefix(line, "suite "); ok {
						d.Source = "Debian " + suite + "'s python3-django, " + d.Source
					}
				}
			} else {
				d.missing = fmt.Sprintf("Django %s is not fetched (run make django, which unpacks Debian's packages into %s): %v", s, dir, err)
				ds = append(ds, d)
				continue
			}
		}
		out, err := d.Command("-c", "import django; print(django.get_version())").CombinedOutput()
		v := strings.TrimSpace(string(out))
		switch {
		case err != nil && s == Series32:
			d.missing = "Django 3.2 is not installed (make deps installs Debian's python3-django): " + v
		case err != nil:
			d.missing = fmt.Sprintf("Django %s does not import from %s (run make django again): %s", s, d.PythonPath, v)
		case v != s && !strings.HasPrefix(v, s+"."):
			d.missing = fmt.Sprintf("Django %s wanted, but %s (%s) has Django %s", s, Python, d.Source, v)
		default:
			d.Version = v
		}
		ds = append(ds, d)
	}
	return ds
})

// moduleRoot is the directory of this module's go.mod, found upwards
// from the working directory (go test runs in the package's directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/djangosessions/gosessions\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of github.com/djangosessions/gosessions above the working directory")
		}
		dir = parent
	}
}
