package onedomain_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/djangosessions/gosessions/internal/djangotest"
)

// djangoRelease is one Django of the tests' matrix: the system's 3.2, and
// 4.2 and 5.2 where make django unpacked them into the repository's
// .cache/django.
type djangoRelease struct {
	series     string
	version    string
	pythonPath string // "" for the system's
}

// options returns opts for a project running this release.
func (d djangoRelease) options(opts djangotest.Options) djangotest.Options {
	opts.Env = append(opts.Env, "PYTHONNOUSERSITE=1", "PYTHONPATH="+d.pythonPath)
	return opts
}

// djangoReleases returns the releases found here; a missing one is
// logged (and fails the test under CI).
func djangoReleases(t *testing.T) []djangoRelease {
	t.Helper()
	var out []djangoRelease
	for _, d := range releases() {
		if d.version == "" {
			msg := "Django " + d.series + " is not here (make deps, make django)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Log(msg)
			continue
		}
		t.Logf("Django %s", d.version)
		out = append(out, d)
	}
	return out
}

var releases = sync.OnceValue(func() []djangoRelease {
	var out []djangoRelease
	for _, series := range []string{"3.2", "4.2", "5.2"} {
		d := djangoRelease{series: series}
		if series != "3.2" {
			d.pythonPath, _ = filepath.Abs(filepath.Join("..", ".cache", "django", series, "usr", "lib", "python3", "dist-packages"))
		}
		cmd := exec.Command(djangotest.Python, "-c", "import django; print(django.get_version())")
		cmd.Env = append(os.Environ(), "PYTHONNOUSERSITE=1", "PYTHONPATH="+d.pythonPath)
		if out, err := cmd.Output(); err == nil && strings.HasPrefix(strings.TrimSpace(string(out)), series+".") {
			d.version = strings.TrimSpace(string(out))
		}
		out = append(out, d)
	}
	return out
})
