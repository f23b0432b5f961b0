// The tests of this folder hold README.md and the pages beside them to
// the code: the Go they show compiles, and the settings, routes, make
// targets, Debian packages and links they name exist. Development.md
// ("Docs that cannot drift") lists them.
package docs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/types"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/docscheck"
	"github.com/djangosessions/gosessions/internal/learncheck"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

var update = flag.Bool("update", false, "rewrite the Go blocks of the Markdown from the files they copy")

// root is the repository, this folder's parent.
const root = ".."

func files(t *testing.T) []docscheck.File {
	t.Helper()
	fs, err := docscheck.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// goMarker is the comment above a Go block: the file it copies, and the
// region of it, if not the whole file.
var goMarker = regexp.MustCompile(`^go: ([\w./-]+\.go)(?:#([\w-]+))?$`)

// TestGoBlocksAreExamples: every Go block of the docs is a copy of a Go
// file of the module (or of a region of one), which go vet compiles and
// the file's own tests run; every fence names its language. With -update
// the blocks are rewritten from the files.
func TestGoBlocksAreExamples(t *testing.T) {
	for _, f := range files(t) {
		fences, err := f.Fences()
		if err != nil {
			t.Error(err)
			continue
		}
		lines := f.Lines
		changed := false
		// From the last block up, so that rewriting keeps the line numbers
		// of the blocks before it.
		for i := len(fences) - 1; i >= 0; i-- {
			fe := fences[i]
			switch fe.Lang {
			case "":
				t.Errorf("%s:%d: a fence without a language: mark it (go, sh, console, text, json...)", f.Path, fe.Line)
				continue
			case "go":
			case "golang", "Go":
				t.Errorf("%s:%d: mark Go blocks go", f.Path, fe.Line)
				continue
			default:
				continue
			}
			m := goMarker.FindStringSubmatch(fe.Marker)
			if m == nil {
				t.Errorf("%s:%d: a Go block needs a <!-- go: PATH --> or <!-- go: PATH#REGION --> line above it, naming the file it copies (got %q)", f.Path, fe.Line, fe.Marker)
				continue
			}
			want, err := example(root, m[1], m[2])
			if err != nil {
				t.Errorf("%s:%d: %v", f.Path, fe.Line, err)
				continue
			}
			if fe.Body == want {
				continue
			}
			if *update {
				body := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
				lines = slices.Concat(lines[:fe.Line], body, lines[fe.End-1:])
				changed = true
				continue
			}
			t.Errorf("%s:%d: the Go block differs from %s (go test ./docs -update copies the file):\n%s", f.Path, fe.Line, fe.Marker, firstDifference(fe.Body, want))
		}
		if changed {
			if err := os.WriteFile(filepath.Join(root, f.Path), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: rewrote its Go blocks", f.Path)
		}
	}
}

// example returns the file at path (relative to the repository dir), or
// its region name: the lines between "//docs:begin name" and "//docs:end
// name", without their common indentation.
func example(dir, path, region string) (string, error) {
	if strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
		return "", fmt.Errorf("%s: name a file of the repository", path)
	}
	b, err := os.ReadFile(filepath.Join(dir, path))
	if err != nil {
		return "", err
	}
	if region == "" {
		return string(b), nil
	}
	var out []string
	in, found := false, false
	for _, line := range strings.Split(string(b), "\n") {
		switch strings.TrimSpace(line) {
		case "//docs:begin " + region:
			in, found = true, true
			continue
		case "//docs:end " + region:
			in = false
			continue
		}
		if in {
			out = append(out, line)
		}
	}
	if !found {
		return "", fmt.Errorf("%s has no //docs:begin %s", path, region)
	}
	indent := ""
	for i, line := range out {
		if strings.TrimSpace(line) == "" {
			continue
		}
		lead := line[:len(line)-len(strings.TrimLeft(line, "\t"))]
		if i == 0 || len(lead) < len(indent) {
			indent = lead
		}
	}
	for i := range out {
		out[i] = strings.TrimPrefix(out[i], indent)
	}
	return strings.Join(out, "\n") + "\n", nil
}

// TestExampleRegion: a region of a file is its lines between the
// markers, without their common indentation; a missing region is an error.
func TestExampleRegion(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nfunc f() {\n\t//docs:begin call\n\tif true {\n\t\tg()\n\t}\n\t//docs:end call\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := example(dir, "p.go", "call")
	if err != nil || got != "if true {\n\tg()\n}\n" {
		t.Errorf("region: %q, %v", got, err)
	}
	if got, err := example(dir, "p.go", ""); err != nil || got != src {
		t.Errorf("whole file: %q, %v", got, err)
	}
	if _, err := example(dir, "p.go", "nothing"); err == nil {
		t.Error("a missing region is no error")
	}
	if _, err := example(dir, "../p.go", ""); err == nil {
		t.Error("a path out of the repository is no error")
	}
}

// firstDifference shows where got and want part.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d of the block:\n  docs: %q\n  file: %q", i+1, gl, wl)
		}
	}
	return ""
}

// TestLinks: every relative link and image of the docs names a file or
// folder that exists, and every #anchor a heading of its page.
func TestLinks(t *testing.T) {
	fs := files(t)
	anchors := map[string]map[string]bool{}
	for _, f := range fs {
		anchors[f.Path] = f.Anchors()
	}
	for _, f := range fs {
		for _, l := range f.Links() {
			target := l.Target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			file := f.Path
			if path != "" {
				file = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(f.Path), path)))
				if strings.HasPrefix(file, "../") {
					t.Errorf("%s:%d: %s leaves the repository", f.Path, l.Line, target)
					continue
				}
				if _, err := os.Stat(filepath.Join(root, file)); err != nil {
					t.Errorf("%s:%d: %s: no such file", f.Path, l.Line, target)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			a, ok := anchors[file]
			if !ok {
				t.Errorf("%s:%d: %s: an anchor into a file that is not one of the docs' pages", f.Path, l.Line, target)
				continue
			}
			if !a[anchor] {
				t.Errorf("%s:%d: %s: %s has no heading with that anchor", f.Path, l.Line, target, file)
			}
		}
	}
}

// makeTarget is a rule of the Makefile.
var makeTarget = regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):([^=]|$)`)

// TestMakeTargets: every make target the docs name is one of the
// Makefile's, and the Debian packages the docs list are the Makefile's
// DEB_PKGS.
func TestMakeTargets(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range makeTarget.FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	if len(targets) < 10 {
		t.Fatalf("only %d targets found in the Makefile: %v", len(targets), targets)
	}
	named := 0
	for _, f := range files(t) {
		cmds, err := f.Commands()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			for _, target := range makeTargetsOf(c.Text) {
				named++
				if !targets[target] {
					t.Errorf("%s:%d: make %s: the Makefile has no such target", f.Path, c.Line, target)
				}
			}
		}
	}
	if named < 5 {
		t.Errorf("the docs name only %d make targets: is the parsing broken?", named)
	}

	m := regexp.MustCompile(`(?m)^DEB_PKGS\s*:?=\s*(.*)$`).FindStringSubmatch(string(mk))
	if m == nil {
		t.Fatal("no DEB_PKGS in the Makefile")
	}
	want := strings.Fields(m[1])
	sort.Strings(want)
	lists := 0
	for _, f := range files(t) {
		for _, sentence := range sentencesWith(f, "`DEB_PKGS`") {
			lists++
			var got []string
			for _, span := range docscheck.CodeSpans(sentence) {
				if span != "DEB_PKGS" && !strings.HasPrefix(span, "make ") && span != "apt-get" {
					got = append(got, span)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: the Debian packages listed beside DEB_PKGS are %v; the Makefile's are %v", f.Path, got, want)
			}
		}
	}
	if lists == 0 {
		t.Error("no page lists the Debian packages beside `DEB_PKGS`")
	}
}

// makeTargetsOf returns the targets of each make command in a command
// line: "make test", "SESSION_ENGINE=cache make bench BENCHFLAGS=...",
// "make race unit fuzz".
func makeTargetsOf(line string) []string {
	words := docscheck.Words(line)
	var out []string
	for i, w := range words {
		if w != "make" {
			continue
		}
		if i > 0 && !strings.Contains(words[i-1], "=") && !slices.Contains([]string{"|", "&&", ";", "||", "$"}, words[i-1]) {
			continue // "make" as a word of prose
		}
		for _, next := range words[i+1:] {
			if strings.Contains(next, "=") {
				continue // a variable: make bench BENCHFLAGS=...
			}
			if !regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(next) {
				break
			}
			out = append(out, next)
		}
	}
	return out
}

// sentencesWith returns the sentences of f's paragraphs that contain s.
func sentencesWith(f docscheck.File, s string) []string {
	var out []string
	for _, p := range f.Paragraphs() {
		for _, sentence := range regexp.MustCompile(`\.\s+`).Split(p.Text, -1) {
			if strings.Contains(sentence, s) {
				out = append(out, sentence)
			}
		}
	}
	return out
}

// settingName is a setting's name in a code span: upper case, perhaps
// with a value (`SESSION_COOKIE_SECURE=True`).
var settingName = regexp.MustCompile(`^([A-Z][A-Z0-9_]*[A-Z0-9])(=.*)?$`)

// TestSettingsTable: the docs' settings table lists exactly the settings
// app.LoadConfig reads, each with its flag and default; and every setting
// the operator contract (../shared/contract.md, or the file
// TEST_CONTRACT_MD names) names, when that file is there, is one the site
// reads.
func TestSettingsTable(t *testing.T) {
	tables := docscheck.TableWithHeader(files(t), "variable", "flag", "meaning", "default")
	if len(tables) != 1 {
		t.Fatalf("%d tables of settings (| variable | flag | meaning | default |) in the docs: want one", len(tables))
	}
	code, defaults := map[string]string{}, map[string]string{}
	for _, s := range app.Settings() {
		code[s.Env], defaults[s.Env] = s.Flag, s.Default
	}
	docs := map[string]bool{}
	for _, row := range tables[0].Rows {
		spans := docscheck.CodeSpans(row[0])
		if len(spans) != 1 {
			t.Errorf("settings table: row %q: want one `NAME` in the first cell", row[0])
			continue
		}
		name := spans[0]
		docs[name] = true
		flagName, ok := code[name]
		if !ok {
			t.Errorf("settings table: %s: app.LoadConfig reads no such setting", name)
			continue
		}
		wantFlag := "—"
		if flagName != "" {
			wantFlag = "`-" + flagName + "`"
		}
		if len(row) < 4 {
			t.Errorf("settings table: %s: %d cells", name, len(row))
			continue
		}
		if row[1] != wantFlag {
			t.Errorf("settings table: %s: flag %q, want %s", name, row[1], wantFlag)
		}
		// A default written as code is the code's own (prose such as
		// "none" or "see below" is not checked).
		if d := docscheck.CodeSpans(row[3]); len(d) == 1 && d[0] == row[3][1:len(row[3])-1] && d[0] != defaults[name] {
			t.Errorf("settings table: %s: default %s, app.LoadConfig's is %q", name, row[3], defaults[name])
		}
	}
	for _, s := range app.Settings() {
		if !docs[s.Env] {
			t.Errorf("settings table: %s, which app.LoadConfig reads, is missing", s.Env)
		}
	}

	contract := os.Getenv("TEST_CONTRACT_MD")
	if contract == "" {
		contract = filepath.Join(root, "..", "shared", "contract.md")
	}
	b, err := os.ReadFile(contract)
	if os.IsNotExist(err) {
		t.Skipf("no operator contract at %s: the table was checked against the code only", contract)
	}
	if err != nil {
		t.Fatal(err)
	}
	agreed := contractSettings(string(b))
	if len(agreed) < 20 {
		t.Fatalf("only %d settings found in %s's operator contract", len(agreed), contract)
	}
	// The contract is the floor: every setting it names must be read by
	// the site. Settings the site reads beyond it are this project's own
	// (documented in the table above, which the code already checked).
	var pending, extra []string
	for name := range agreed {
		if _, ok := code[name]; !ok {
			pending = append(pending, name)
		}
	}
	for name := range docs {
		if !agreed[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(pending)
	sort.Strings(extra)
	if len(pending) > 0 {
		t.Errorf("settings the operator contract (%s) names that app.LoadConfig does not read: %v", contract, pending)
	}
	if len(extra) > 0 {
		t.Logf("settings beyond the operator contract, documented here only: %v", extra)
	}
}

// contractSettings returns the setting names of the operator contract:
// every upper-case name in a code span of its "Operator contract"
// section (of a table, in its first column), before its manage section.
func contractSettings(md string) map[string]bool {
	out := map[string]bool{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(md))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# Operator contract"):
			in = true
			continue
		case strings.HasPrefix(line, "#") && in:
			if strings.HasPrefix(line, "# ") || strings.Contains(line, "manage") {
				in = false
			}
		}
		if !in {
			continue
		}
		if strings.HasPrefix(line, "|") {
			// A table row names its settings in its first cell; the
			// others describe them (Django's `MAX_ENTRIES`).
			cells := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)
			line = cells[0]
		}
		for _, span := range docscheck.CodeSpans(line) {
			if m := settingName.FindStringSubmatch(span); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
}

// TestRoutesTable: the routes table of the tour is the site's routes,
// path and methods, both ways (a path's trailing-slash twin counts as
// itself); every other site path the docs mention is a route; and the
// JSON of /api/session the docs show has the keys the site sends.
func TestRoutesTable(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.OpenURL(ctx, "sqlite:"+filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	cfg := app.DefaultConfig()
	cfg.SecretKey = "docs-test-key"
	cfg.Metrics, cfg.BenchRoutes = true, true // every optional route
	e, closeSite, err := app.New(cfg, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })

	routes := map[string][]string{} // path -> methods other than HEAD
	for _, r := range e.Routes() {
		if r.Method != http.MethodHead && !slices.Contains(routes[r.Path], r.Method) {
			routes[r.Path] = append(routes[r.Path], r.Method)
		}
	}
	twin := func(p string) string {
		if strings.HasSuffix(p, "/") && p != "/" {
			return strings.TrimSuffix(p, "/")
		}
		return p + "/"
	}
	isRoute := func(p string) bool {
		_, ok := routes[p]
		return ok
	}

	fs := files(t)
	tables := docscheck.TableWithHeader(fs, "route", "methods")
	if len(tables) != 1 {
		t.Fatalf("%d routes tables (| route | methods | ...) in the docs: want one", len(tables))
	}
	documented := map[string]bool{}
	for _, row := range tables[0].Rows {
		spans := docscheck.CodeSpans(row[0])
		if len(spans) != 1 {
			t.Errorf("routes table: row %q: want one `PATH`", row[0])
			continue
		}
		p := spans[0]
		documented[p] = true
		if !isRoute(p) {
			t.Errorf("routes table: %s: the site has no such route", p)
			continue
		}
		want := slices.Clone(routes[p])
		sort.Strings(want)
		got := strings.Split(strings.ReplaceAll(row[1], " ", ""), ",")
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("routes table: %s: methods %v, the site's %v", p, got, want)
		}
	}
	for p := range routes {
		if !documented[p] && !documented[twin(p)] {
			t.Errorf("routes table: the site's %s %v is missing", p, routes[p])
		}
	}

	// Every other path the pages mention, in code or in a link to the
	// running site.
	sitePath := regexp.MustCompile(`^(?:http://127\.0\.0\.1:8000)?(/[a-z][a-z0-9_./:-]*|/)(?:\?.*)?$`)
	notSite := regexp.MustCompile(`^/(usr|proc|tmp|etc|dev|var|work|bin|home|root)(/|$)|\.(go|md|png|py|sql|json)$`)
	for _, f := range fs {
		for _, para := range f.Paragraphs() {
			for _, span := range docscheck.CodeSpans(para.Text) {
				for _, word := range strings.Fields(span) {
					m := sitePath.FindStringSubmatch(word)
					if m == nil || notSite.MatchString(m[1]) {
						continue
					}
					if p := m[1]; !isRoute(p) && !isRoute(twin(p)) && !isPrefix(routes, p) {
						t.Errorf("%s:%d: %s: the site has no such route", f.Path, para.Line, word)
					}
				}
			}
		}
	}

	// The JSON of /api/session, as the pages show it.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/session", nil))
	var live map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &live); err != nil {
		t.Fatalf("/api/session: %v: %s", err, rec.Body)
	}
	shown := 0
	for _, f := range fs {
		fences, err := f.Fences()
		if err != nil {
			t.Fatal(err)
		}
		for _, fe := range fences {
			for _, line := range strings.Split(fe.Body, "\n") {
				var doc map[string]any
				if json.Unmarshal([]byte(strings.TrimSpace(line)), &doc) != nil {
					continue
				}
				if _, ok := doc["expiry_age"]; !ok {
					continue
				}
				shown++
				if got, want := keys(doc), keys(live); !slices.Equal(got, want) {
					t.Errorf("%s:%d: /api/session shown with the keys %v; the site sends %v", f.Path, fe.Line, got, want)
				}
			}
		}
	}
	if shown == 0 {
		t.Error("no page shows the JSON of /api/session")
	}
}

// isPrefix reports whether p, ending in a slash, starts some route (a
// family of them: /accounts/, /baseline/).
func isPrefix(routes map[string][]string, p string) bool {
	if !strings.HasSuffix(p, "/") || p == "/" {
		return false
	}
	for r := range routes {
		if strings.HasPrefix(r, p) {
			return true
		}
	}
	return false
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// docPackages are the packages the docs name in code, by the name they
// use.
var docPackages = map[string]string{
	"app":          "github.com/djangosessions/gosessions/app",
	"auth":         "github.com/djangosessions/gosessions/app/auth",
	"database":     "github.com/djangosessions/gosessions/app/database",
	"either":       "github.com/djangosessions/gosessions/app/database/either",
	"engine":       "github.com/djangosessions/gosessions/app/engine",
	"messages":     "github.com/djangosessions/gosessions/app/messages",
	"session":      "github.com/djangosessions/gosessions/app/session",
	"dbstore":      "github.com/djangosessions/gosessions/app/session/dbstore",
	"memstore":     "github.com/djangosessions/gosessions/app/session/memstore",
	"redisstore":   "github.com/djangosessions/gosessions/app/session/redisstore",
	"sessiontest":  "github.com/djangosessions/gosessions/app/session/sessiontest",
	"signing":      "github.com/djangosessions/gosessions/app/signing",
	"usersessions": "github.com/djangosessions/gosessions/app/usersessions",
	"migrations":   "github.com/djangosessions/gosessions/migrations",
	"models":       "github.com/djangosessions/gosessions/models",
}

// docName is a name of one of docPackages in the docs' code: pkg.Name,
// pkg.Type.Field or .Method, (*pkg.Type).Method or pkg.(*Type).Method.
var docName = regexp.MustCompile(`\(\*([a-z]+)\.([A-Z]\w*)\)((?:\.\w+)+)|\b([a-z]+)\.\(\*([A-Z]\w*)\)((?:\.\w+)+)|\b([a-z]+)\.([A-Z]\w*)((?:\.[A-Z]\w*)*)`)

// TestDocsNamesExist: every name of the project's packages that the docs
// show in code (`dbstore.New`, `session.Manager.Stats`,
// `auth.Config.MaxHashing`, `(*redisstore.Store).Each`) exists: the
// package has it, and the type has each field or method that follows.
func TestDocsNamesExist(t *testing.T) {
	var src strings.Builder
	src.WriteString("package docnames\n\nimport (\n")
	var paths []string
	for name, path := range docPackages {
		fmt.Fprintf(&src, "\t%s %q\n", name, path)
		paths = append(paths, path)
	}
	src.WriteString(")\n")
	pkg, _, err := learncheck.TypeCheck("", "", "docnames.go", src.String(), paths...)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]*types.Package{}
	for _, p := range pkg.Types.Imports() {
		for name, path := range docPackages {
			if p.Path() == path {
				pkgs[name] = p
			}
		}
	}
	if len(pkgs) != len(docPackages) {
		t.Fatalf("loaded %d of the %d packages", len(pkgs), len(docPackages))
	}
	checked := 0
	for _, f := range files(t) {
		var spans []docscheck.Command
		for _, p := range f.Paragraphs() {
			for _, s := range docscheck.CodeSpans(p.Text) {
				spans = append(spans, docscheck.Command{Text: s, Line: p.Line})
			}
		}
		for _, span := range spans {
			for _, m := range docName.FindAllStringSubmatch(span.Text, -1) {
				root, first, rest := m[1]+m[4]+m[7], m[2]+m[5]+m[8], m[3]+m[6]+m[9]
				p, ok := pkgs[root]
				if !ok {
					continue // not a package of the project: request.session.get
				}
				checked++
				if err := resolve(p, first, strings.Split(strings.TrimPrefix(rest, "."), ".")); err != nil {
					t.Errorf("%s:%d: %s: %v", f.Path, span.Line, m[0], err)
				}
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d names checked: is the parsing broken?", checked)
	}
}

// resolve finds first in p, then each of sels as a field or method of
// what it names.
func resolve(p *types.Package, first string, sels []string) error {
	obj := p.Scope().Lookup(first)
	if obj == nil {
		return fmt.Errorf("package %s has no %s", p.Name(), first)
	}
	typ := obj.Type()
	for _, sel := range sels {
		if sel == "" {
			continue
		}
		if _, isFunc := obj.(*types.Func); isFunc {
			return fmt.Errorf("%s is a function, with no %s", obj.Name(), sel)
		}
		next, _, _ := types.LookupFieldOrMethod(typ, true, p, sel)
		if next == nil {
			return fmt.Errorf("%s has no field or method %s", typ, sel)
		}
		obj, typ = next, next.Type()
	}
	return nil
}

// TestDocsNameRealTests: every test function README.md and the pages name
// (`TestX`, or `pkg.TestX`) exists in the repository, so a page that says
// "tested by TestX" cannot outlive the test.
func TestDocsNameRealTests(t *testing.T) {
	files, err := docscheck.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := docscheck.TestFuncs(root)
	if err != nil {
		t.Fatal(err)
	}
	// Names of the package API that start with Test (Session's
	// TestCookieWorked) are not tests.
	api := map[string]bool{}
	src, err := filepath.Glob(filepath.Join(root, "app", "session", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range src {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^func \([^)]*\) (Test\w+)\(`).FindAllStringSubmatch(string(b), -1) {
			api[m[1]] = true
		}
	}
	name := regexp.MustCompile(`\bTest[A-Z]\w*`)
	named := 0
	for _, f := range files {
		for i, line := range f.Lines {
			for _, span := range docscheck.CodeSpans(line) {
				for _, n := range name.FindAllString(span, -1) {
					named++
					if !tests[n] && !api[n] {
						t.Errorf("%s:%d names %s, which is no test function of the repository", f.Path, i+1, n)
					}
				}
			}
		}
	}
	if named < 50 {
		t.Errorf("the docs name %d tests: is CodeSpans broken?", named)
	}
}
