package app

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

// countingReader is a request body that counts the bytes read from it.
type countingReader struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// csrfCookie gets a CSRF cookie from the site, as a browser has one.
func csrfCookie(t *testing.T, h http.Handler) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == "csrftoken" {
			return c
		}
	}
	t.Fatal("no csrftoken cookie from /login")
	return nil
}

func newLimitSite(t *testing.T, limit int64) (http.Handler, *database.DB) {
	t.Helper()
	cfg := testConfig()
	cfg.DataUploadMaxMemorySize = limit
	db := dbtest.SQLite(t)
	e, closeSite, err := New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	return e, db
}

// A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets the site's 413 page before
// CSRF or anything else reads it: not a byte of a declared oversized body
// is read, and an undeclared one is read only up to the limit.
func TestBodyLimit(t *testing.T) {
	const limit = 64 << 10
	e, _ := newLimitSite(t, limit)
	ck := csrfCookie(t, e)

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	w, _ := mw.CreateFormField("value")
	w.Write(bytes.Repeat([]byte("a"), 4*limit))
	mw.Close()
	urlencoded := "key=k&value=" + strings.Repeat("a", 4*limit)

	for _, tc := range []struct {
		name     string
		body     string
		ct       string
		declared bool // Content-Length sent
		path     string
	}{
		{"declared multipart", mp.String(), mw.FormDataContentType(), true, "/session"},
		{"chunked multipart", mp.String(), mw.FormDataContentType(), false, "/session"},
		{"declared form", urlencoded, "application/x-www-form-urlencoded", true, "/session"},
		{"chunked form", urlencoded, "application/x-www-form-urlencoded", false, "/session"},
		{"declared, unknown page", urlencoded, "application/x-www-form-urlencoded", true, "/nowhere"},
		{"declared JSON", urlencoded, "application/json", true, "/api/session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{r: strings.NewReader(tc.body)}
			req := httptest.NewRequest(http.MethodPost, tc.path, body)
			req.ContentLength = -1
			if tc.declared {
				req.ContentLength = int64(len(tc.body))
			}
			req.Header.Set("Content-Type", tc.ct)
			req.AddCookie(ck) // a real CSRF cookie, and no token: CSRF would say 403
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413:\n%.300s", rec.Code, rec.Body)
			}
			switch read := body.read.Load(); {
			case tc.declared && read != 0:
				t.Errorf("read %d bytes of a body declared over the limit", read)
			case read > limit+4096:
				t.Errorf("read %d bytes, limit %d", read, limit)
			}
			if strings.HasPrefix(tc.path, "/api/") {
				return
			}
			doc, err := goquery.NewDocumentFromReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(doc.Find(`[data-testid="title"]`).Text()); got != "Request too large" {
				t.Errorf("413 page title %q", got)
			}
			if got := doc.Find(`[data-testid="error-message"]`).Text(); !strings.Contains(got, "at most 65536 bytes") {
				t.Errorf("413 page message %q", got)
			}
		})
	}
}

// The smallest limit allowed still lets the site's largest form through:
// the editor with a 4,096-byte value and a 100-character key, both of
// characters that percent-encode to 9 bytes each.
func TestBodyLimitFitsTheSiteForms(t *testing.T) {
	e, _ := newLimitSite(t, minUploadSize)
	ck := csrfCookie(t, e)
	form := url.Values{
		"key":                 {strings.Repeat("€", maxKeyChars)},
		"value":               {strings.Repeat("€", 4096/len("€"))},
		"expiry":              {"1209600"},
		"setdefault":          {"1"},
		"csrfmiddlewaretoken": {ck.Value},
	}
	body := form.Encode()
	if len(body) < 13000 {
		t.Fatalf("the form is only %d bytes: not the largest the editor takes", len(body))
	}
	req := httptest.NewRequest(http.MethodPost, "/session", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(ck)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("a %d-byte editor form under a %d-byte limit: status %d, want 303:\n%.300s", len(body), minUploadSize, rec.Code, rec.Body)
	}
}

// maxKeyChars is the editor's longest key.
const maxKeyChars = 100
