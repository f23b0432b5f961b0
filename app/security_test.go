package app

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/labstack/echo/v4"
)

// wantSecurityHeaders fails unless h has Django's default security headers
// and the default CSP.
func wantSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Frame-Options":            "DENY",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "same-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Content-Security-Policy":    DefaultCSP,
	} {
		if got := h.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	for _, k := range []string{"Strict-Transport-Security", "X-Xss-Protection"} {
		if got := h.Get(k); got != "" {
			t.Errorf("%s: %s = %q on plain HTTP, want none", what, k, got)
		}
	}
}

// Every kind of response carries the security headers: pages, redirects,
// static files, the API, health endpoints and every error page, the 503
// that replaces a page whose session could not be saved included.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	db := dbtest.SQLite(t)
	e, closeSite, err := New(testConfig(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	e.GET("/boom", func(echo.Context) error { panic("boom") })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type check struct {
		method, path string
		body         string
		want         int
	}
	send := func(c check) {
		t.Helper()
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, err := http.NewRequest(c.method, srv.URL+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		what := c.method + " " + c.path
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", what, resp.StatusCode, c.want)
		}
		wantSecurityHeaders(t, what, resp.Header)
	}
	big := "value=" + strings.Repeat("x", DefaultDataUploadMaxMemorySize)
	for _, c := range []check{
		{"GET", "/", "", 200},
		{"HEAD", "/", "", 200},
		{"GET", "/set", "", 200},
		{"GET", "/set/", "", 301},
		{"GET", "/static/site.css", "", 200},
		{"HEAD", "/static/site.css", "", 200},
		{"GET", "/api/session", "", 200},
		{"GET", "/healthz", "", 200},
		{"HEAD", "/readyz", "", 200},
		{"GET", "/nowhere", "", 404},
		{"HEAD", "/nowhere", "", 404},
		{"POST", "/set", "a=1", 403},
		{"DELETE", "/", "", 405},
		{"POST", "/session", big, 413},
		{"GET", "/boom", "", 500},
	} {
		send(c)
	}
	if err := db.Gorm.Exec("DROP TABLE django_session").Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range []check{
		{"GET", "/set", "", 503},    // the page's response replaced when the session save fails
		{"GET", "/visits", "", 503}, // Save fails in the handler, which returns the error
		{"GET", "/api/session", "", 200},
	} {
		send(c)
	}
}

func TestSecurityHeadersSettings(t *testing.T) {
	cfg := testConfig()
	cfg.Security = SecurityConfig{
		XFrameOptions:         "SAMEORIGIN",
		HSTSSeconds:           3600,
		HSTSIncludeSubdomains: true,
		HSTSPreload:           true,
		ProxySSLHeader:        "X-Forwarded-Proto",
		ProxySSLValue:         "https",
		CSP:                   "default-src 'none'",
	}
	e, closeSite, err := New(cfg, dbtest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	get := func(hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/get", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	rec := get()
	for k, want := range map[string]string{
		"X-Frame-Options":            "SAMEORIGIN",
		"Content-Security-Policy":    "default-src 'none'",
		"Strict-Transport-Security":  "", // plain HTTP: Django sends HSTS on secure requests only
		"X-Content-Type-Options":     "", // turned off
		"Referrer-Policy":            "",
		"Cross-Origin-Opener-Policy": "",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	const hsts = "max-age=3600; includeSubDomains; preload"
	if got := get("X-Forwarded-Proto", "https").Header().Get("Strict-Transport-Security"); got != hsts {
		t.Errorf("HSTS behind the proxy = %q, want %q", got, hsts)
	}
	if got := get("X-Forwarded-Proto", "http, https").Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS for X-Forwarded-Proto: http, https = %q: Django reads the first value only", got)
	}
	req := httptest.NewRequest(http.MethodGet, "/get", nil)
	req.TLS = &tls.ConnectionState{}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if got := rec.Header().Get("Strict-Transport-Security"); got != hsts {
		t.Errorf("HSTS over TLS = %q, want %q", got, hsts)
	}
}

// X-Forwarded-Proto is believed only when SECURE_PROXY_SSL_HEADER names it;
// SECURE_SSL_REDIRECT sends everything else to https, query kept.
func TestSSLRedirect(t *testing.T) {
	for _, proxy := range []bool{false, true} {
		cfg := testConfig()
		cfg.Security.SSLRedirect = true
		cfg.Security.HSTSSeconds = 60
		if proxy {
			cfg.Security.ProxySSLHeader, cfg.Security.ProxySSLValue = "X-Forwarded-Proto", "https"
		}
		e, closeSite, err := New(cfg, dbtest.SQLite(t), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeSite() })
		req := httptest.NewRequest(http.MethodGet, "http://example.com/get?x=1", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if !proxy {
			if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "https://example.com/get?x=1" {
				t.Errorf("without SECURE_PROXY_SSL_HEADER, a client's X-Forwarded-Proto: https got %d to %q, want a 301 to https", rec.Code, rec.Header().Get("Location"))
			}
			wantSecurityHeadersExceptHSTS(t, rec.Header())
			if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS on a plain-HTTP redirect: %q", got)
			}
			continue
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Strict-Transport-Security") != "max-age=60" {
			t.Errorf("behind the proxy: %d, HSTS %q; want 200 with max-age=60", rec.Code, rec.Header().Get("Strict-Transport-Security"))
		}
	}
}

func wantSecurityHeadersExceptHSTS(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range []string{"X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy"} {
		if h.Get(k) == "" {
			t.Errorf("redirect without %s", k)
		}
	}
}

// Whether a request is HTTPS is decided in one place, Django's
// request.is_secure() (SecurityConfig.IsSecure, following
// SECURE_PROXY_SSL_HEADER): the security headers, SECURE_SSL_REDIRECT and
// whatever asks Echo for the request's scheme agree. A client (here from
// a private address, which Echo's own rule would believe) sending
// X-Forwarded-Proto: https to a site without the setting is on plain
// HTTP for all of them.
func TestIsSecureDecidedOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		proxy     bool
		tls       bool
		xfp       string
		wantHTTPS bool
	}{
		{"spoofed header, no setting", false, false, "https", false},
		{"TLS, no setting", false, true, "", true},
		{"proxy says https", true, false, "https", true},
		{"proxy says http", true, false, "http", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Security.HSTSSeconds = 60
			if tc.proxy {
				cfg.Security.ProxySSLHeader, cfg.Security.ProxySSLValue = "X-Forwarded-Proto", "https"
			}
			e, closeSite, err := New(cfg, dbtest.SQLite(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeSite() })
			e.GET("/scheme", func(c echo.Context) error { return c.String(http.StatusOK, c.Scheme()) })
			req := httptest.NewRequest(http.MethodGet, "http://example.com/scheme", nil)
			req.RemoteAddr = "10.0.0.7:5555"
			if tc.xfp != "" {
				req.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			want := map[bool]string{false: "http", true: "https"}[tc.wantHTTPS]
			if got := rec.Body.String(); got != want {
				t.Errorf("Echo's c.Scheme() = %q, want %q", got, want)
			}
			if hsts := rec.Header().Get("Strict-Transport-Security") != ""; hsts != tc.wantHTTPS {
				t.Errorf("HSTS sent: %v, want %v", hsts, tc.wantHTTPS)
			}

			cfg.Security.SSLRedirect = true
			e, closeSite, err = New(cfg, dbtest.SQLite(t), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeSite() })
			rec = httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if redirected := rec.Code == http.StatusMovedPermanently; redirected == tc.wantHTTPS {
				t.Errorf("SECURE_SSL_REDIRECT answered %d, want a redirect only on plain HTTP", rec.Code)
			}
		})
	}
}
