package views

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"

	"github.com/djangosessions/gosessions/templates"
)

// goSource is this package's handler code: the pages show it as it is
// compiled, cut out by function name, so the Go beside the Django code is
// always the code that runs.
//
//go:embed home.go session.go auth.go editor.go api.go
var goSource embed.FS

// djangoSource is the Django views module the site mirrors.
//
//go:embed django/views.py
var djangoSource string

// lessonSpec names the Go handler and the Django view a page teaches.
type lessonSpec struct {
	path, goFunc, pyFunc string
}

// lessonSpecs lists the code panel of every page that has one.
func lessonSpecs() []lessonSpec {
	specs := []lessonSpec{{path: "/", goFunc: "home", pyFunc: "home"}}
	for _, d := range demos() {
		specs = append(specs, lessonSpec{path: d.path, goFunc: d.goFunc, pyFunc: d.pyFunc})
	}
	return append(specs,
		lessonSpec{path: "/login", goFunc: "login", pyFunc: "login_view"},
		lessonSpec{path: "/logout", goFunc: "logout", pyFunc: "logout_view"},
		lessonSpec{path: "/session", goFunc: "editorSave", pyFunc: "session_editor"},
		lessonSpec{path: "/api/session", goFunc: "apiSession", pyFunc: "api_session"},
	)
}

// loadLessons cuts every spec's Go handler out of the embedded source and
// its Django view out of views.py, keyed by page path. A name that is not
// found is an error: a renamed handler must not leave a page without code.
func loadLessons(specs []lessonSpec) (map[string]templates.Lesson, error) {
	funcs, err := goFuncs(goSource)
	if err != nil {
		return nil, err
	}
	lessons := make(map[string]templates.Lesson, len(specs))
	for _, sp := range specs {
		g, ok := funcs[sp.goFunc]
		if !ok {
			return nil, fmt.Errorf("lesson for %s: no handler %q in the embedded Go source", sp.path, sp.goFunc)
		}
		py, err := pythonFunc(djangoSource, sp.pyFunc)
		if err != nil {
			return nil, fmt.Errorf("lesson for %s: %w", sp.path, err)
		}
		lessons[sp.path] = templates.Lesson{
			DjangoName: sp.pyFunc + " in views.py",
			Django:     py,
			GoName:     fmt.Sprintf("(*Handlers).%s in views/%s", sp.goFunc, g.file),
			Go:         g.src,
		}
	}
	return lessons, nil
}

type goFunc struct {
	file, src string
}

// goFuncs parses every .go file of fsys and returns the source of each
// function and method, doc comment included, by name.
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
			funcs[fd.Name.Name] = goFunc{file: name, src: string(src[from:to])}
		}
	}
	return funcs, nil
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
