package onedomain_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guide is the page that shows this package's setup.
const guide = "../../docs/one-domain.md"

// TestGuideShowsTheTestedConfig: the nginx block of the guide, marked
// <!-- nginx: PATH -->, is the file the test runs, byte for byte; the
// guide names every CSRF setting (docs.TestDocsNameRealTests checks the
// tests it names).
func TestGuideShowsTheTestedConfig(t *testing.T) {
	raw, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	blocks := 0
	for i, line := range lines {
		path, ok := strings.CutPrefix(strings.TrimSpace(line), "<!-- nginx: ")
		if !ok {
			continue
		}
		path = strings.TrimSuffix(path, " -->")
		if i+1 >= len(lines) || lines[i+1] != "```nginx" {
			t.Fatalf("%s:%d: the marker is not followed by an nginx block", guide, i+1)
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		want, err := os.ReadFile(filepath.Join("../..", path))
		if err != nil {
			t.Fatalf("%s:%d: %v", guide, i+1, err)
		}
		if got := strings.Join(lines[i+2:end], "\n") + "\n"; got != string(want) {
			t.Errorf("%s:%d: the nginx block differs from %s, which the test runs: copy the file into the block", guide, i+1, path)
		}
		blocks++
	}
	if blocks != 1 {
		t.Errorf("%s: %d nginx blocks marked with <!-- nginx: internal/onedomain/nginx.conf -->, want 1", guide, blocks)
	}
	for _, name := range []string{"CSRF_COOKIE_NAME", "CSRF_COOKIE_AGE", "CSRF_COOKIE_DOMAIN", "CSRF_COOKIE_PATH", "CSRF_COOKIE_SECURE",
		"CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE", "CSRF_HEADER_NAME", "CSRF_TRUSTED_ORIGINS", "CSRF_USE_SESSIONS",
		"SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_ENGINE", "DJANGO_VERSION", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH"} {
		if !strings.Contains(string(raw), "`"+name+"`") {
			t.Errorf("%s does not name %s", guide, name)
		}
	}
}
