package onedomain_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guide is the page that shows this package's setup.
const guide = "../../docs/one-domain.md"

// TestGuideShowsTheTestedConfig: the nginx block of the guide, marked
// <!-- nginx: PATH -->, is the file the test runs, byte for byte; the
// guide names every CSRF setting; and every test it names exists.
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
	declared := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".cache") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
				declared[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`(Test[A-Z]\\w+)").FindAllStringSubmatch(string(raw), -1) {
		if !declared[m[1]] {
			t.Errorf("%s names %s, which is no test of the repository", guide, m[1])
		}
	}
}
