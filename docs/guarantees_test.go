package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/docscheck"
)

// TestGuaranteesTableNamesTests: every row of docs/guarantees.md names the
// tests that cover it, each one exists (`TestX` a Go test function of the
// repository, `Run/Case` a case of the store conformance suite), so a
// renamed or deleted test cannot leave a guarantee claimed by nothing.
func TestGuaranteesTableNamesTests(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "docs", "guarantees.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := docscheck.TestFuncs(root)
	if err != nil {
		t.Fatal(err)
	}
	suite, err := os.ReadFile(filepath.Join(root, "app/session/sessiontest/sessiontest.go"))
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
		if !tests[m[1]] {
			t.Errorf("docs/guarantees.md names %s, which is no test function of the repository", m[1])
		}
	}
	for _, m := range cases {
		if !strings.Contains(string(suite), `{"`+m[1]+`", `) {
			t.Errorf("docs/guarantees.md names Run/%s, which is no case of sessiontest.Run", m[1])
		}
	}
}
