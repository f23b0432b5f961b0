package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/exampletest"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// TestProgram runs the program as the docs show it, on a PostgreSQL
// database of its own, and walks its routes.
func TestProgram(t *testing.T) {
	exampletest.Check(t, main, pgtest.NewDatabase(t))
}

// TestNoCgo: as the README says, the program builds without cgo: none of
// the packages it links, outside the standard library, has cgo files.
func TestNoCgo(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if cgo := strings.Fields(string(out)); len(cgo) > 0 {
		t.Errorf("the PostgreSQL example links packages with cgo: %v", cgo)
	}
}
