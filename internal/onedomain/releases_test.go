package onedomain_test

import (
	"os"
	"testing"

	"github.com/djangosessions/gosessions/internal/djangotest"
)

// djangoReleases returns the releases of the matrix that are here (each
// logged with its exact version); a missing one is logged and left out,
// or fails the test under CI (djangotest.Django.Require).
func djangoReleases(t *testing.T) []djangotest.Django {
	t.Helper()
	var out []djangotest.Django
	for _, d := range djangotest.Versions(t) {
		if !d.Available() {
			if os.Getenv("CI") != "" {
				d.Require(t) // fails
			}
			t.Logf("%s: not here (make django); its domain is left out", d)
			continue
		}
		t.Logf("Django %s (%s)", d.Version, d.Source)
		out = append(out, d)
	}
	return out
}
