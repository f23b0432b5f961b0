package views_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
)

// TestEscaping stores <script> in keys, values and the username and checks
// that every page shows them as text: no script element, no raw markup.
func TestEscaping(t *testing.T) {
	s := newSite(t)
	const evil = `<script>alert(1)</script>`
	wantStatus(t, s.post("/session", url.Values{"key": {evil}, "value": {evil}}), http.StatusSeeOther)
	wantStatus(t, s.post("/session", url.Values{"key": {"attr"}, "value": {`"><img src=x onerror=alert(1)>`}}), http.StatusSeeOther)
	wantStatus(t, s.post("/login", url.Values{"username": {evil}}), http.StatusSeeOther)
	for _, p := range []string{"/", "/get", "/learn", "/session", "/login", "/logout", "/nowhere"} {
		r := s.get(p)
		if n := r.doc.Find("script").Length(); n != 0 {
			t.Errorf("%s: %d script elements", p, n)
		}
		if n := r.doc.Find("img").Length(); n != 0 {
			t.Errorf("%s: %d img elements", p, n)
		}
		if strings.Contains(r.body, "<script>") {
			t.Errorf("%s: raw <script> in the body", p)
		}
		if got := r.text("welcome"); got != "Welcome "+evil {
			t.Errorf("%s: header %q", p, got)
		}
		if !strings.Contains(r.body, "&lt;script&gt;") {
			t.Errorf("%s: escaped <script> missing", p)
		}
	}
	home := s.get("/")
	found := false
	home.doc.Find(`[data-testid="inspector-item"]`).Each(func(_ int, row *goquery.Selection) {
		if row.Find(`[data-testid="item-key"]`).Text() == evil {
			found = true
			if got := row.Find(`[data-testid="item-value"]`).Text(); got != `"`+evil+`"` {
				t.Errorf("inspector value %q", got)
			}
		}
	})
	if !found {
		t.Error("the inspector does not list the <script> key as text")
	}
	if got := s.get("/get").message(); got != "User: "+evil+", Role: none, Logins: 0" {
		t.Errorf("/get %q", got)
	}
}

func TestInspector(t *testing.T) {
	s := newSite(t)
	r := s.get("/")
	if r.text("inspector-empty") == "" || r.text("inspector-key") != "none stored" {
		t.Errorf("fresh inspector: key %q, empty %q", r.text("inspector-key"), r.text("inspector-empty"))
	}
	if got := r.text("inspector-expiry-age"); got != "14 days (1209600 s)" {
		t.Errorf("default expiry age %q", got)
	}
	if got := r.text("inspector-cookie-age"); got != "14 days (1209600 s)" {
		t.Errorf("cookie age %q", got)
	}
	wantStatus(t, s.get("/set?expiry=300"), http.StatusOK)
	wantStatus(t, s.post("/session", url.Values{"key": {"list"}, "value": {`[1,true,null]`}}), http.StatusSeeOther)
	r = s.get("/")
	key := s.cookie("sessionid")
	if got, want := r.text("inspector-key"), key[:8]+"…"; got != want {
		t.Errorf("short key %q, want %q", got, want)
	}
	if strings.Contains(r.body, key) {
		t.Error("the page shows the whole session key")
	}
	if got := r.text("inspector-expiry-age"); got != "5 minutes (300 s)" {
		t.Errorf("expiry age %q", got)
	}
	if got := r.text("inspector-cookie-age"); got != "14 days (1209600 s)" {
		t.Errorf("cookie age %q: get_session_cookie_age() is the setting, not the session's expiry", got)
	}
	if got, want := r.text("inspector-expiry-date"), s.clock.Now().Add(300*time.Second).Format("2006-01-02 15:04:05 UTC"); got != want {
		t.Errorf("expiry date %q, want %q", got, want)
	}
	if got := r.text("inspector-browser-close"); got != "no" {
		t.Errorf("browser close %q", got)
	}
	want := map[string][2]string{
		"_session_expiry": {"300", "number"},
		"list":            {"[1,true,null]", "array"},
		"login_count":     {"1", "number"},
		"role":            {`"admin"`, "string"},
		"username":        {`"harun_dev"`, "string"},
	}
	got := map[string][2]string{}
	r.doc.Find(`[data-testid="inspector-item"]`).Each(func(_ int, row *goquery.Selection) {
		got[row.Find(`[data-testid="item-key"]`).Text()] = [2]string{row.Find(`[data-testid="item-value"]`).Text(), row.Find(`[data-testid="item-type"]`).Text()}
	})
	if len(got) != len(want) {
		t.Errorf("inspector items %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("inspector %s: %v, want %v", k, got[k], w)
		}
	}
	// Every page has the inspector and the navigation.
	for _, p := range []string{"/", "/set", "/get", "/delete", "/pop", "/clear", "/flush", "/visits", "/testcookie", "/login", "/logout", "/session", "/learn", "/missing"} {
		r := s.get(p)
		if r.doc.Find(`[data-testid="inspector"]`).Length() != 1 {
			t.Errorf("%s: no inspector", p)
		}
	}
}

func TestHomeLinksEveryDemo(t *testing.T) {
	s := newSite(t)
	r := s.get("/")
	wantStatus(t, r, http.StatusOK)
	links := map[string]bool{}
	r.doc.Find(`[data-testid="demos"] a`).Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		links[href] = true
	})
	for _, p := range []string{"/set", "/get", "/delete", "/pop", "/clear", "/flush", "/visits", "/testcookie", "/login", "/logout", "/session", "/api/session", "/learn"} {
		if !links[p] {
			t.Errorf("home has no link to %s", p)
		}
	}
	if r.doc.Find(`form[action="/session"] input[name="value"]`).Length() != 1 {
		t.Error("home has no editor")
	}
}

// TestLessons: every page shows the Django view beside the real source of
// the Go handler that served it.
func TestLessons(t *testing.T) {
	s := newSite(t)
	wantStatus(t, s.get("/set"), http.StatusOK)
	for _, tc := range []struct{ path, goFunc, pyFunc, goLine string }{
		{"/", "home", "home", "for _, k := range s.Keys() {"},
		{"/set", "set", "set_session", `s.Incr("login_count", 1)`},
		{"/get", "get", "get_session", `s.Get("username", "Guest")`},
		{"/delete", "delete", "delete_session", `session.From(c).Delete("username")`},
		{"/pop", "pop", "pop_session", `session.From(c).Pop("role", nil)`},
		{"/clear", "clear", "clear_session", `session.From(c).Clear()`},
		{"/flush", "flush", "flush_session", `session.From(c).Flush()`},
		{"/visits", "visits", "visits", `s.Save()`},
		{"/testcookie", "testCookie", "test_cookie", `s.TestCookieWorked()`},
		{"/login", "login", "login_view", "csrf.Rotate(c.Response(), c.Request())"},
		{"/logout", "logout", "logout_view", `session.From(c).Flush()`},
		{"/session", "editorSave", "session_editor", `s.SetExpiryAt(e.at)`},
		{"/learn", "apiSession", "api_session", `h.Sessions.Open(c.Request().Context(), key)`},
	} {
		r := s.get(tc.path)
		goSrc := r.doc.Find(`[data-testid="lesson-go"]`).Text()
		pySrc := r.doc.Find(`[data-testid="lesson-django"]`).Text()
		if !strings.Contains(goSrc, "func (h *Handlers) "+tc.goFunc+"(c echo.Context) error {") || !strings.Contains(goSrc, tc.goLine) {
			t.Errorf("%s: Go panel is not the %s handler:\n%s", tc.path, tc.goFunc, goSrc)
		}
		if !strings.HasSuffix(goSrc, "\n}") {
			t.Errorf("%s: Go panel is not a whole function:\n%s", tc.path, goSrc)
		}
		if !regexp.MustCompile(`(?m)^def ` + tc.pyFunc + `\(request\):$`).MatchString(pySrc) {
			t.Errorf("%s: Django panel is not %s:\n%s", tc.path, tc.pyFunc, pySrc)
		}
		if strings.Contains(pySrc, "\ndef ") && strings.Count(pySrc, "def ") > 1 {
			t.Errorf("%s: Django panel holds more than one view:\n%s", tc.path, pySrc)
		}
	}
}

// TestLearn: the table names every Django session API and setting, and
// each row links to a page that answers, or says it is not offered.
func TestLearn(t *testing.T) {
	s := newSite(t)
	r := s.get("/learn")
	wantStatus(t, r, http.StatusOK)
	table := r.doc.Find(`[data-testid="learn-table"]`).Text()
	for _, name := range []string{
		"request.session[key] = value", ".get(key, default)", "del request.session[key]", ".pop(key, default)",
		".setdefault(", ".update(", "key in request.session", ".keys()", ".items()", ".clear()", ".flush()",
		".cycle_key()", ".set_expiry(300)", ".set_expiry(0)", ".set_expiry(datetime)", ".set_expiry(None)",
		".get_expiry_age()", ".get_expiry_date()", ".get_expire_at_browser_close()", ".session_key", ".is_empty()",
		".modified", ".accessed", ".save()", "SessionStore(session_key=key)", "SessionInterrupted",
		".set_test_cookie()", ".test_cookie_worked()", ".delete_test_cookie()", ".clear_expired()", ".get_session_cookie_age()",
		"rotate_token(request)", "s.CycleKey(); s.Set(\"username\", name); csrf.Rotate(c.Response(), c.Request())",
		"{% csrf_token %}", "CSRF_COOKIE_NAME", "CSRF_USE_SESSIONS", "CSRF_TRUSTED_ORIGINS", "CsrfViewMiddleware",
		"SESSION_ENGINE", "SESSION_COOKIE_NAME", "SESSION_COOKIE_AGE", "SESSION_COOKIE_DOMAIN", "SESSION_COOKIE_PATH",
		"SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_EXPIRE_AT_BROWSER_CLOSE",
		"SESSION_SAVE_EVERY_REQUEST", "SESSION_SERIALIZER", "SESSION_FILE_PATH", "SESSION_CACHE_ALIAS", "clearsessions",
		"store.ClearExpired(ctx, dbstore.ClearOptions{})", "s.CookieAge()", "s.SetTestCookie()", "s.TestCookieWorked()", "s.DeleteTestCookie()",
		`backends.db"`, `backends.cached_db"`, `backends.cache"`, `backends.signed_cookies"`, `backends.file"`,
		"dbstore.New(db, dbstore.WithCache(cfg.SessionCacheSize))",
	} {
		if !strings.Contains(table, name) {
			t.Errorf("/learn does not map %s", name)
		}
	}
	rows := r.doc.Find(`[data-testid="learn-row"]`)
	if rows.Length() < 50 {
		t.Errorf("%d rows", rows.Length())
	}
	rows.Each(func(i int, row *goquery.Selection) {
		href, ok := row.Find(`a[data-testid="learn-demo"]`).Attr("href")
		if !ok {
			if note := row.Find(`[data-testid="learn-note"]`).Text(); !strings.HasPrefix(note, "Not offered") {
				t.Errorf("row %d (%s) has no demo link and does not say it is not offered: %q", i, row.Find("td").First().Text(), note)
			}
			return
		}
		if got := s.get(href).StatusCode; got != http.StatusOK {
			t.Errorf("row %d: %s answers %d", i, href, got)
		}
	})
}

// TestLearnEngines: each engine row of /learn tells the truth about the
// running site: an engine the row calls not offered is refused by app.New,
// and any other starts a site.
func TestLearnEngines(t *testing.T) {
	s := newSite(t)
	r := s.get("/learn")
	re := regexp.MustCompile(`^SESSION_ENGINE = "django\.contrib\.sessions\.backends\.([a-z_]+)"$`)
	seen := map[string]bool{}
	r.doc.Find(`[data-testid="learn-row"]`).Each(func(_ int, row *goquery.Selection) {
		m := re.FindStringSubmatch(row.Find("td").First().Text())
		if m == nil {
			return
		}
		name := m[1]
		seen[name] = true
		notOffered := strings.HasPrefix(row.Find(`[data-testid="learn-note"]`).Text(), "Not offered")
		cfg := app.DefaultConfig()
		cfg.SecretKey = "test-secret-key-for-the-views-tests"
		cfg.SessionEngine = engine.Name(name)
		_, closeSite, err := app.New(cfg, dbtest.SQLite(t), s.logger())
		if err == nil {
			closeSite()
		}
		switch {
		case notOffered && err == nil:
			t.Errorf("/learn says %s is not offered, but the site starts with it", name)
		case !notOffered && err != nil:
			t.Errorf("/learn offers %s, but the site refuses it: %v", name, err)
		}
	})
	for _, e := range []string{"db", "cached_db", "cache", "signed_cookies", "file"} {
		if !seen[e] {
			t.Errorf("/learn has no row for the %s engine", e)
		}
	}
}

func TestErrorPages(t *testing.T) {
	s := newSite(t)
	wantStatus(t, s.post("/login", url.Values{"username": {"ada"}}), http.StatusSeeOther)
	for _, tc := range []struct {
		method, path string
		status       int
		title        string
	}{
		{http.MethodGet, "/no/such/page", http.StatusNotFound, "Page not found"},
		{http.MethodGet, "/static/nope.css", http.StatusNotFound, "Page not found"},
		{http.MethodPost, "/get", http.StatusMethodNotAllowed, "Method Not Allowed"},
		{http.MethodDelete, "/set", http.StatusMethodNotAllowed, "Method Not Allowed"},
	} {
		r := s.do(s.request(tc.method, tc.path, nil))
		wantStatus(t, r, tc.status)
		if got := r.text("title"); got != tc.title {
			t.Errorf("%s %s: title %q, want %q", tc.method, tc.path, got, tc.title)
		}
		if r.doc.Find(`link[rel="stylesheet"][href="/static/site.css"]`).Length() != 1 || r.doc.Find(`[data-testid="inspector"]`).Length() != 1 {
			t.Errorf("%s %s: not in the site layout", tc.method, tc.path)
		}
		if got := r.text("welcome"); got != "Welcome ada" {
			t.Errorf("%s %s: header %q, want Welcome ada", tc.method, tc.path, got)
		}
		if r.setCookie("sessionid") != nil {
			t.Errorf("%s %s: the error page set the session cookie", tc.method, tc.path)
		}
	}
}

// TestStoreDown: with the store failing, pages answer a clear 503 in the
// layout, log the cause, and never show it; the API answers a JSON 503.
func TestStoreDown(t *testing.T) {
	s := newSite(t)
	wantStatus(t, s.get("/set"), http.StatusOK)
	token := s.csrfToken()
	s.breakStore()
	for _, p := range []string{"/", "/get", "/set", "/visits", "/flush"} {
		r := s.get(p)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if got := r.text("error-message"); !strings.Contains(got, "The session store is unavailable") {
			t.Errorf("%s: message %q", p, got)
		}
		if got := r.text("title"); got != "Service unavailable" {
			t.Errorf("%s: title %q", p, got)
		}
		if r.text("inspector-unavailable") == "" {
			t.Errorf("%s: the inspector does not say the session is unavailable", p)
		}
		s.assertNoInternals(t, r)
	}
	r := s.postRaw("/session", url.Values{"key": {"a"}, "value": {"1"}, "csrfmiddlewaretoken": {token}})
	wantStatus(t, r, http.StatusServiceUnavailable)
	s.assertNoInternals(t, r)

	r = s.get("/api/session")
	wantStatus(t, r, http.StatusServiceUnavailable)
	if got := strings.TrimSpace(r.body); !strings.HasPrefix(got, `{"error":"The session store is unavailable`) {
		t.Errorf("API body %s", got)
	}
	s.assertNoInternals(t, r)
	if !strings.Contains(s.logs.String(), s.faultText()) {
		t.Errorf("the cause was not logged; log:\n%s", s.logs.String())
	}
}

// TestSessionTooLarge: a session over SESSION_MAX_SIZE is the site's
// error, the same 500 whether a handler's save or the middleware's commit
// finds it (session.StatusOf), never a 503 that invites a retry; the
// stored session keeps its data.
func TestSessionTooLarge(t *testing.T) {
	s := newSiteWith(t, siteOptions{maxSize: 200})
	wantStatus(t, s.get("/set"), http.StatusOK)
	token := s.csrfToken()
	big := strings.Repeat("x", 300)
	r := s.postRaw("/session", url.Values{"key": {"big"}, "value": {big}, "csrfmiddlewaretoken": {token}})
	wantStatus(t, r, http.StatusInternalServerError)
	if got := r.text("error-message"); !strings.Contains(got, "Something went wrong on our side") {
		t.Errorf("message %q", got)
	}
	s.assertNoInternals(t, r)
	if got := s.get("/get").text("message"); !strings.Contains(got, "User: harun_dev") {
		t.Errorf("after the refused save /get says %q", got)
	}
}

// TestErrorHandler calls the handler directly for what the routes cannot
// produce: an internal error (500) and a response already committed.
func TestErrorHandler(t *testing.T) {
	s := newSite(t)
	h := &views.Handlers{Log: s.logger()}
	e := echo.New()

	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/boom", nil)
	rec := httptest.NewRecorder()
	h.ErrorHandler(errors.New("secret internal detail: /etc/passwd"), e.NewContext(req, rec))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret internal detail") || !strings.Contains(body, "Something went wrong on our side") {
		t.Errorf("500 page:\n%s", body)
	}
	if strings.Contains(s.logs.String(), "secret internal detail") {
		t.Error("the error handler logged the error itself: the request log line reports it, once")
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find(`[data-testid="inspector-unavailable"]`).Length() != 1 {
		t.Error("the 500 page read the session")
	}

	rec = httptest.NewRecorder()
	c := e.NewContext(req, rec)
	if err := c.String(http.StatusOK, "already sent"); err != nil {
		t.Fatal(err)
	}
	h.ErrorHandler(errors.New("late"), c)
	if rec.Code != http.StatusOK || rec.Body.String() != "already sent" {
		t.Errorf("committed response changed: %d %q", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	h.ErrorHandler(echo.NewHTTPError(http.StatusBadGateway, "upstream said: secret").SetInternal(errors.New("dial tcp secret")), e.NewContext(req, rec))
	if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("502: %d\n%s", rec.Code, rec.Body.String())
	}
}

// TestSetExplainsTheGreeting: /set greets harun_dev in the header, and
// says that this is the template reading the session, not a login.
func TestSetExplainsTheGreeting(t *testing.T) {
	s := newSite(t)
	r := s.get("/set")
	if got := r.text("welcome"); got != "Welcome harun_dev" {
		t.Errorf("header %q", got)
	}
	about := r.text("about")
	for _, want := range []string{"{{ request.session.username }}", "not a login"} {
		if !strings.Contains(about, want) {
			t.Errorf("/set does not say %q: %q", want, about)
		}
	}
	if strings.Contains(s.get("/").doc.Find(`[data-testid="lesson-go"]`).Text(), "templates.Link{") {
		t.Error("the home page's Go panel shows link building instead of its session reads")
	}
}

// TestLoginRotatesCSRFToken: POST /login sends a new csrftoken cookie, as
// Django's login() does with rotate_token(); the token from before login
// is refused afterwards and the pages carry the new one. A refused login
// rotates nothing.
func TestLoginRotatesCSRFToken(t *testing.T) {
	s := newSite(t)
	before := s.csrfToken()
	r := s.post("/login", url.Values{"username": {"ada"}})
	wantStatus(t, r, http.StatusSeeOther)
	c := r.setCookie("csrftoken")
	if c == nil || c.Value == "" || csrf.Matches(before, c.Value) {
		t.Fatalf("login sent csrftoken %v; want a new secret (old token %q)", c, before)
	}
	if c.MaxAge != 31449600 || c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("rotated cookie %+v: want the CSRF cookie's attributes", c)
	}
	home := s.get("/")
	if tok, _ := home.doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value"); !csrf.Matches(tok, c.Value) {
		t.Errorf("the page after login carries token %q, want one of the rotated %q", tok, c.Value)
	}
	wantStatus(t, s.postRaw("/set", url.Values{"csrfmiddlewaretoken": {before}}), http.StatusForbidden)
	wantStatus(t, s.postRaw("/set", url.Values{"csrfmiddlewaretoken": {csrf.Mask(c.Value)}}), http.StatusOK)

	r = s.postRaw("/login", url.Values{"csrfmiddlewaretoken": {csrf.Mask(c.Value)}, "username": {""}})
	wantStatus(t, r, http.StatusBadRequest)
	if got := r.setCookie("csrftoken"); got != nil && got.Value != c.Value {
		t.Errorf("a refused login rotated the secret: %v", got)
	}
	if tok, _ := r.doc.Find(`form[action="/login"] input[name="csrfmiddlewaretoken"]`).Attr("value"); !csrf.Matches(tok, c.Value) {
		t.Errorf("the refused login's form carries %q, want a token of %q", tok, c.Value)
	}
}

// TestTestCookie: GET /testcookie sets Django's test cookie in the
// session; the POST finds it (and deletes it) when the browser sent the
// session cookie back, and asks for cookies when it did not.
func TestTestCookie(t *testing.T) {
	s := newSite(t)
	r := s.get("/testcookie")
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Test cookie set." {
		t.Errorf("GET message %q", got)
	}
	if r.setCookie("sessionid") == nil {
		t.Fatal("setting the test cookie sent no session cookie")
	}
	if data, _, _ := s.apiSession(); data["testcookie"] != "worked" {
		t.Errorf("session after GET: %v, want Django's testcookie=worked", data)
	}
	r = s.post("/testcookie", nil)
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Cookies work: the test cookie came back." {
		t.Errorf("POST message %q", got)
	}
	if data, _, _ := s.apiSession(); len(data) != 0 {
		t.Errorf("session after the check: %v, want the test cookie deleted", data)
	}
	if v, _ := r.doc.Find(`[data-testid="action-submit"]`).Html(); strings.TrimSpace(v) != "Check the test cookie (POST)" {
		t.Errorf("button %q", v)
	}

	// A browser that keeps the CSRF cookie but never got the session's.
	s.client = newClient(t)
	token := s.csrfToken() // GET /login: a CSRF cookie, no session
	if s.cookie("sessionid") != "" {
		t.Fatal("GET /login created a session")
	}
	r = s.postRaw("/testcookie", url.Values{"csrfmiddlewaretoken": {token}})
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Please enable cookies: the test cookie did not come back." {
		t.Errorf("POST without the test cookie: %q", got)
	}
}

// TestFavicon: /favicon.ico, which browsers fetch on their own, answers
// with the site's icon, and no warning reaches the log.
func TestFavicon(t *testing.T) {
	s := newSite(t)
	r := s.get("/favicon.ico")
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Content-Type"); got != "image/svg+xml" {
		t.Errorf("Content-Type %q", got)
	}
	if !strings.HasPrefix(r.body, "<svg") {
		t.Errorf("body %.40q", r.body)
	}
	if logs := s.logs.String(); strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestPagesHaveContentLength checks that a page leaves with its length
// (not in chunks), and that the length is the body's, including on a
// page whose session was written.
func TestPagesHaveContentLength(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/", "/set", "/get", "/visits", "/learn"} {
		r := s.get(path)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, r.StatusCode)
		}
		if len(r.TransferEncoding) > 0 {
			t.Errorf("GET %s: Transfer-Encoding %v, want a plain body", path, r.TransferEncoding)
		}
		if r.ContentLength != int64(len(r.body)) {
			t.Errorf("GET %s: Content-Length %d, body of %d bytes", path, r.ContentLength, len(r.body))
		}
	}
}
