package views

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// TestRenderErrorSendsNothing: a component that fails halfway leaves the
// response unwritten, so the error handler can still send an error page.
func TestRenderErrorSendsNothing(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil), rec)
	boom := errors.New("boom")
	half := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, "<p>half a page"); err != nil {
			return err
		}
		return boom
	})
	if err := render(c, http.StatusOK, half); !errors.Is(err, boom) {
		t.Fatalf("render error %v, want boom", err)
	}
	if c.Response().Committed || rec.Body.Len() != 0 {
		t.Errorf("a failed render wrote %q (committed %v)", rec.Body.String(), c.Response().Committed)
	}

	rec = httptest.NewRecorder()
	c = e.NewContext(httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil), rec)
	whole := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "<p>whole</p>")
		return err
	})
	if err := render(c, http.StatusTeapot, whole); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusTeapot || rec.Body.String() != "<p>whole</p>" || rec.Header().Get("Content-Type") != "text/html; charset=UTF-8" {
		t.Errorf("got %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
}
