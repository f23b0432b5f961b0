package views

import (
	"context"
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"

	"github.com/djangosessions/gosessions/templates"
)

// goSource is this package's handler code and the helpers where the
// handlers call the session: the pages show it as it is compiled, cut out
// by function name, so the Go beside the Django code is always the code
// that runs.
//
//go:embed home.go session.go auth.go accounts.go editor.go api.go render.go csrf.go messages.go devices.go
var goSource embed.FS

// djangoSource is the Django views module the site mirrors.
//
//go:embed django/views.py
var djangoSource string

// lessonSpec names the Django view a page teaches and the Go it shows:
// the handler, then the helpers where the handler's session calls happen
// (a test checks, from the type-checked source, that none is missing).
// Go names are written as in Go's method expressions: "(*Handlers).set",
// "expiryChange.apply", or a function's plain name.
type lessonSpec struct {
	path    string
	pyFunc  string
	goFuncs []string
}

// handler is the lesson-spec name of the Handlers method name.
func handler(name string) string { return "(*Handlers)." + name }

// lessonSpecs lists the code panel of every page that has one. Every page
// reads the session for its header and inspector through (*Handlers).page;
// the home page, which only reads, is where that code is shown.
func lessonSpecs() []lessonSpec {
	specs := []lessonSpec{{path: "/", pyFunc: "home", goFuncs: []string{handler("home"), handler("page"), "pageOf", "inspect", "flashes"}}}
	for _, d := range demos() {
		specs = append(specs, lessonSpec{path: d.path, pyFunc: d.pyFunc, goFuncs: append([]string{handler(d.goFunc)}, d.helpers...)})
	}
	return append(specs,
		lessonSpec{path: "/login", pyFunc: "login_view", goFuncs: []string{handler("login")}},
		lessonSpec{path: "/logout", pyFunc: "logout_view", goFuncs: []string{handler("logout")}},
		lessonSpec{path: "/session", pyFunc: "session_editor", goFuncs: []string{handler("editorSave"), "expiryChange.apply"}},
		lessonSpec{path: "/api/session", pyFunc: "api_session", goFuncs: []string{handler("apiSession")}},
		lessonSpec{path: "/accounts/login/", pyFunc: "accounts_login", goFuncs: []string{handler("accountsLogin")}},
		lessonSpec{path: "/accounts/logout/", pyFunc: "accounts_logout", goFuncs: []string{handler("accountsLogout")}},
		lessonSpec{path: "/accounts/profile/", pyFunc: "profile", goFuncs: []string{handler("profile")}},
		lessonSpec{path: "/accounts/password/", pyFunc: "password_change", goFuncs: []string{handler("passwordChange"), handler("passwordChangePage")}},
		lessonSpec{path: devicesPath, pyFunc: "user_sessions", goFuncs: []string{handler("devices"), handler("signOutDevices")}},
	)
}

// loadLessons cuts every spec's Go functions out of the embedded source and
// its Django view out of views.py, keyed by page path. A name that is not
// found is an error: a renamed function must not leave a page without code.
func loadLessons(specs []lessonSpec) (map[string]templates.Lesson, error) {
	funcs, err := goFuncs(goSource)
	if err != nil {
		return nil, err
	}
	lessons := make(map[string]templates.Lesson, len(specs))
	for _, sp := range specs {
		if len(sp.goFuncs) == 0 {
			return nil, fmt.Errorf("lesson for %s: no Go function named", sp.path)
		}
		py, err := pythonFunc(djangoSource, sp.pyFunc)
		if err != nil {
			return nil, fmt.Errorf("lesson for %s: %w", sp.path, err)
		}
		l := templates.Lesson{Django: templates.NewCode(sp.pyFunc+" in views.py", py)}
		for _, name := range sp.goFuncs {
			g, ok := funcs[name]
			if !ok {
				return nil, fmt.Errorf("lesson for %s: no function %q in the embedded Go source", sp.path, name)
			}
			l.Go = append(l.Go, templates.NewCode(fmt.Sprintf("%s in views/%s", name, g.file), g.src))
		}
		if l, err = l.Prerender(context.Background()); err != nil {
			return nil, fmt.Errorf("lesson for %s: %w", sp.path, err)
		}
		lessons[sp.path] = l
	}
	return lessons, nil
}

type goFunc struct {
	file, src string
}

// goFuncs parses every .go file of fsys and returns the source of each
// function and method, doc comment included, by name: a function by its
// name, a method as in a method expression, "(*T).m" or "T.m".
func goFuncs(fsys fs.FS) (map[string]goFunc, error) {
	names, err := fs.Glob(fsys, "*.go")
	if err != nil {
		return nil, fmt.Errorf("list Go source: %w", err)
	}
	fset := token.NewFileSet()
	funcs := map[string]goFunc{}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			start := fd.Pos()
			if fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			from, to := fset.Position(start).Offset, fset.Position(fd.End()).Offset
			funcs[funcName(fd)] = goFunc{file: name, src: string(src[from:to])}
		}
	}
	return funcs, nil
}

// funcName is fd's name as lesson specs write it: "f", "T.m" or "(*T).m".
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	switch t := fd.Recv.List[0].Type.(type) {
	case *ast.StarExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return "(*" + id.Name + ")." + fd.Name.Name
		}
	case *ast.Ident:
		return t.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// pythonFunc returns the top-level function name of a Python module, with
// the comment lines and decorators right above it, up to the next top-level
// statement.
func pythonFunc(module, name string) (string, error) {
	lines := strings.Split(module, "\n")
	def := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "def "+name+"(") {
			def = i
			break
		}
	}
	if def < 0 {
		return "", fmt.Errorf("no Django view %q in views.py", name)
	}
	start := def
	for start > 0 && (strings.HasPrefix(lines[start-1], "@") || strings.HasPrefix(lines[start-1], "#")) {
		start--
	}
	end := def + 1
	for end < len(lines) && (lines[end] == "" || lines[end][0] == ' ' || lines[end][0] == '\t') {
		end++
	}
	return strings.TrimRight(strings.Join(lines[start:end], "\n"), "\n"), nil
}
