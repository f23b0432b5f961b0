package session_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
)

// BenchmarkMiddleware measures what a session costs on top of Echo: the
// baseline answers the same string with no session middleware, "read" loads
// an existing session and reads a key (no write), "write" increments a
// counter (load, compare-and-swap save, cookie). The store is memstore, so
// this isolates the framework (signing, JSON, middleware) from storage;
// dbstore has its own benchmarks.
func BenchmarkMiddleware(b *testing.B) {
	v := newEnv(b)
	key := v.newStored(map[string]any{"username": "harun_dev", "role": "admin", "login_count": 1})
	v.handle("/read", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, "User: "+s.GetString("username", "Guest"))
	})
	v.handle("/write", func(c echo.Context, s *session.Session) error {
		s.Incr("visits", 1)
		return c.String(http.StatusOK, "ok")
	})
	base := echo.New()
	base.GET("/read", func(c echo.Context) error { return c.String(http.StatusOK, "User: harun_dev") })

	run := func(b *testing.B, e *echo.Echo, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Cookie", "sessionid="+key)
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) { run(b, base, "/read") })
	b.Run("read", func(b *testing.B) { run(b, v.e, "/read") })
	b.Run("write", func(b *testing.B) { run(b, v.e, "/write") })
}

// BenchmarkCodec measures signing and verifying a typical session, as
// the manager encodes it for the store (the fast JSON path on package
// signing's signer).
func BenchmarkCodec(b *testing.B) {
	cfg := session.DefaultConfig()
	cfg.Store, cfg.SecretKey, cfg.Now = &captureStore{recs: map[string]session.Record{}}, testSecret, newClock().Now
	m, err := session.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	data := map[string]any{"username": "harun_dev", "role": "admin", "login_count": json.Number("1"), "visits": json.Number("12")}
	raw, err := m.Encode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("dumps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Encode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loads", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
