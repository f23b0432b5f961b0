package views

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/templates"
)

// learnImports are the packages /learn's Go samples may name, by the name
// they use; the samples are type-checked with them.
var learnImports = map[string]string{
	"context":  "context",
	"time":     "time",
	"http":     "net/http",
	"echo":     "github.com/labstack/echo/v4",
	"session":  sessionPkg,
	"signing":  "github.com/djangosessions/gosessions/app/signing",
	"auth":     authPkg,
	"dbstore":  "github.com/djangosessions/gosessions/app/session/dbstore",
	"memstore": "github.com/djangosessions/gosessions/app/session/memstore",
	"database": "github.com/djangosessions/gosessions/app/database",
	"models":   "github.com/djangosessions/gosessions/models",
}

// learnVocabulary is what a /learn sample may use without declaring it:
// the names the samples share, with their types. A sample that uses any
// other name must declare it (v, ok := s.Lookup(key)).
const learnVocabulary = `
	c        echo.Context
	e        *echo.Echo
	hf       echo.HandlerFunc
	w        http.ResponseWriter
	r        *http.Request
	ctx      context.Context
	s        *session.Session
	m        *session.Manager
	manager  *session.Manager
	cfg      session.Config
	Config   session.Config
	signer   *signing.TimestampSigner
	h        *Handlers
	store    *dbstore.Store
	db       *database.DB
	row      models.Session
	user     *models.User
	u        *models.User
	now, t   time.Time
	n        int64
	key, name, username, password, path, next string
	value, def any
	d        map[string]any
`

// TestLearnSamplesExist: every Go sample on /learn names functions,
// methods, fields and types that exist, called with arguments they take.
// Each row's Go column is type-checked as statements inside this package
// (so that views' own helpers, such as h.rotateCSRF, resolve), with the
// shared names of learnVocabulary declared. A comment after the code is
// checked too: as Go when it parses as Go (// r.Deleted), else each
// dotted name in it that starts with a package or a shared name
// (// auth.SafeRedirect, // *models.User, nil for AnonymousUser) must
// resolve, and a file it names (// views/csrf.go) must exist. A shell
// command (go run ./manage ..., manage sessions ..., SETTING=value) is not
// Go; its comment is checked all the same.
func TestLearnSamplesExist(t *testing.T) {
	var rows []learnSample
	sections := append(learnSections(), operateSection("/metrics"))
	for _, sec := range sections {
		if strings.HasPrefix(sec.Title, "Engines") {
			continue // the engine rows move to the engine registry (app/engine), then are checked here
		}
		for i, row := range sec.Rows {
			rows = append(rows, learnSample{where: fmt.Sprintf("%s, row %d (%s)", sec.Title, i+1, row.Django), row: row})
		}
	}
	problems := checkLearnSamples(t, rows)
	for _, p := range problems {
		t.Error(p)
	}
}

// TestLearnCheckFails: the check finds a method that does not exist, a
// call with the wrong arguments, a wrong count of results, a package-level
// name in a comment that does not exist, a missing file, and prose where
// Go should be; and it passes samples like those /learn shows.
func TestLearnCheckFails(t *testing.T) {
	bad := []string{
		`s.CycleKeys()`,
		`store.ClearExpired(ctx)`,
		`n := s.Lookup(key)`,
		`s.Flush()  // dbstore.(*Store).DeleteExpiredSoon`,
		`manage sessions show KEY  // (*session.Session).Unknown, and more`,
		`manage sessions list  // session.NoSuchThing`,
		`h.rotateCSRF(w, r)  // views/nosuch.go`,
		`JSON, always (json.Number keeps integers exact)`,
	}
	good := []string{
		`s.Get(key, def), s.GetString(key, "Guest"), session.Get[T](s, key)`,
		`r, err := store.ClearExpired(ctx, dbstore.ClearOptions{})  // r.Deleted`,
		`Config.CookieSameSite  // http.SameSiteLaxMode`,
		`h.rotateCSRF(w, r)  // views/csrf.go`,
		`go run ./manage clearsessions`,
		`manage clearsessions  // dbstore.(*Store).ClearExpired, in batches`,
		`s.Flush()  // dbstore.(*Store).ClearExpired`,
		`u != nil`,
	}
	var rows []learnSample
	for i, g := range append(append([]string{}, bad...), good...) {
		rows = append(rows, learnSample{where: fmt.Sprint(i), row: templates.LearnRow{Go: g}})
	}
	problems := checkLearnSamples(t, rows)
	failed := map[string]bool{}
	for _, p := range problems {
		where, _, _ := strings.Cut(p, ":")
		failed[where] = true
	}
	for i, g := range bad {
		if !failed[fmt.Sprint(i)] {
			t.Errorf("the check passes %q, which names something that does not exist", g)
		}
	}
	for i, g := range good {
		if failed[fmt.Sprint(len(bad)+i)] {
			t.Errorf("the check fails %q: %v", g, problems)
		}
	}
}

// learnSample is one /learn row to check, and where it is for messages.
type learnSample struct {
	where string
	row   templates.LearnRow
}

// shellSample tells a command line from Go: go run, manage, or a setting.
var shellSample = regexp.MustCompile(`^(go run |go test |manage |[A-Z][A-Z0-9_]*=)`)

// fileName is a source file a comment points at.
var fileName = regexp.MustCompile(`^[a-z][a-z0-9_]*(/[a-z0-9_]+)*\.go$`)

// methodName is a method written pkg.(*T).M.
var methodName = regexp.MustCompile(`\b([a-z]\w*)\.\(\*(\w+)\)\.(\w+)`)

// dottedName is a dotted name in prose: pkg.Name, s.Method, a.B.C, or a
// method expression (*pkg.T).M.
var dottedName = regexp.MustCompile(`(\(\*[a-z]\w*\.\w+\)|\b[A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)`)

// checkLearnSamples type-checks samples and returns one message per
// problem, each starting with the sample's where and a colon.
func checkLearnSamples(t *testing.T, samples []learnSample) []string {
	t.Helper()
	var problems []string
	var src strings.Builder
	src.WriteString("package views\n\nimport (\n")
	for name, path := range learnImports {
		fmt.Fprintf(&src, "\t%s %q\n", name, path)
	}
	src.WriteString(")\n\ntype T = string\n")

	type prose struct {
		where string
		names []string
		fn    string // the function whose scope resolves them
	}
	var proses []prose
	funcOf := map[string]string{} // function name -> where
	for i, sm := range samples {
		code, comment := splitComment(sm.row.Go)
		var stmts []string
		if code != "" && !shellSample.MatchString(code) {
			s, err := goStatements(code)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q is neither Go nor a command: %v", sm.where, code, err))
				continue
			}
			stmts = s
		}
		fn := fmt.Sprintf("learnSample%d", i)
		funcOf[fn] = sm.where
		switch {
		case comment == "":
		case fileName.MatchString(comment):
			if _, err := os.Stat(filepath.Join("..", comment)); err != nil {
				problems = append(problems, fmt.Sprintf("%s: the comment names %s, which does not exist", sm.where, comment))
			}
		default:
			// pkg.(*T).M, the way people write a method, is (*pkg.T).M in Go.
			comment = methodName.ReplaceAllString(comment, "(*$1.$2).$3")
			if s, err := goStatements(comment); err == nil && len(stmts) > 0 {
				// Code that goes on in the comment (// r.Deleted).
				stmts = append(stmts, s...)
			} else if err == nil && isCall(comment) {
				stmts = append(stmts, s...)
			} else {
				p := prose{where: sm.where, fn: fn}
				for _, m := range dottedName.FindAllStringSubmatch(comment, -1) {
					p.names = append(p.names, m[1]+m[2])
				}
				proses = append(proses, p)
			}
		}
		fmt.Fprintf(&src, "\nfunc %s() {\n\tvar (%s)\n\t{\n", fn, learnVocabulary)
		for _, st := range stmts {
			fmt.Fprintf(&src, "\t\t%s\n", st)
		}
		src.WriteString("\t}\n}\n")
	}

	files, pkg, errs := typeCheckWith(t, "learn_samples.go", src.String(), slicesOfValues(learnImports)...)
	var synthetic *ast.File
	for _, f := range files {
		if f.Name.Name == "views" && pkg.fset.File(f.Pos()).Name() == "learn_samples.go" {
			synthetic = f
		}
	}
	if synthetic == nil {
		t.Fatal("the samples' file was not type-checked")
	}
	// Each function's body, to place errors and to resolve prose.
	bodies := map[string]*ast.BlockStmt{}
	for _, d := range synthetic.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			bodies[fd.Name.Name] = fd.Body
		}
	}
	for _, err := range errs {
		te, ok := err.(types.Error)
		if !ok {
			problems = append(problems, err.Error())
			continue
		}
		if strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used") {
			continue
		}
		where := "?"
		for fn, body := range bodies {
			if body.Pos() <= te.Pos && te.Pos < body.End() {
				where = funcOf[fn]
			}
		}
		if where == "?" {
			t.Fatalf("type-check of views with the samples: %v\n%s", te, src.String())
		}
		problems = append(problems, fmt.Sprintf("%s: %s", where, te.Msg))
	}
	for _, p := range proses {
		body := bodies[p.fn]
		pos := body.Rbrace
		for _, name := range p.names {
			root, _, _ := strings.Cut(strings.TrimPrefix(name, "(*"), ".")
			root, _, _ = strings.Cut(root, ")")
			if _, shared := learnImports[root]; !shared && !vocabularyHas(root) {
				continue // a word of the prose, not a name of the code
			}
			if _, err := types.Eval(pkg.fset, pkg.types, pos, name); err != nil {
				problems = append(problems, fmt.Sprintf("%s: the comment names %s: %v", p.where, name, err))
			}
		}
	}
	return problems
}

// vocabularyHas reports whether learnVocabulary declares name.
func vocabularyHas(name string) bool {
	for _, line := range strings.Split(learnVocabulary, "\n") {
		names, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		for _, n := range strings.Split(names, ",") {
			if strings.TrimSpace(n) == name && name != "" {
				return true
			}
		}
	}
	return false
}

// splitComment cuts a sample at its // comment (outside string
// literals): the code before it and the comment's text.
func splitComment(s string) (code, comment string) {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote && (quote == '`' || i == 0 || s[i-1] != '\\') {
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

// isCall reports whether s is one Go call expression.
func isCall(s string) bool {
	x, err := parser.ParseExpr(s)
	if err != nil {
		return false
	}
	_, ok := x.(*ast.CallExpr)
	return ok
}

// goStatements turns a sample into Go statements: the sample itself when
// it is a statement list, else each of its comma-separated parts (s.Keys(),
// s.Items()). An expression that is not a call becomes an assignment to
// _, which is how Go lets it stand alone.
func goStatements(code string) ([]string, error) {
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
// source, a lone non-call expression assigned to _.
func parseStmts(code string) ([]string, error) {
	const head = "package p\nfunc _() {\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", head+code+"\n}\n", parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	src := head + code + "\n}\n"
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

// slicesOfValues returns m's values.
func slicesOfValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
