package session_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/labstack/echo/v4"
)

// A store fault when the response starts replaces the handler's response
// with a 503: the headers describing the handler's response go with it,
// while headers an outer middleware set before the handler (security
// headers) stay on the 503.
func TestMiddlewareReplaceKeepsOuterHeaders(t *testing.T) {
	v := newEnv(t)
	v.e = echo.New()
	v.h = v.e
	v.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("X-Frame-Options", "DENY")
			c.Response().Header().Set("Content-Security-Policy", "default-src 'self'")
			return next(c)
		}
	}, v.m.Middleware())
	handlerHeaders := map[string]string{
		"Content-Type":        "application/pdf",
		"Content-Encoding":    "gzip",
		"Content-Disposition": "attachment; filename=report.pdf",
		"Content-Range":       "bytes 0-9/100",
		"Content-Language":    "fr",
		"Etag":                `"v1"`,
		"Last-Modified":       "Wed, 21 Oct 2015 07:28:00 GMT",
		"Location":            "/elsewhere",
		"Set-Cookie":          "other=1",
		"Cache-Control":       "public, max-age=86400",
	}
	v.handle("/write", func(c echo.Context, s *session.Session) error {
		s.Set("foo", "x")
		for k, val := range handlerHeaders {
			c.Response().Header().Set(k, val)
		}
		c.Response().Header().Set("Content-Length", "4")
		return c.Blob(http.StatusOK, "application/pdf", []byte("%PDF"))
	})
	fault := errors.New("database is locked")
	v.store.fail.Store(&fault)

	rec := v.do("/write", "")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	for k, want := range map[string]string{"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q on the 503, want %q (set before the handler)", k, got, want)
		}
	}
	for k, val := range handlerHeaders {
		if got := rec.Header().Values(k); len(got) == 1 && got[0] == val {
			t.Errorf("the 503 kept the handler's %s: %q", k, val)
		}
	}
	if got := rec.Header().Get("Content-Length"); got == "4" {
		t.Errorf("the 503 kept the handler's Content-Length")
	}
	if got := rec.Header().Get("Content-Type"); got == "application/pdf" {
		t.Errorf("the 503 is labelled %q", got)
	}
	if rec.Body.String() == "%PDF" {
		t.Error("the handler's body was sent")
	}
}
