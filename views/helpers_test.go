package views_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
)

// clock is a settable clock for the session manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects the site's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// site is the demo site running on a loopback port, with a browser-like
// client (cookie jar, redirects not followed).
type site struct {
	t      *testing.T
	srv    *httptest.Server
	client *http.Client
	clock  *clock
	logs   *logBuffer
	log    *slog.Logger
	store  session.Store // a second store on the site's database, to look at rows
	db     *gorm.DB
}

// breakStore makes every later store call fail for real: the sessions
// table is dropped, as a botched migration or a wrong database would.
func (s *site) breakStore() {
	s.t.Helper()
	if err := s.db.Exec("DROP TABLE django_session").Error; err != nil {
		s.t.Fatal(err)
	}
}

// faultText is what SQLite says once the table is gone: it must reach the
// log and never a page.
func (s *site) faultText() string { return "no such table: django_session" }

func (s *site) logger() *slog.Logger { return s.log }

// assertNoInternals fails when r shows internal error text.
func (s *site) assertNoInternals(t *testing.T, r *response) {
	t.Helper()
	for _, leak := range []string{s.faultText(), "goroutine ", ".go:", "session: load", "panic"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("%s %s shows internal text %q:\n%s", r.Request.Method, r.Request.URL.Path, leak, r.body)
		}
	}
}

type siteOptions struct {
	saveEveryRequest bool
	maxSize          int    // SESSION_MAX_SIZE; 0: the default
	loginURL         string // LOGIN_URL; "": the default
	loginRedirectURL string // LOGIN_REDIRECT_URL; "": the default
	metrics          bool   // METRICS
	// proxySSL sets SECURE_PROXY_SSL_HEADER to X-Forwarded-Proto,https.
	proxySSL bool
	// engine is SESSION_ENGINE; "": the default (db).
	engine engine.Name
	// idle and absolute are SESSION_IDLE_TIMEOUT and
	// SESSION_ABSOLUTE_TIMEOUT.
	idle, absolute time.Duration
}

func newSite(t *testing.T) *site {
	return newSiteWith(t, siteOptions{})
}

func newSiteWith(t *testing.T, opt siteOptions) *site {
	t.Helper()
	// The clock starts now, not at a fixed date: cookie jars and browsers
	// drop cookies whose Expires has passed by the real clock.
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := app.DefaultConfig()
	cfg.SecretKey = "test-secret-key-for-the-views-tests"
	cfg.PasswordIterations = 1000 // fast logins; a hash carries its own count
	cfg.Session.Now = clk.Now
	cfg.Session.SaveEveryRequest = opt.saveEveryRequest
	if opt.maxSize > 0 {
		cfg.Session.MaxSize = opt.maxSize
	}
	cfg.Session.IdleTimeout, cfg.Session.AbsoluteTimeout = opt.idle, opt.absolute
	if opt.engine != "" {
		cfg.SessionEngine = opt.engine
	}
	if opt.loginURL != "" {
		cfg.LoginURL = opt.loginURL
	}
	if opt.loginRedirectURL != "" {
		cfg.LoginRedirectURL = opt.loginRedirectURL
	}
	cfg.Metrics = opt.metrics
	if opt.proxySSL {
		cfg.Security.ProxySSLHeader, cfg.Security.ProxySSLValue = "X-Forwarded-Proto", "https"
	}
	db := dbtest.SQLite(t)
	e := newApp(t, cfg, db, log)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &site{t: t, srv: srv, client: newClient(t), clock: clk, logs: logs, log: log, store: store, db: db.Gorm}
}

// newApp builds the site with app.New, closed when the test ends.
func newApp(t *testing.T, cfg app.Config, db *database.DB, log *slog.Logger) *echo.Echo {
	t.Helper()
	e, closeSite, err := app.New(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	return e
}

func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is a read response.
type response struct {
	*http.Response
	body string
	doc  *goquery.Document
}

// text returns the trimmed text of the first element with data-testid id.
func (r *response) text(id string) string {
	return strings.TrimSpace(r.doc.Find(`[data-testid="` + id + `"]`).First().Text())
}

// setCookie returns the Set-Cookie of name in the response, or nil.
func (r *response) setCookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (s *site) do(req *http.Request) *response {
	s.t.Helper()
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	r := &response{Response: res, body: string(b)}
	r.doc, err = goquery.NewDocumentFromReader(bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *site) request(method, path string, body io.Reader, hdr ...string) *http.Request {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// get sends a GET; hdr are header name/value pairs.
func (s *site) get(path string, hdr ...string) *response {
	s.t.Helper()
	return s.do(s.request(http.MethodGet, path, nil, hdr...))
}

// postRaw sends form as is (no token added).
func (s *site) postRaw(path string, form url.Values, hdr ...string) *response {
	s.t.Helper()
	req := s.request(http.MethodPost, path, strings.NewReader(form.Encode()), hdr...)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

// post sends form with the CSRF token a page gave this client, as a
// browser submitting one of the site's forms does.
func (s *site) post(path string, form url.Values, hdr ...string) *response {
	s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrfmiddlewaretoken", s.csrfToken())
	return s.postRaw(path, form, hdr...)
}

// csrfToken reads the hidden CSRF input of the login page.
func (s *site) csrfToken() string {
	s.t.Helper()
	r := s.get("/login")
	tok, ok := r.doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	if !ok || tok == "" {
		s.t.Fatalf("GET /login: no CSRF token in the form")
	}
	return tok
}

// cookie returns the value of the client's cookie name, or "".
func (s *site) cookie(name string) string {
	u, _ := url.Parse(s.srv.URL)
	for _, c := range s.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// message is the demo sentence of a page.
func (r *response) message() string { return r.text("message") }

func wantStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.body)
	}
}
