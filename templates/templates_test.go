package templates_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/djangosessions/gosessions/templates"
)

func renderDoc(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, b.String()
}

func text(doc *goquery.Document, id string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="` + id + `"]`).First().Text())
}

const evil = `<script>alert(1)</script>`

func TestLayoutGreetsAndEscapes(t *testing.T) {
	p := templates.Page{
		Title: "T", Path: "/get", Username: evil, CSRFToken: `tok"en`,
		Session: templates.SessionView{
			ShortKey: "abcdefgh…", ExpiryAge: 60, ExpiryDate: "2030-01-01 00:00:00 UTC", BrowserClose: true, Modified: true,
			Items: []templates.Item{{Key: evil, Value: `"` + evil + `"`, Type: "string"}, {Key: "n", Value: "1", Type: "number"}},
		},
	}
	doc, html := renderDoc(t, templates.ResultPage(p, templates.Result{Message: evil, Action: "/set", Expiry: true}))
	if got := text(doc, "welcome"); got != "Welcome "+evil {
		t.Errorf("welcome %q", got)
	}
	if doc.Find("script").Length() != 0 || strings.Contains(html, "<script>") {
		t.Errorf("unescaped script:\n%s", html)
	}
	if got := text(doc, "message"); got != evil {
		t.Errorf("message %q", got)
	}
	if v, _ := doc.Find(`[data-testid="action-form"] input[name="csrfmiddlewaretoken"]`).Attr("value"); v != `tok"en` {
		t.Errorf("token attribute %q", v)
	}
	if doc.Find(`[data-testid="header-logout"]`).Length() != 1 {
		t.Error("no logout button in the header")
	}
	if doc.Find(`[data-testid="expiry"]`).Length() != 1 {
		t.Error("no expiry field")
	}
	if got := doc.Find(`nav a[aria-current="page"]`).Text(); got != "Get" {
		t.Errorf("current nav link %q", got)
	}
	for id, want := range map[string]string{
		"inspector-key":           "abcdefgh…",
		"inspector-expiry-age":    "1 minute (60 s)",
		"inspector-expiry-date":   "2030-01-01 00:00:00 UTC",
		"inspector-browser-close": "yes",
		"inspector-modified":      "yes",
	} {
		if got := text(doc, id); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	keys := doc.Find(`[data-testid="item-key"]`)
	if keys.Length() != 2 || keys.First().Text() != evil {
		t.Errorf("item keys %q", keys.Text())
	}
	if got := doc.Find(`[data-testid="item-value"]`).First().Text(); got != `"`+evil+`"` {
		t.Errorf("item value %q", got)
	}
}

func TestLayoutAnonymousWithoutToken(t *testing.T) {
	doc, _ := renderDoc(t, templates.ErrorPage(templates.Page{Title: "Page not found", Session: templates.SessionView{Unavailable: true}},
		templates.ErrorView{Status: 404, Title: "Page not found", Message: "There is no page at /x."}))
	if doc.Find(`[data-testid="welcome"]`).Length() != 0 || text(doc, "anonymous") != "Not logged in" {
		t.Error("anonymous header expected")
	}
	if doc.Find("form").Length() != 0 {
		t.Error("a page without a CSRF token renders a form")
	}
	if text(doc, "inspector-unavailable") == "" || doc.Find(`[data-testid="inspector-items"]`).Length() != 0 {
		t.Error("unavailable inspector expected")
	}
	if got := text(doc, "error-status"); got != "HTTP 404" {
		t.Errorf("status %q", got)
	}

	doc, _ = renderDoc(t, templates.ErrorPage(templates.Page{Title: "x", Username: "ada"}, templates.ErrorView{Status: 400}))
	if href, _ := doc.Find(`[data-testid="account"] a`).Attr("href"); href != "/logout" {
		t.Errorf("logged-in header without a token should link to /logout, got %q", href)
	}
}

func TestEmptyInspector(t *testing.T) {
	doc, _ := renderDoc(t, templates.Inspector(templates.SessionView{ExpiryAge: 1209600}))
	if text(doc, "inspector-empty") == "" || text(doc, "inspector-key") != "none stored" {
		t.Error("empty session not shown as empty")
	}
	doc, _ = renderDoc(t, templates.Inspector(templates.SessionView{Items: []templates.Item{{Key: "a", Value: "1", Type: "number"}}}))
	if got := text(doc, "inspector-key"); got != "new: chosen as this page is sent" {
		t.Errorf("a new session's key reads %q", got)
	}
}

func TestFormsKeepInputEscaped(t *testing.T) {
	p := templates.Page{Title: "x", CSRFToken: "t"}
	doc, html := renderDoc(t, templates.EditorPage(p, templates.EditorForm{Key: `"><b>k`, Value: evil, Expiry: "soon", Error: "Bad <b>", MaxKeyLen: 100}))
	if v, _ := doc.Find(`[data-testid="editor-key"]`).Attr("value"); v != `"><b>k` {
		t.Errorf("key value %q", v)
	}
	if v, _ := doc.Find(`[data-testid="editor-value"]`).Attr("value"); v != evil {
		t.Errorf("value %q", v)
	}
	if doc.Find("b").Length() != 0 || strings.Contains(html, "<script>") {
		t.Errorf("markup from input rendered:\n%s", html)
	}
	if got := text(doc, "form-error"); got != "Bad <b>" {
		t.Errorf("error %q", got)
	}
	doc, _ = renderDoc(t, templates.LoginPage(p, templates.LoginForm{Username: evil, MaxLen: 150}))
	if v, _ := doc.Find(`[data-testid="username"]`).Attr("value"); v != evil {
		t.Errorf("username %q", v)
	}
	if v, _ := doc.Find(`[data-testid="username"]`).Attr("maxlength"); v != "150" {
		t.Errorf("maxlength %q", v)
	}
}

func TestLessonShowsBothSides(t *testing.T) {
	django := "def set_session(request):\n    request.session.set_expiry(0)\n\n    pass"
	handler := "func (h *Handlers) set(c echo.Context) error {\n\treturn nil\n}"
	helper := "func (e expiryChange) apply(s *session.Session) {\n\ts.SetExpiryAt(e.at)\n}"
	l := templates.Lesson{
		Django: templates.NewCode("set_session in views.py", django),
		Go:     []templates.Code{templates.NewCode("(*Handlers).set", handler), templates.NewCode("expiryChange.apply", helper)},
	}
	doc, _ := renderDoc(t, templates.ResultPage(templates.Page{Title: "x"}, templates.Result{Lesson: l}))
	if got := doc.Find(`[data-testid="lesson-django"]`).Text(); got != django {
		t.Errorf("django %q", got)
	}
	goBlocks := doc.Find(`[data-testid="lesson-go"]`)
	if goBlocks.Length() != 2 || goBlocks.First().Text() != handler || goBlocks.Last().Text() != helper {
		t.Errorf("go blocks %q", goBlocks.Text())
	}
	if got := doc.Find(`.lesson figcaption`).Text(); got != "Django: set_session in views.pyGo: (*Handlers).setGo: expiryChange.apply" {
		t.Errorf("captions %q", got)
	}
	// One element per line, with the depth's hanging-indent class; a blank
	// line keeps its newline, so it keeps its height.
	var classes []string
	doc.Find(`[data-testid="lesson-django"] > span`).Each(func(_ int, s *goquery.Selection) {
		c, _ := s.Attr("class")
		classes = append(classes, c+"|"+s.Text())
	})
	want := []string{"ln d0|def set_session(request):\n", "ln d1|    request.session.set_expiry(0)\n", "ln d0|\n", "ln d1|    pass"}
	if strings.Join(classes, ",") != strings.Join(want, ",") {
		t.Errorf("lines %q, want %q", classes, want)
	}
	// Long runs may break after their dots and brackets, nowhere else:
	// set_session( | request):, request. | session. | set_expiry( | 0).
	if n := doc.Find(`[data-testid="lesson-django"] wbr`).Length(); n != 4 {
		t.Errorf("%d wbr, want 4", n)
	}
	doc, _ = renderDoc(t, templates.ResultPage(templates.Page{Title: "x"}, templates.Result{}))
	if doc.Find(`[data-testid="lesson"]`).Length() != 0 {
		t.Error("an empty lesson renders a panel")
	}
}

func TestNoInlineScriptOrStyle(t *testing.T) {
	p := templates.Page{Title: "x", Username: "ada", CSRFToken: "t", Session: templates.SessionView{Items: []templates.Item{{Key: "a_key_long_enough_to_wrap_after_underscores", Value: "1", Type: "number"}}}}
	l := templates.Lesson{Django: templates.NewCode("v", "def v(request):\n    request.session.flush()"), Go: []templates.Code{templates.NewCode("h", "func h() {\n\ts.Flush()\n}")}}
	for name, c := range map[string]templ.Component{
		"home":   templates.Home(p, []templates.Link{{Path: "/set", Label: "/set"}}, templates.EditorForm{}, l),
		"learn":  templates.LearnPage(p, []templates.LearnSection{{Title: "A", Rows: []templates.LearnRow{{Django: "d", Go: "g", Demo: "/set"}, {Django: "d", Go: "g", Note: "Not offered."}}}}, l),
		"logout": templates.LogoutPage(p, l),
		"login":  templates.LoginPage(p, templates.LoginForm{Error: "e", Lesson: l}),
		"editor": templates.EditorPage(p, templates.EditorForm{Error: "e", Lesson: l}),
		"result": templates.ResultPage(p, templates.Result{Message: "m", Action: "/set", Expiry: true, Lesson: l}),
		"error":  templates.ErrorPage(p, templates.ErrorView{Status: 404, Message: "m"}),
	} {
		doc, _ := renderDoc(t, c)
		if doc.Find("script, style, [style]").Length() != 0 {
			t.Errorf("%s: inline script or style", name)
		}
		doc.Find("*").Each(func(_ int, s *goquery.Selection) {
			for _, a := range s.Nodes[0].Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: event handler attribute %s", name, a.Key)
				}
			}
		})
	}
}

// TestPrerenderedLessonIsTheSame checks that a lesson rendered once
// (Lesson.Prerender) gives the page the same HTML as one rendered with
// the page, escaping included.
func TestPrerenderedLessonIsTheSame(t *testing.T) {
	l := templates.Lesson{
		Django: templates.NewCode("v in views.py", "def v(request):\n    request.session['x'] = '"+evil+"'"),
		Go:     []templates.Code{templates.NewCode("h", "func h() {\n\ts.Set(\"x\", `"+evil+"`)\n}")},
	}
	pre, err := l.Prerender(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	page := func(l templates.Lesson) string {
		_, html := renderDoc(t, templates.ResultPage(templates.Page{Title: "x"}, templates.Result{Lesson: l}))
		return html
	}
	if got, want := page(pre), page(l); got != want {
		t.Errorf("page with the prerendered lesson:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(page(pre), evil) {
		t.Error("the prerendered lesson is not escaped")
	}
	if again, err := pre.Prerender(t.Context()); err != nil || page(again) != page(l) {
		t.Errorf("prerendering twice changed the page (%v)", err)
	}
}

// TestPrerenderedNavIsTheSame checks that a page with the navigation
// rendered once (PrerenderNavs) is the page rendered whole, for every
// path the navigation links to, and that a Nav of another path is not
// used.
func TestPrerenderedNavIsTheSame(t *testing.T) {
	navs, err := templates.PrerenderNavs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(navs) < 10 {
		t.Fatalf("%d navigations prerendered", len(navs))
	}
	page := func(p templates.Page) string {
		_, html := renderDoc(t, templates.ResultPage(p, templates.Result{Message: "m"}))
		return html
	}
	for path, nav := range navs {
		want := page(templates.Page{Title: "t", Path: path})
		if got := page(templates.Page{Title: "t", Path: path, Nav: nav}); got != want {
			t.Errorf("%s: the prerendered navigation changes the page:\n%s\nwant:\n%s", path, got, want)
		}
	}
	want := page(templates.Page{Title: "t", Path: "/get"})
	if got := page(templates.Page{Title: "t", Path: "/get", Nav: navs["/set"]}); got != want {
		t.Error("a Nav of another path was used")
	}
}
