package views

import (
	"go/ast"
	"go/types"
	"slices"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/learncheck"
)

// Import paths of the session framework, of the logins built on it and
// of this package.
const (
	sessionPkg = "github.com/djangosessions/gosessions/app/session"
	authPkg    = "github.com/djangosessions/gosessions/app/auth"
	// messagesPkg's functions (Add, Get) read and write the session's
	// _messages (and the messages cookie): session calls too.
	messagesPkg = "github.com/djangosessions/gosessions/app/messages"
	viewsPkg    = "github.com/djangosessions/gosessions/views"
)

// TestLessonsShowEverySessionCall: every page's Go panel shows each
// function of its handler's call tree that calls a method of
// *session.Session, and every helper a panel shows is in that tree. The
// calls are found in this package's type-checked source, so a method of
// another type with the same name (echo.Context's Get and Set) is not
// mistaken for a session call.
//
// Every page builds its header and inspector with (*Handlers).page, which
// reads the session (pageOf, inspect); that tree is followed for the home
// page only, whose lesson is about reading and shows it, so that the other
// panels show what their own page does.
func TestLessonsShowEverySessionCall(t *testing.T) {
	files, info := typeCheck(t)
	decls := map[string]*ast.FuncDecl{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				decls[funcName(fd)] = fd
			}
		}
	}
	lessons, err := loadLessons(lessonSpecs())
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range lessonSpecs() {
		skip := map[string]bool{}
		if sp.path != "/" {
			skip[handler("page")] = true
		}
		reached := map[string]bool{}
		calls := map[string][]string{} // function name -> session methods it calls
		walkCalls(decls, info, sp.goFuncs[0], skip, reached, calls)

		var panel strings.Builder
		for _, g := range lessons[sp.path].Go {
			panel.WriteString(g.Source())
		}
		for fn, methods := range calls {
			if !slices.Contains(sp.goFuncs, fn) {
				t.Errorf("%s: %s calls session methods %v, but the page does not show it", sp.path, fn, methods)
			}
			for _, m := range methods {
				if !strings.Contains(panel.String(), "."+m+"(") {
					t.Errorf("%s: the Go panel has no .%s( call", sp.path, m)
				}
			}
		}
		for _, name := range sp.goFuncs[1:] {
			if !reached[name] {
				t.Errorf("%s: the page shows %s, which its handler never calls", sp.path, name)
			}
		}
		if len(calls) == 0 {
			t.Errorf("%s: no session call found in its handler's call tree", sp.path)
		}
	}
}

// walkCalls follows the calls of the function name, within this package
// and outside skip, recording each function reached and the
// *session.Session methods each one calls.
func walkCalls(decls map[string]*ast.FuncDecl, info *types.Info, name string, skip, reached map[string]bool, calls map[string][]string) {
	if reached[name] || skip[name] {
		return
	}
	reached[name] = true
	fd, ok := decls[name]
	if !ok || fd.Body == nil {
		return
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		var id *ast.Ident
		switch f := ast.Unparen(call.Fun).(type) {
		case *ast.Ident:
			id = f
		case *ast.SelectorExpr:
			id = f.Sel
		case *ast.IndexExpr: // an instantiated generic function
			switch x := f.X.(type) {
			case *ast.Ident:
				id = x
			case *ast.SelectorExpr:
				id = x.Sel
			}
		}
		if id == nil {
			return true
		}
		fn, ok := info.Uses[id].(*types.Func)
		if !ok {
			return true
		}
		fn = fn.Origin()
		sig := fn.Signature()
		if recv := sig.Recv(); recv != nil && isSession(recv.Type()) || recv == nil && fn.Pkg() != nil && fn.Pkg().Path() == messagesPkg {
			if !slices.Contains(calls[name], fn.Name()) {
				calls[name] = append(calls[name], fn.Name())
			}
			return true
		}
		if fn.Pkg() != nil && fn.Pkg().Path() == viewsPkg {
			walkCalls(decls, info, typesName(fn), skip, reached, calls)
		}
		return true
	})
}

// isSession reports whether t is session.Session or auth.Auth (whose
// methods, request.user, login() and logout(), are the session calls of
// the /accounts/ pages), or a pointer to one.
func isSession(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	switch n.Obj().Pkg().Path() {
	case sessionPkg:
		return n.Obj().Name() == "Session"
	case authPkg:
		return n.Obj().Name() == "Auth"
	}
	return false
}

// typesName is fn's name as lesson specs write it (see funcName).
func typesName(fn *types.Func) string {
	recv := fn.Signature().Recv()
	if recv == nil {
		return fn.Name()
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		if n, ok := p.Elem().(*types.Named); ok {
			return "(*" + n.Obj().Name() + ")." + fn.Name()
		}
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name() + "." + fn.Name()
	}
	return fn.Name()
}

// typeCheck parses and type-checks this package's non-test source.
func typeCheck(t *testing.T) ([]*ast.File, *types.Info) {
	t.Helper()
	pkg, errs, err := learncheck.TypeCheck(".", viewsPkg, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("type-check views: %v", errs[0])
	}
	return pkg.Files, pkg.Info
}
