package postgres_test

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestPostgresOnlyNeedsNoCgo: the program of Example (this package, its
// migrations, dbstore, session) builds without cgo. It asks go list for the
// dependencies of the packages Example imports: none outside the standard
// library may have cgo files, and mattn/go-sqlite3 must not be among them
// when cgo is off. Cheaper than building, and it fails as soon as an
// import brings SQLite back.
func TestPostgresOnlyNeedsNoCgo(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "example_test.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if strings.Contains(path, ".") { // not the standard library
			pkgs = append(pkgs, path)
		}
	}
	if len(pkgs) < 4 {
		t.Fatalf("example_test.go imports %v: want the opener, migrations, dbstore and session", pkgs)
	}
	list := func(cgo string, format string) []string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"list", "-deps", "-f", format}, pkgs...)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("go list with CGO_ENABLED=%s: %v\n%s", cgo, err, stderr)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range list("0", "{{.ImportPath}}") {
		if strings.HasPrefix(dep, "github.com/mattn/go-sqlite3") {
			t.Errorf("a PostgreSQL-only program depends on %s (cgo SQLite)", dep)
		}
	}
	for _, dep := range list("1", "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}") {
		t.Errorf("a PostgreSQL-only program depends on %s, which has cgo files", dep)
	}
}
