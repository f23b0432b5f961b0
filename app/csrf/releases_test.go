package csrf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// djangoRelease is one Django of the tests' matrix: the system's 3.2, and
// 4.2 and 5.2 where make django unpacked them into the repository's
// .cache/django.
type djangoRelease struct {
	series     string
	pythonPath string // "" for the system's
}

func (d djangoRelease) command(args ...string) *exec.Cmd {
	cmd := exec.Command("/usr/bin/python3", args...)
	env := []string{"PYTHONNOUSERSITE=1", "PYTHONDONTWRITEBYTECODE=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONPATH=") {
			env = append(env, kv)
		}
	}
	if d.pythonPath != "" {
		env = append(env, "PYTHONPATH="+d.pythonPath)
	}
	cmd.Env = env
	return cmd
}

// eachDjango runs test once per Django release found, in a subtest named
// after it; a release that is missing skips its subtest (fails it under
// CI).
func eachDjango(t *testing.T, test func(t *testing.T, d djangoRelease)) {
	for _, series := range []string{"3.2", "4.2", "5.2"} {
		t.Run("django"+series, func(t *testing.T) {
			d := djangoRelease{series: series}
			if series != "3.2" {
				d.pythonPath, _ = filepath.Abs(filepath.Join("..", "..", ".cache", "django", series, "usr", "lib", "python3", "dist-packages"))
			}
			out, err := d.command("-c", "import django; print(django.get_version())").CombinedOutput()
			v := strings.TrimSpace(string(out))
			if err != nil || !strings.HasPrefix(v, series+".") {
				msg := "Django " + series + " is not here (make deps, make django): " + v
				if os.Getenv("CI") != "" {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
			t.Logf("Django %s", v)
			test(t, d)
		})
	}
}

// versionBefore reports whether the Django release series ("3.2") is
// older than v ("4.1").
func versionBefore(series, v string) bool {
	parse := func(s string) (int, int) {
		major, minor, _ := strings.Cut(s, ".")
		a, _ := strconv.Atoi(major)
		b, _ := strconv.Atoi(minor)
		return a, b
	}
	a1, b1 := parse(series)
	a2, b2 := parse(v)
	return a1 < a2 || a1 == a2 && b1 < b2
}
