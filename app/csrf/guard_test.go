package csrf_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

func TestMaskIsFreshEveryTime(t *testing.T) {
	secret := csrf.NewSecret()
	if csrf.CheckFormat(secret) != "" || len(secret) != csrf.SecretLength {
		t.Fatalf("NewSecret() = %q", secret)
	}
	seen := map[string]bool{}
	for range 100 {
		tok := csrf.Mask(secret)
		if len(tok) != csrf.TokenLength || csrf.Unmask(tok) != secret || !csrf.Matches(tok, secret) {
			t.Fatalf("Mask(%q) = %q, unmasked %q", secret, tok, csrf.Unmask(tok))
		}
		if seen[tok] {
			t.Fatalf("Mask gave %q twice", tok)
		}
		seen[tok] = true
	}
	if csrf.Mask("not a secret") != "" || csrf.Unmask("short") != "" || csrf.Matches("", secret) || csrf.Matches(secret, "") {
		t.Error("malformed input accepted")
	}
	if csrf.Matches(csrf.Mask(csrf.NewSecret()), secret) {
		t.Error("another secret's token matches")
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for name, mod := range map[string]func(*csrf.Config){
		"cookie name with a space":  func(c *csrf.Config) { c.CookieName = "csrf token" },
		"negative age":              func(c *csrf.Config) { c.CookieAge = -time.Second },
		"age under a second":        func(c *csrf.Config) { c.CookieAge = time.Millisecond },
		"fractional age":            func(c *csrf.Config) { c.CookieAge = 1500 * time.Millisecond },
		"SameSite None, not Secure": func(c *csrf.Config) { c.CookieSameSite = http.SameSiteNoneMode },
		"header with a colon":       func(c *csrf.Config) { c.HeaderName = "X:Token" },
		"origin without a scheme":   func(c *csrf.Config) { c.TrustedOrigins = []string{"example.com"} },
		"origin without a host":     func(c *csrf.Config) { c.TrustedOrigins = []string{"https://"} },
	} {
		cfg := csrf.DefaultConfig()
		mod(&cfg)
		if _, err := csrf.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for in, want := range map[string]string{"HTTP_X_CSRFTOKEN": "X-CSRFTOKEN", "X-CSRFToken": "X-CSRFToken", " HTTP_X_XSRF_TOKEN ": "X-XSRF-TOKEN"} {
		if got, err := csrf.ParseHeaderName(in); err != nil || got != want {
			t.Errorf("ParseHeaderName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, err := csrf.ParseTrustedOrigins("https://a.example, https://*.b.example"); err != nil || len(got) != 2 {
		t.Errorf("ParseTrustedOrigins: %v, %v", got, err)
	}
	if _, err := csrf.ParseTrustedOrigins("a.example"); err == nil {
		t.Error("ParseTrustedOrigins accepted an origin without a scheme (Django 3.2's spelling)")
	}
}

// newGuard returns a Guard and the page handler: GET gives a token, POST
// says "done".
func newGuard(t *testing.T, mod func(*csrf.Config)) (*csrf.Guard, http.Handler) {
	t.Helper()
	cfg := csrf.DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	g, err := csrf.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(csrf.Token(r)))
			return
		}
		_, _ = w.Write([]byte("done"))
	})
	return g, g.Handler(page)
}

func cookieOf(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCookieAttributes: the cookie carries Django's defaults (a year,
// Path=/, SameSite=Lax, neither Secure nor HttpOnly, Vary: Cookie), which
// a zero Config gets too, or the settings given; BrowserSession is a
// browser-session cookie, http.SameSiteDefaultMode leaves SameSite out.
func TestCookieAttributes(t *testing.T) {
	zero, err := csrf.New(csrf.Config{})
	if err != nil {
		t.Fatal(err)
	}
	def := csrf.DefaultConfig()
	if got := zero.Config(); got.CookieName != def.CookieName || got.CookieAge != def.CookieAge || got.CookiePath != def.CookiePath ||
		got.CookieSameSite != def.CookieSameSite || got.HeaderName != def.HeaderName {
		t.Errorf("a zero Config is %+v, Django's defaults %+v", got, def)
	}
	_, h0 := newGuard(t, func(c *csrf.Config) { c.CookieSameSite = http.SameSiteDefaultMode })
	rec0 := httptest.NewRecorder()
	h0.ServeHTTP(rec0, httptest.NewRequest("GET", "/", nil))
	if sc := rec0.Header().Get("Set-Cookie"); sc == "" || strings.Contains(sc, "SameSite") {
		t.Errorf("SameSiteDefaultMode: Set-Cookie %q", sc)
	}

	_, h := newGuard(t, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := cookieOf(rec, "csrftoken")
	if c == nil || len(c.Value) != csrf.SecretLength || c.MaxAge != 31449600 || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure || c.HttpOnly || c.Domain != "" {
		t.Fatalf("cookie %+v", c)
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Cookie") {
		t.Errorf("Vary %q", rec.Header().Get("Vary"))
	}
	if !csrf.Matches(rec.Body.String(), c.Value) || len(rec.Body.String()) != csrf.TokenLength {
		t.Errorf("page token %q for cookie %q", rec.Body.String(), c.Value)
	}

	_, h = newGuard(t, func(c *csrf.Config) {
		c.CookieName, c.CookieAge, c.CookieDomain, c.CookiePath = "xsrf", csrf.BrowserSession, "example.com", "/app/"
		c.CookieSecure, c.CookieHTTPOnly, c.CookieSameSite = true, true, http.SameSiteStrictMode
		c.CookieMasked = true
	})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app/", nil))
	c = cookieOf(rec, "xsrf")
	if c == nil || len(c.Value) != csrf.TokenLength || c.MaxAge != 0 || !c.Expires.IsZero() || c.Path != "/app/" || c.Domain != "example.com" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", c)
	}
}

// TestLastCookieWins: of two csrftoken cookies in one request, the last
// is the secret, as Django's parse_cookie keeps the last of a name (a
// stale cookie of a parent path or domain sent first must not decide).
func TestLastCookieWins(t *testing.T) {
	_, h := newGuard(t, nil)
	first, last := csrf.NewSecret(), csrf.NewSecret()
	post := func(token string) int {
		req := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{csrf.FormField: {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "csrftoken="+first+"; sessionid=x; csrftoken="+last)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(csrf.Mask(last)); code != http.StatusOK {
		t.Errorf("a token of the last cookie: %d, want 200", code)
	}
	if code := post(csrf.Mask(first)); code != http.StatusForbidden {
		t.Errorf("a token of the first cookie: %d, want 403", code)
	}
}

// TestFailureIs403WithReason: the default net/http failure is a 403
// naming Django's reason, and the handler does not run.
func TestFailureIs403WithReason(t *testing.T) {
	_, h := newGuard(t, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), csrf.ReasonNoCSRFCookie) || strings.Contains(rec.Body.String(), "done") {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
}

// TestEchoAdapter: the Echo middleware refuses with an *echo.HTTPError
// 403 carrying the reason, gives handlers their token, and sends the
// cookie of a page whose handler returned an error too.
func TestEchoAdapter(t *testing.T) {
	g, err := csrf.New(csrf.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	var refused error
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		refused = err
		if !c.Response().Committed {
			_ = c.String(http.StatusTeapot, "error page")
		}
	}
	e.GET("/", func(c echo.Context) error { return c.String(http.StatusOK, csrf.Token(c.Request())) }, g.Middleware())
	e.GET("/fails", func(c echo.Context) error {
		_ = csrf.Token(c.Request())
		return errors.New("boom")
	}, g.Middleware())
	e.POST("/", func(c echo.Context) error { return c.String(http.StatusOK, "done") }, g.Middleware())

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := cookieOf(rec, "csrftoken")
	if rec.Code != http.StatusOK || c == nil || !csrf.Matches(rec.Body.String(), c.Value) {
		t.Fatalf("GET: %d %q, cookie %v", rec.Code, rec.Body.String(), c)
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/fails", nil))
	if rec.Code != http.StatusTeapot || cookieOf(rec, "csrftoken") == nil {
		t.Errorf("a failing page: %d, cookie %v", rec.Code, cookieOf(rec, "csrftoken"))
	}

	req := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{"csrfmiddlewaretoken": {csrf.Mask(c.Value)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "done" {
		t.Errorf("POST with the token: %d %q", rec.Code, rec.Body.String())
	}

	req = httptest.NewRequest("POST", "/", nil)
	req.AddCookie(c)
	refused = nil
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var he *echo.HTTPError
	var rej *csrf.Rejection
	if !errors.As(refused, &he) || he.Code != http.StatusForbidden || he.Message != csrf.FailureMessage(csrf.ReasonCSRFTokenMissing) || !errors.As(he.Internal, &rej) {
		t.Errorf("POST without a token: error %#v", refused)
	}
}

// TestUseSessions: with CSRF_USE_SESSIONS the secret lives in the
// session under _csrftoken: a page without a form creates no session, a
// page with one does, the cookie is never sent, and a form token of that
// page is accepted. Without the session middleware it is a 500, not a
// silent pass.
func TestUseSessions(t *testing.T) {
	m, err := session.New(session.Config{Store: memstore.New(time.Now), SecretKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := csrf.New(func() csrf.Config { c := csrf.DefaultConfig(); c.UseSessions = true; return c }())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("no form")) })
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(csrf.Token(r))) })
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("done")) })
	h := m.Handler(g.Handler(mux))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/plain", nil))
	if len(rec.Result().Cookies()) != 0 {
		t.Fatalf("a page without a form set %v", rec.Result().Cookies())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/form", nil))
	sid, token := cookieOf(rec, "sessionid"), rec.Body.String()
	if sid == nil || cookieOf(rec, "csrftoken") != nil || len(token) != csrf.TokenLength {
		t.Fatalf("a page with a form: cookies %v, token %q", rec.Result().Cookies(), token)
	}
	s := m.Open(t.Context(), sid.Value)
	if v, _ := s.Get(csrf.SessionKey, "").(string); !csrf.Matches(token, v) {
		t.Fatalf("session holds %q for token %q", v, token)
	}
	req := httptest.NewRequest("POST", "/form", strings.NewReader(url.Values{"csrfmiddlewaretoken": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(sid)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "done" {
		t.Errorf("POST with the page's token: %d %q", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	g.Handler(mux).ServeHTTP(rec, httptest.NewRequest("GET", "/form", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("UseSessions without a session middleware: %d %q", rec.Code, rec.Body.String())
	}
}

// TestCookieNeverCreatesASession: in cookie mode neither a token nor a
// rotation touches the session.
func TestCookieNeverCreatesASession(t *testing.T) {
	m, err := session.New(session.Config{Store: memstore.New(time.Now), SecretKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	_, h := newGuard(t, nil)
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if cookieOf(rec, "sessionid") != nil || cookieOf(rec, "csrftoken") == nil {
		t.Errorf("cookies %v", rec.Result().Cookies())
	}
}

// TestTokenOutsideTheMiddleware: Token is "" and Rotate does nothing
// where the Guard did not run.
func TestTokenOutsideTheMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	rec := httptest.NewRecorder()
	csrf.Rotate(rec, r)
	if csrf.Token(r) != "" || len(rec.Result().Cookies()) != 0 {
		t.Error("Token or Rotate acted without the middleware")
	}
}
