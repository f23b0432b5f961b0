package main_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGuaranteesTableNamesTests: every test that docs/guarantees.md names
// exists: `TestX` a Go test function somewhere in the repository,
// `Run/Case` a case of the store conformance suite. A renamed or deleted
// test must not leave a guarantee claimed by nothing.
func TestGuaranteesTableNamesTests(t *testing.T) {
	doc, err := os.ReadFile("docs/guarantees.md")
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcRE.FindAllStringSubmatch(string(b), -1) {
			funcs[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	suite, err := os.ReadFile("app/session/sessiontest/sessiontest.go")
	if err != nil {
		t.Fatal(err)
	}

	// The table's rows: every one names at least one test.
	rows := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "| **") {
			continue
		}
		rows++
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if names := regexp.MustCompile("`((?:Test|Run/)\\w+)`").FindAllString(cells[len(cells)-1], -1); len(names) == 0 {
			t.Errorf("the row %.60q names no test", line)
		}
	}
	if rows < 7 {
		t.Errorf("docs/guarantees.md has %d guarantee rows, want at least 7", rows)
	}

	named := regexp.MustCompile("`(Test\\w+)`").FindAllStringSubmatch(string(doc), -1)
	cases := regexp.MustCompile("`Run/(\\w+)`").FindAllStringSubmatch(string(doc), -1)
	if len(named) < 20 || len(cases) < 5 {
		t.Fatalf("docs/guarantees.md names %d tests and %d suite cases: the table is gone?", len(named), len(cases))
	}
	for _, m := range named {
		if !funcs[m[1]] {
			t.Errorf("docs/guarantees.md names %s, which is no test function of the repository", m[1])
		}
	}
	for _, m := range cases {
		if !strings.Contains(string(suite), `{"`+m[1]+`", `) {
			t.Errorf("docs/guarantees.md names Run/%s, which is no case of sessiontest.Run", m[1])
		}
	}
}
