package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
)

// FuzzCookie sends arbitrary Cookie headers through the middleware: the
// request must succeed with a fresh session, and a made-up key must never
// be adopted.
func FuzzCookie(f *testing.F) {
	for _, s := range []string{"sessionid=abc", "sessionid=unknownkeyunknownkeyunknownkey12", "sessionid=", "a=b; sessionid=\"x\"", "sessionid=' OR 1=1 --", "sessionid=\xff\xfe"} {
		f.Add(s)
	}
	v := newEnv(f)
	v.handle("/set", func(c echo.Context, s *session.Session) error {
		n := s.Incr("n", 1)
		if n != 1 {
			return c.String(http.StatusOK, "adopted")
		}
		return c.String(http.StatusOK, "fresh")
	})
	f.Fuzz(func(t *testing.T, cookie string) {
		req := httptest.NewRequest(http.MethodGet, "/set", nil)
		req.Header["Cookie"] = []string{cookie}
		rec := httptest.NewRecorder()
		v.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != "fresh" {
			t.Fatalf("Cookie %q: status %d body %q", cookie, rec.Code, rec.Body)
		}
		ck := sessionCookie(rec)
		if ck == nil || !session.ValidKey(ck.Value) || (len(ck.Value) > 0 && strings.Contains(cookie, ck.Value)) {
			t.Fatalf("Cookie %q: new cookie %v", cookie, ck)
		}
	})
}
