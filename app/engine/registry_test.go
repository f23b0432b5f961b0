package engine_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOneRegistry keeps the rule that only this package interprets an
// engine's name: no other Go source of the module (tests aside) spells an
// engine's name as a string, compares a SESSION_ENGINE value or an engine
// constant, or switches on one. They ask the registry instead (Needs,
// Open, All).
func TestOneRegistry(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not %s: %v", root, err)
	}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == here || path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, problem := range engineUses(t, rel, src) {
			t.Error(problem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files under %s", files, root)
	}
}

// engineUses returns where src, the file name, interprets an engine name
// by itself.
func engineUses(t *testing.T, name string, src []byte) []string {
	t.Helper()
	var problems []string
	for i, line := range bytes.Split(src, []byte("\n")) {
		for _, lit := range []string{`"cached_db"`, `"signed_cookies"`} {
			if bytes.Contains(line, []byte(lit)) {
				problems = append(problems, name+":"+strconv.Itoa(i+1)+": spells the engine "+lit+": use the engine package's constant, or ask the registry")
			}
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	report := func(n ast.Node, what string) {
		problems = append(problems, fset.Position(n.Pos()).String()+": "+what+": ask the engine registry (Needs, Open, All) instead")
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (isEngineName(n.X) || isEngineName(n.Y)) {
				report(n, "compares an engine name")
			}
		case *ast.SwitchStmt:
			if n.Tag != nil && isEngineName(n.Tag) {
				report(n, "switches on an engine name")
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if isEngineName(e) {
					report(e, "a case of an engine name")
				}
			}
		}
		return true
	})
	return problems
}

// isEngineName reports whether e is a SESSION_ENGINE value (a
// SessionEngine field) or one of the engine constants.
func isEngineName(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if sel.Sel.Name == "SessionEngine" {
		return true
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok || pkg.Name != "engine" {
		return false
	}
	switch sel.Sel.Name {
	case "DB", "CachedDB", "Cache", "SignedCookies", "File":
		return true
	}
	return false
}
