package djangotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersions: the matrix is 3.2, 4.2 and 5.2, oldest first; each
// release's Python imports that release's Django, from its own folder,
// whatever PYTHONPATH the test itself runs with.
func TestVersions(t *testing.T) {
	t.Setenv("PYTHONPATH", t.TempDir())
	ds := Versions(t)
	var got []string
	for _, d := range ds {
		got = append(got, d.Series)
	}
	if strings.Join(got, " ") != "3.2 4.2 5.2" {
		t.Fatalf("Versions = %v, want 3.2 4.2 5.2", got)
	}
	Each(t, func(t *testing.T, d Django) {
		if !strings.HasPrefix(d.Version, d.Series+".") {
			t.Errorf("Django %s has version %q", d.Series, d.Version)
		}
		out, err := d.Command("-c", "import django; print(django.get_version()); print(django.__file__)").CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		want := "/usr/lib/python3/dist-packages/"
		if d.PythonPath != "" {
			want = d.PythonPath + string(filepath.Separator)
		}
		if len(lines) != 2 || lines[0] != d.Version || !strings.HasPrefix(lines[1], want) {
			t.Errorf("Django %s's Python imports %q, want version %s from %s", d.Series, lines, d.Version, want)
		}
	})
}

// TestNewestIsDefault: a project that names no release runs the newest.
func TestNewestIsDefault(t *testing.T) {
	p := New(t, Options{SQLite: filepath.Join(t.TempDir(), "db.sqlite3")})
	if got := p.Django().Series; got != Series52 {
		t.Errorf("default release %s, want %s", got, Series52)
	}
	out := p.Shell(t, "print(django.get_version())", "")
	if strings.TrimSpace(out) != p.Django().Version {
		t.Errorf("the project runs Django %q, want %s", out, p.Django().Version)
	}
}

// TestPostgresDrivers: Django 5.2 reaches PostgreSQL through psycopg 3
// (bookworm's psycopg2 is too old for it), the others through psycopg2.
// No database is needed: the driver is what Django's backend loads.
func TestPostgresDrivers(t *testing.T) {
	Each(t, func(t *testing.T, d Django) {
		driver := d.RequirePostgres(t)
		want := "psycopg2 "
		if d.Series == Series52 {
			want = "psycopg 3."
		}
		if !strings.HasPrefix(driver, want) {
			t.Errorf("Django %s uses %q, want %s...", d.Version, driver, want)
		}
	})
}

// outcome records what Require does to a test, without ending the real one.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()                  {}
func (o *outcome) Logf(string, ...any)      {}
func (o *outcome) Skip(args ...any)         { o.skipped = args[0].(string) }
func (o *outcome) Fatal(args ...any)        { o.failed = args[0].(string) }
func (o *outcome) Fatalf(string, ...any)    { o.failed = "fatalf" }
func (o *outcome) Skipf(f string, _ ...any) { o.skipped = f }

// TestMissingRelease: a release that is not here skips its test, and
// fails it under CI, saying what to run.
func TestMissingRelease(t *testing.T) {
	d := Django{Series: "4.2", missing: "Django 4.2 is not fetched (run make django ...)"}
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		o := &outcome{TB: t}
		d.Require(o)
		if ci == "" && (o.skipped != d.missing || o.failed != "") {
			t.Errorf("without CI: skipped %q, failed %q; want a skip", o.skipped, o.failed)
		}
		if ci != "" && (o.failed != d.missing || o.skipped != "") {
			t.Errorf("under CI: skipped %q, failed %q; want a failure", o.skipped, o.failed)
		}
	}
}

// TestFetchIsCached: once make django has fetched the matrix, fetch.sh
// again neither runs apt nor changes anything: its stamps are enough.
// apt-get and apt-cache are replaced by commands that fail.
func TestFetchIsCached(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Versions(t) {
		if d.PythonPath != "" {
			d.Require(t) // fetched, else this test cannot say anything
		}
	}
	stubs := t.TempDir()
	for _, name := range []string{"apt-get", "apt-cache", "dpkg-deb"} {
		if err := os.WriteFile(filepath.Join(stubs, name), []byte("#!/bin/sh\necho \"$0 ran\" >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", filepath.Join(root, "internal", "djangotest", "fetch.sh"), filepath.Join(root, cacheDir))
	cmd.Env = append(os.Environ(), "PATH="+stubs+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fetch.sh with the matrix fetched: %v\n%s", err, out)
	}
	for _, s := range []string{Series42, Series52} {
		if !strings.Contains(string(out), "django "+s+": Django "+s+".") || !strings.Contains(string(out), "(cached in ") {
			t.Errorf("fetch.sh did not report %s as cached:\n%s", s, out)
		}
	}
}
