package static_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/static"
	"github.com/labstack/echo/v4"
)

func serve(t *testing.T, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	e := echo.New()
	static.Register(e)
	req := httptest.NewRequestWithContext(t.Context(), method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestServesAssetsWithCacheHeaders(t *testing.T) {
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/static/site.css", "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"/static/favicon.svg", "image/svg+xml", "<svg"},
		{"/favicon.ico", "image/svg+xml", "<svg"}, // what browsers ask for first
	} {
		rec := serve(t, http.MethodGet, tc.path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", tc.path, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=3600" {
			t.Errorf("%s: Cache-Control %q", tc.path, got)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: body lacks %q", tc.path, tc.contains)
		}
		etag := rec.Header().Get("ETag")
		if len(etag) != 34 || etag[0] != '"' {
			t.Fatalf("%s: ETag %q", tc.path, etag)
		}

		rec = serve(t, http.MethodGet, tc.path, "If-None-Match", etag)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("%s with If-None-Match: status %d, %d bytes; want 304, none", tc.path, rec.Code, rec.Body.Len())
		}
		rec = serve(t, http.MethodGet, tc.path, "If-None-Match", `"stale"`)
		if rec.Code != http.StatusOK {
			t.Errorf("%s with a stale ETag: status %d", tc.path, rec.Code)
		}
		rec = serve(t, http.MethodHead, tc.path)
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Errorf("HEAD %s: %d, %d bytes, ETag %q", tc.path, rec.Code, rec.Body.Len(), rec.Header().Get("ETag"))
		}
	}
}

func TestUnknownAssetIsNotFound(t *testing.T) {
	for _, p := range []string{"/static/nope.css", "/static/", "/static/../static.go", "/static/static.go"} {
		if rec := serve(t, http.MethodGet, p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, rec.Code)
		}
	}
}

func TestStylesheetIsSelfContained(t *testing.T) {
	css, err := static.FS.ReadFile("site.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, remote := range []string{"http://", "https://", "@import", "//fonts."} {
		if strings.Contains(string(css), remote) {
			t.Errorf("site.css refers to %q: the site must work offline", remote)
		}
	}
}
