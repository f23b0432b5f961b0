package views

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestEveryPageHasItsCode: each page's lesson is the whole Go handler that
// serves it and the whole Django view it mirrors.
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
		if !strings.HasPrefix(l.Go, "// "+sp.goFunc+" ") || !strings.Contains(l.Go, "\nfunc (h *Handlers) "+sp.goFunc+"(c echo.Context) error {\n") || !strings.HasSuffix(l.Go, "\n}") {
			t.Errorf("%s: Go lesson is not the documented handler %s:\n%s", sp.path, sp.goFunc, l.Go)
		}
		if !strings.Contains(l.Django, "\ndef "+sp.pyFunc+"(request):\n") || strings.Count(l.Django, "\ndef ") != 1 {
			t.Errorf("%s: Django lesson is not exactly %s:\n%s", sp.path, sp.pyFunc, l.Django)
		}
		if !strings.HasPrefix(l.Django, "@require_") {
			t.Errorf("%s: Django lesson lost its decorator:\n%s", sp.path, l.Django)
		}
	}
}

func TestLoadLessonsRefusesUnknownNames(t *testing.T) {
	for _, sp := range []lessonSpec{
		{path: "/x", goFunc: "noSuchHandler", pyFunc: "home"},
		{path: "/x", goFunc: "home", pyFunc: "no_such_view"},
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
	funcs, err := goFuncs(fstest.MapFS{"a.go": {Data: []byte("package x\n\n// F does.\nfunc F() {}\n\nfunc (T) M() int { return 1 }\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := funcs["F"].src; got != "// F does.\nfunc F() {}" {
		t.Errorf("F: %q", got)
	}
	if got := funcs["M"]; got.src != "func (T) M() int { return 1 }" || got.file != "a.go" {
		t.Errorf("M: %+v", got)
	}
}
