package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeHelp: make help lists every documented target of the Makefile,
// with the descriptions in one column whatever the length of the names.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but make is missing: %v", err)
		}
		t.Skip("make not found")
	}
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	documented := regexp.MustCompile(`(?m)^([a-z-]+):.*## (.*)$`).FindAllStringSubmatch(string(makefile), -1)
	if len(documented) < 10 {
		t.Fatalf("only %d documented targets in the Makefile", len(documented))
	}
	out, err := exec.Command("make", "--no-print-directory", "-s", "help").Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(documented) {
		t.Fatalf("make help lists %d targets, the Makefile documents %d:\n%s", len(lines), len(documented), out)
	}
	column := -1
	for i, line := range lines {
		name, text := documented[i][1], documented[i][2]
		if !strings.HasPrefix(line, "  "+name+" ") || !strings.HasSuffix(line, "  "+text) {
			t.Errorf("line %q, want target %s and %q", line, name, text)
			continue
		}
		at := len(line) - len(text)
		if column < 0 {
			column = at
		}
		if at != column {
			t.Errorf("description of %s starts at column %d, others at %d:\n%s", name, at, column, out)
		}
	}
}

// TestMakeCheckFiles: make check fails on a tracked file over 1 MB, and
// says which, unless it is an image that README.md or docs/ show; files
// git does not track are not its business.
func TestMakeCheckFiles(t *testing.T) {
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI is set but %s is missing: %v", tool, err)
			}
			t.Skip(tool + " not found")
		}
	}
	makefile, err := filepath.Abs("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("git", "init", "-q"); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	write := func(name string, size int) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	track := func(names ...string) {
		t.Helper()
		if out, err := run(append([]string{"git", "add", "--"}, names...)...); err != nil {
			t.Fatalf("git add: %v\n%s", err, out)
		}
	}
	check := func(want bool, mention string) {
		t.Helper()
		out, err := run("make", "--no-print-directory", "-s", "-f", makefile, "check-files")
		if (err == nil) != want {
			t.Fatalf("make check-files: %v, want success %v\n%s", err, want, out)
		}
		if mention != "" && !strings.Contains(out, mention) {
			t.Errorf("make check-files does not name %s:\n%s", mention, out)
		}
	}
	const big = 1<<20 + 1
	write("README.md", 100)
	write("main.go", 1<<20) // exactly 1 MB: allowed
	track("README.md", "main.go")
	check(true, "")

	write("loadtest", big) // a binary, untracked: not checked
	check(true, "")
	track("loadtest")
	check(false, "loadtest")
	if out, err := run("git", "rm", "-q", "--cached", "loadtest"); err != nil {
		t.Fatalf("git rm: %v\n%s", err, out)
	}

	write("docs/img/tour.png", big) // an image no doc shows
	track("docs/img/tour.png")
	check(false, "docs/img/tour.png")
	if err := os.WriteFile(filepath.Join(dir, "docs", "tour.md"), []byte("![The tour](img/tour.png)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	track("docs/tour.md")
	check(true, "")
}
