// Package learncheck holds the Go samples the site's /learn page shows to
// the code: it type-checks each sample against the real packages, so that
// a sample naming a function, method, field or type that does not exist,
// or calling one with arguments it does not take, fails a test.
//
// A sample is one line, as /learn shows it: Go code, perhaps followed by a
// // comment. The code is type-checked as statements (s.CycleKey(); v, ok
// := s.Lookup(key)), or, when it is a comma-separated list, as each of
// its parts (s.Keys(), s.Items()); an expression that is not a call stands
// as an assignment to _. A comment is checked as Go when it parses as a
// call, or as the code's continuation (// r.Deleted); otherwise it is
// prose, and each dotted name in it that starts with a package or a name
// of the vocabulary must resolve (// auth.SafeRedirect, // *models.User,
// // dbstore.(*Store).ClearExpired), and a file it names (// views/csrf.go)
// must exist. A command line (go run ./manage ..., manage ..., SETTING=value)
// is not Go; its comment is checked all the same.
package learncheck

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Sample is one Go sample and where it is shown, for messages.
type Sample struct {
	Where string
	Go    string
}

// Checker type-checks samples.
type Checker struct {
	// Dir is the package the samples are checked in, as a directory; its
	// non-test files join the check, so that its unexported names
	// resolve (views' h.page). "" checks them in a package of their
	// own.
	Dir string
	// PkgPath is the import path of Dir's package ("" with no Dir).
	PkgPath string
	// Root is the repository, where a file a comment names is looked for.
	Root string
	// Imports are the packages the samples may name, by the name they
	// use: "session" -> "github.com/.../app/session".
	Imports map[string]string
	// Vocabulary declares the names every sample may use without
	// declaring them, one Go var declaration a line ("s *session.Session",
	// "key, name string").
	Vocabulary string
}

// shell tells a command line from Go: go run, manage, or a setting.
var shell = regexp.MustCompile(`^(go run |go test |manage |[A-Z][A-Z0-9_]*=)`)

// fileName is a source file a comment points at.
var fileName = regexp.MustCompile(`^[a-z][a-z0-9_]*(/[a-z0-9_]+)*\.go$`)

// methodName is a method written pkg.(*T).M.
var methodName = regexp.MustCompile(`\b([a-z]\w*)\.\(\*(\w+)\)\.(\w+)`)

// dottedName is a dotted name in prose: pkg.Name, s.Method, a.B.C, or a
// method expression (*pkg.T).M.
var dottedName = regexp.MustCompile(`(\(\*[a-z]\w*\.\w+\)|\b[A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)`)

// Check type-checks samples and returns one message per problem, each
// starting with the sample's Where and a colon. The error is a failure of
// the check itself (go list, a package that does not build).
func (c Checker) Check(samples []Sample) ([]string, error) {
	pkgName := "learnsamples"
	if c.Dir != "" {
		name, err := packageName(c.Dir)
		if err != nil {
			return nil, err
		}
		pkgName = name
	}
	var problems []string
	var src strings.Builder
	fmt.Fprintf(&src, "package %s\n\nimport (\n", pkgName)
	names := make([]string, 0, len(c.Imports))
	for name := range c.Imports {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&src, "\t%s %q\n", name, c.Imports[name])
	}
	src.WriteString(")\n\ntype T = string\n")

	type prose struct {
		where string
		names []string
		fn    string // the function whose scope resolves them
	}
	var proses []prose
	whereOf := map[string]string{} // function name -> where
	for i, sm := range samples {
		code, comment := splitComment(sm.Go)
		var stmts []string
		if code != "" && !shell.MatchString(code) {
			s, err := statements(code)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is neither Go nor a command: %v", sm.Where, code, err))
				continue
			}
			stmts = s
		}
		fn := fmt.Sprintf("learnSample%d", i)
		whereOf[fn] = sm.Where
		switch {
		case comment == "":
		case fileName.MatchString(comment):
			if _, err := os.Stat(filepath.Join(c.Root, comment)); err != nil {
				problems = append(problems, fmt.Sprintf("%s: the comment names %s, which does not exist", sm.Where, comment))
			}
		default:
			// pkg.(*T).M, the way people write a method, is (*pkg.T).M in Go.
			comment = methodName.ReplaceAllString(comment, "(*$1.$2).$3")
			if s, ok := goComment(comment); ok && (len(stmts) > 0 || isCall(comment)) {
				stmts = append(stmts, s...)
				break
			}
			p := prose{where: sm.Where, fn: fn}
			for _, m := range dottedName.FindAllStringSubmatch(comment, -1) {
				p.names = append(p.names, m[1]+m[2])
			}
			proses = append(proses, p)
		}
		fmt.Fprintf(&src, "\nfunc %s() {\n\tvar (%s)\n\t{\n", fn, c.Vocabulary)
		for _, st := range stmts {
			fmt.Fprintf(&src, "\t\t%s\n", st)
		}
		src.WriteString("\t}\n}\n")
	}

	const fileName = "learn_samples.go"
	pkg, errs, err := TypeCheck(c.Dir, c.PkgPath, fileName, src.String(), values(c.Imports)...)
	if err != nil {
		return nil, err
	}
	var synthetic *ast.File
	for _, f := range pkg.Files {
		if pkg.Fset.File(f.Pos()).Name() == fileName {
			synthetic = f
		}
	}
	if synthetic == nil {
		return nil, fmt.Errorf("learncheck: the samples' file was not type-checked")
	}
	bodies := map[string]*ast.BlockStmt{}
	for _, d := range synthetic.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			bodies[fd.Name.Name] = fd.Body
		}
	}
	for _, err := range errs {
		te, ok := err.(types.Error)
		if !ok {
			return nil, err
		}
		if strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used") {
			continue
		}
		where := ""
		for fn, body := range bodies {
			if body.Pos() <= te.Pos && te.Pos < body.End() {
				where = whereOf[fn]
			}
		}
		if where == "" {
			return nil, fmt.Errorf("learncheck: %v\n%s", te, src.String())
		}
		problems = append(problems, fmt.Sprintf("%s: %s", where, te.Msg))
	}
	for _, p := range proses {
		pos := bodies[p.fn].Rbrace
		for _, name := range p.names {
			root, _, _ := strings.Cut(strings.TrimPrefix(name, "(*"), ".")
			root, _, _ = strings.Cut(root, ")")
			if _, imported := c.Imports[root]; !imported && !c.declares(root) {
				continue // a word of the prose, not a name of the code
			}
			if _, err := types.Eval(pkg.Fset, pkg.Types, pos, name); err != nil {
				problems = append(problems, fmt.Sprintf("%s: the comment names %s: %v", p.where, name, err))
			}
		}
	}
	return problems, nil
}

// declares reports whether the vocabulary declares name.
func (c Checker) declares(name string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nvar (\n"+c.Vocabulary+"\n)\n", parser.SkipObjectResolution)
	if err != nil {
		return false // the type-check reports it
	}
	for _, d := range f.Decls {
		for _, spec := range d.(*ast.GenDecl).Specs {
			for _, id := range spec.(*ast.ValueSpec).Names {
				if id.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// Package is a type-checked package.
type Package struct {
	Fset  *token.FileSet
	Files []*ast.File
	Types *types.Package
	Info  *types.Info
}

// TypeCheck parses and type-checks the non-test files of the package in
// dir (none when dir is ""), as pkgPath, plus the file extraName holding
// extraSrc when it is not "". Imports, and the packages in more, are read
// from the compiler's export data, which go list -export builds (or finds
// in the build cache). It returns every type error rather than stopping at
// the first; the error is a failure to load.
func TypeCheck(dir, pkgPath, extraName, extraSrc string, more ...string) (*Package, []error, error) {
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	if dir != "" {
		args = append(args, ".")
	}
	cmd := exec.Command("go", append(args, more...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("learncheck: go list -export: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		path, file, ok := strings.Cut(sc.Text(), "\t")
		if ok && file != "" {
			exports[path] = file
		}
	}
	fset := token.NewFileSet()
	var files []*ast.File
	if dir != "" {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, nil, err
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Base(name), readFile(name), parser.SkipObjectResolution)
			if err != nil {
				return nil, nil, err
			}
			files = append(files, f)
		}
	}
	if extraSrc != "" {
		f, err := parser.ParseFile(fset, extraName, extraSrc, parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, fmt.Errorf("learncheck: %s: %v\n%s", extraName, err, extraSrc)
		}
		files = append(files, f)
	}
	if pkgPath == "" {
		pkgPath = "learnsamples"
	}
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}
	var errs []error
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "gc", lookup),
		Error:    func(err error) { errs = append(errs, err) },
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Defs: map[*ast.Ident]types.Object{}}
	pkg, _ := conf.Check(pkgPath, fset, files, info)
	return &Package{Fset: fset, Files: files, Types: pkg, Info: info}, errs, nil
}

// readFile returns the file's content, or nil to let the parser report
// the error.
func readFile(name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	return b
}

// packageName is the package clause of dir's Go files.
func packageName(dir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.PackageClauseOnly)
		if err != nil {
			return "", err
		}
		return f.Name.Name, nil
	}
	return "", fmt.Errorf("learncheck: no Go files in %s", dir)
}

// splitComment cuts a sample at its // comment (outside string
// literals): the code before it and the comment's text.
func splitComment(s string) (code, comment string) {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote && (quote == '`' || s[i-1] != '\\') {
				quote = 0
			}
		case r == '"' || r == '`' || r == '\'':
			quote = r
		case r == '/' && strings.HasPrefix(s[i:], "//"):
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+2:])
		}
	}
	return strings.TrimSpace(s), ""
}

// goComment returns a comment's statements when it reads as Go code: it
// parses as expressions and assignments only ("false: HttpOnly" parses
// too, as a label, but is prose).
func goComment(comment string) ([]string, bool) {
	src := "package p\nfunc _() {\n" + comment + "\n}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, false
	}
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch st.(type) {
		case *ast.ExprStmt, *ast.AssignStmt:
		default:
			return nil, false
		}
	}
	stmts, err := statements(comment)
	return stmts, err == nil
}

// isCall reports whether s is one Go call expression.
func isCall(s string) bool {
	x, err := parser.ParseExpr(s)
	if err != nil {
		return false
	}
	_, ok := x.(*ast.CallExpr)
	return ok
}

// statements turns a sample into Go statements: the sample itself when it
// is a statement list, else each of its comma-separated parts (s.Keys(),
// s.Items()).
func statements(code string) ([]string, error) {
	if stmts, err := parseStmts(code); err == nil {
		return stmts, nil
	}
	var out []string
	for _, part := range splitTopLevel(code, ',') {
		stmts, err := parseStmts(part)
		if err != nil {
			return nil, err
		}
		out = append(out, stmts...)
	}
	return out, nil
}

// parseStmts parses code as a statement list and returns each statement's
// source, a lone expression that is not a call assigned to _.
func parseStmts(code string) ([]string, error) {
	src := "package p\nfunc _() {\n" + code + "\n}\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range f.Decls[0].(*ast.FuncDecl).Body.List {
		text := src[fset.Position(st.Pos()).Offset:fset.Position(st.End()).Offset]
		if es, ok := st.(*ast.ExprStmt); ok {
			if _, call := es.X.(*ast.CallExpr); !call {
				text = "_ = " + text
			}
		}
		out = append(out, text)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no statement")
	}
	return out, nil
}

// splitTopLevel splits s at sep outside brackets and string literals.
func splitTopLevel(s string, sep rune) []string {
	var parts []string
	depth, start := 0, 0
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote && (quote == '`' || s[i-1] != '\\') {
				quote = 0
			}
		case r == '"' || r == '`' || r == '\'':
			quote = r
		case r == '(' || r == '[' || r == '{':
			depth++
		case r == ')' || r == ']' || r == '}':
			depth--
		case r == sep && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// values returns m's values.
func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
