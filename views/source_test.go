package views

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestEveryPageHasItsCode: each page's lesson is the whole Go handler that
// serves it, then its helpers, and the whole Django view it mirrors.
func TestEveryPageHasItsCode(t *testing.T) {
	specs := lessonSpecs()
	lessons, err := loadLessons(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range demos() {
		if _, ok := lessons[d.path]; !ok {
			t.Errorf("demo %s has no lesson", d.path)
		}
	}
	for _, sp := range specs {
		l := lessons[sp.path]
		if len(l.Go) != len(sp.goFuncs) {
			t.Errorf("%s: %d Go blocks for %v", sp.path, len(l.Go), sp.goFuncs)
			continue
		}
		handlerName := strings.TrimPrefix(sp.goFuncs[0], "(*Handlers).")
		if src := l.Go[0].Source(); !strings.HasPrefix(src, "// "+handlerName+" ") || !strings.Contains(src, "\nfunc (h *Handlers) "+handlerName+"(c echo.Context) error {\n") || !strings.HasSuffix(src, "\n}") {
			t.Errorf("%s: first Go block is not the documented handler %s:\n%s", sp.path, sp.goFuncs[0], src)
		}
		for i, g := range l.Go {
			if !strings.HasPrefix(g.Name, sp.goFuncs[i]+" in views/") {
				t.Errorf("%s: Go block %d is named %q, want %s", sp.path, i, g.Name, sp.goFuncs[i])
			}
			if src := g.Source(); !strings.HasPrefix(src, "// ") || !strings.HasSuffix(src, "}") {
				t.Errorf("%s: %s is not a whole documented function:\n%s", sp.path, g.Name, src)
			}
		}
		py := l.Django.Source()
		if !strings.Contains(py, "\ndef "+sp.pyFunc+"(request):\n") || strings.Count(py, "\ndef ") != 1 {
			t.Errorf("%s: Django lesson is not exactly %s:\n%s", sp.path, sp.pyFunc, py)
		}
		if !strings.HasPrefix(py, "@require_") {
			t.Errorf("%s: Django lesson lost its decorator:\n%s", sp.path, py)
		}
	}
}

func TestLoadLessonsRefusesUnknownNames(t *testing.T) {
	for _, sp := range []lessonSpec{
		{path: "/x", goFuncs: []string{"(*Handlers).noSuchHandler"}, pyFunc: "home"},
		{path: "/x", goFuncs: []string{"(*Handlers).home", "noSuchHelper"}, pyFunc: "home"},
		{path: "/x", goFuncs: []string{"home"}, pyFunc: "home"}, // a method is not found by its bare name
		{path: "/x", goFuncs: nil, pyFunc: "home"},
		{path: "/x", goFuncs: []string{"(*Handlers).home"}, pyFunc: "no_such_view"},
	} {
		if _, err := loadLessons([]lessonSpec{sp}); err == nil {
			t.Errorf("%+v: no error", sp)
		}
	}
}

func TestPythonFunc(t *testing.T) {
	const module = `import x

# About a.
@decorator(1)
def a(request):
    if x:

        return 1
    return 2


def ab(request):
    pass
B = 1
`
	got, err := pythonFunc(module, "a")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# About a.\n@decorator(1)\ndef a(request):\n    if x:\n\n        return 1\n    return 2"; got != want {
		t.Errorf("a:\n%s\nwant:\n%s", got, want)
	}
	if got, _ := pythonFunc(module, "ab"); got != "def ab(request):\n    pass" {
		t.Errorf("ab: %q", got)
	}
}

func TestGoFuncsReportsParseErrors(t *testing.T) {
	if _, err := goFuncs(fstest.MapFS{"bad.go": {Data: []byte("package x\nfunc {")}}); err == nil {
		t.Error("no error for a file that does not parse")
	}
	funcs, err := goFuncs(fstest.MapFS{"a.go": {Data: []byte("package x\n\n// F does.\nfunc F() {}\n\nfunc (T) M() int { return 1 }\n\nfunc (p *T) M2() {}\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := funcs["F"].src; got != "// F does.\nfunc F() {}" {
		t.Errorf("F: %q", got)
	}
	if got := funcs["T.M"]; got.src != "func (T) M() int { return 1 }" || got.file != "a.go" {
		t.Errorf("T.M: %+v", got)
	}
	if got := funcs["(*T).M2"]; got.src != "func (p *T) M2() {}" {
		t.Errorf("(*T).M2: %+v", got)
	}
	if len(funcs) != 3 {
		t.Errorf("funcs %v", funcs)
	}
}
