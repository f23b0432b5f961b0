package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
)

func setFoo(c echo.Context, s *session.Session) error {
	s.Set("foo", "bar")
	return c.String(http.StatusOK, "ok")
}

func TestMiddlewareNewSessionCookie(t *testing.T) { bothAdapters(t, testMiddlewareNewSessionCookie) }

func testMiddlewareNewSessionCookie(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/set", setFoo)
	rec := v.do("/set", "")
	ck := sessionCookie(rec)
	if ck == nil {
		t.Fatalf("no session cookie; headers %v", rec.Header())
	}
	if len(ck.Value) != 32 || !session.ValidKey(ck.Value) {
		t.Fatalf("cookie value %q", ck.Value)
	}
	if !ck.HttpOnly || ck.Path != "/" || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 1209600 || ck.Secure {
		t.Fatalf("cookie attributes: %s", setCookieHeader(rec))
	}
	if want := v.clock.Now().Add(1209600 * time.Second); !ck.Expires.Equal(want) {
		t.Fatalf("Expires = %v, want %v", ck.Expires, want)
	}
	if !hasVaryCookie(rec) {
		t.Fatal("no Vary: Cookie")
	}
	if got := v.stored(ck.Value); got["foo"] != "bar" {
		t.Fatalf("stored = %v", got)
	}
}

func TestMiddlewareLazyAndNoWrite(t *testing.T) { bothAdapters(t, testMiddlewareLazyAndNoWrite) }

func testMiddlewareLazyAndNoWrite(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"foo": "bar"})
	v.handle("/none", func(c echo.Context, s *session.Session) error { return c.String(http.StatusOK, "x") })
	v.handle("/read", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, s.GetString("foo", ""))
	})
	loads, writes := v.store.loads.Load(), v.store.writes.Load()
	rec := v.do("/none", "sessionid="+key)
	if setCookieHeader(rec) != "" || hasVaryCookie(rec) {
		t.Fatalf("untouched session: Set-Cookie %q, Vary %v", setCookieHeader(rec), rec.Header().Values("Vary"))
	}
	if v.store.loads.Load() != loads {
		t.Fatal("the store was read for a request that never used the session")
	}
	rec = v.do("/read", "sessionid="+key)
	if rec.Body.String() != "bar" || setCookieHeader(rec) != "" || !hasVaryCookie(rec) {
		t.Fatalf("read: body %q Set-Cookie %q vary %v", rec.Body, setCookieHeader(rec), hasVaryCookie(rec))
	}
	if v.store.writes.Load() != writes {
		t.Fatal("an unmodified session was written")
	}
}

func TestMiddlewareBadCookies(t *testing.T) { bothAdapters(t, testMiddlewareBadCookies) }

func testMiddlewareBadCookies(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/read", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, "user="+s.GetString("user", "none"))
	})
	v.handle("/none", func(c echo.Context, s *session.Session) error { return c.String(http.StatusOK, "x") })
	v.handle("/set", setFoo)
	cookies := []string{
		"sessionid=",
		"sessionid=abc",
		"sessionid=unknownkeyunknownkeyunknownkey12",
		"sessionid=" + strings.Repeat("z", 4000),
		"sessionid=ключ-сессии-ключ-сессии-ключ",
		"sessionid=' OR '1'='1' --",
		`sessionid="quoted"`,
		"sessionid=%00%ff%fe",
		"sessionid=a;sessionid=b",
	}
	for _, ck := range cookies {
		for _, path := range []string{"/read", "/none"} {
			rec := v.do(path, ck)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s with %q: status %d", path, ck, rec.Code)
			}
			if path == "/read" && rec.Body.String() != "user=none" {
				t.Fatalf("%q: body %q", ck, rec.Body)
			}
			// Django deletes the cookie of a session known to be empty.
			h := setCookieHeader(rec)
			if h != "" && !strings.Contains(h, "Max-Age=0") {
				t.Fatalf("%s with %q: Set-Cookie %q is not a deletion", path, ck, h)
			}
		}
		rec := v.do("/set", ck)
		got := sessionCookie(rec)
		if got == nil || !session.ValidKey(got.Value) || strings.Contains(ck, got.Value) {
			t.Fatalf("set with %q: cookie %v", ck, got)
		}
	}
}

func TestMiddlewareUnknownKeyRead(t *testing.T) { bothAdapters(t, testMiddlewareUnknownKeyRead) }

func testMiddlewareUnknownKeyRead(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/read", func(c echo.Context, s *session.Session) error { return c.String(http.StatusOK, s.GetString("foo", "")) })
	rec := v.do("/read", "sessionid=unknownkeyunknownkeyunknownkey12")
	h := setCookieHeader(rec)
	if !strings.Contains(h, "Max-Age=0") || !hasVaryCookie(rec) {
		t.Fatalf("unknown key read: Set-Cookie %q vary %v", h, hasVaryCookie(rec))
	}
	if v.mem.Len() != 0 {
		t.Fatal("loading an unknown key created a record")
	}
}

func TestMiddlewareFlush(t *testing.T) { bothAdapters(t, testMiddlewareFlush) }

func testMiddlewareFlush(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"foo": "bar"})
	v.handle("/flush", func(c echo.Context, s *session.Session) error {
		s.Flush()
		return c.String(http.StatusOK, "flushed")
	})
	rec := v.do("/flush", "sessionid="+key)
	want := "sessionid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=Lax"
	if got := setCookieHeader(rec); got != want {
		t.Fatalf("Set-Cookie = %q, want %q", got, want)
	}
	if !hasVaryCookie(rec) || v.stored(key) != nil {
		t.Fatalf("vary %v, record %v", hasVaryCookie(rec), v.stored(key))
	}
	// Without a cookie: no cookie at all, but Vary.
	rec = v.do("/flush", "")
	if setCookieHeader(rec) != "" || !hasVaryCookie(rec) {
		t.Fatalf("flush without cookie: Set-Cookie %q vary %v", setCookieHeader(rec), hasVaryCookie(rec))
	}
	if v.mem.Len() != 0 {
		t.Fatal("flush stored a record")
	}
}

func TestMiddlewareDeleteCookieDomainPath(t *testing.T) {
	bothAdapters(t, testMiddlewareDeleteCookieDomainPath)
}

func testMiddlewareDeleteCookieDomainPath(t *testing.T, a adapter) {
	v := newEnvFor(t, a, func(c *session.Config) {
		c.CookieDomain = ".example.local"
		c.CookiePath = "/example/"
	})
	key := v.newStored(map[string]any{"foo": "bar"})
	v.handle("/example/flush", func(c echo.Context, s *session.Session) error { s.Flush(); return c.NoContent(http.StatusOK) })
	rec := v.do("/example/flush", "sessionid="+key)
	want := "sessionid=; Path=/example/; Domain=example.local; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=Lax"
	if got := setCookieHeader(rec); got != want {
		t.Fatalf("Set-Cookie = %q, want %q", got, want)
	}
}

func TestMiddlewareCookieSettings(t *testing.T) { bothAdapters(t, testMiddlewareCookieSettings) }

func testMiddlewareCookieSettings(t *testing.T, a adapter) {
	v := newEnvFor(t, a, func(c *session.Config) {
		c.CookieSecure = true
		c.DisableCookieHTTPOnly = true
		c.CookieSameSite = http.SameSiteStrictMode
		c.CookieName = "sid"
		c.CookieAge = time.Hour
	})
	v.handle("/set", setFoo)
	rec := v.do("/set", "")
	h := strings.Join(rec.Header().Values("Set-Cookie"), "\n")
	for _, want := range []string{"sid=", "Secure", "SameSite=Strict", "Max-Age=3600"} {
		if !strings.Contains(h, want) {
			t.Errorf("Set-Cookie %q lacks %q", h, want)
		}
	}
	if strings.Contains(h, "HttpOnly") {
		t.Errorf("Set-Cookie %q has HttpOnly", h)
	}
	if !hasVaryCookie(rec) {
		t.Error("no Vary")
	}
}

func TestMiddlewareBrowserCloseAndExpiryCookie(t *testing.T) {
	bothAdapters(t, testMiddlewareBrowserCloseAndExpiryCookie)
}

func testMiddlewareBrowserCloseAndExpiryCookie(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/close", func(c echo.Context, s *session.Session) error {
		s.SetExpiry(0)
		s.Set("a", 1)
		return c.NoContent(http.StatusOK)
	})
	v.handle("/soon", func(c echo.Context, s *session.Session) error {
		s.SetExpiryAt(v.clock.Now().Add(299900 * time.Millisecond))
		s.Set("a", 1)
		return c.NoContent(http.StatusOK)
	})
	v.handle("/past", func(c echo.Context, s *session.Session) error {
		s.SetExpiry(-10)
		s.Set("a", 1)
		return c.NoContent(http.StatusOK)
	})
	h := setCookieHeader(v.do("/close", ""))
	if h == "" || strings.Contains(h, "Max-Age") || strings.Contains(h, "Expires") {
		t.Fatalf("browser-close cookie %q", h)
	}
	if h := setCookieHeader(v.do("/soon", "")); !strings.Contains(h, "Max-Age=299;") {
		t.Fatalf("expiry in 299.9 s gives %q, want Max-Age=299", h)
	}
	if h := setCookieHeader(v.do("/past", "")); !strings.Contains(h, "Max-Age=0") {
		t.Fatalf("expiry in the past gives %q", h)
	}
}

func TestMiddlewareSaveEveryRequest(t *testing.T) { bothAdapters(t, testMiddlewareSaveEveryRequest) }

func testMiddlewareSaveEveryRequest(t *testing.T, a adapter) {
	v := newEnvFor(t, a, func(c *session.Config) { c.SaveEveryRequest = true })
	key := v.newStored(map[string]any{"foo": "bar"})
	before := mustLoad(t, v, key).Expires
	v.handle("/none", func(c echo.Context, s *session.Session) error { return c.NoContent(http.StatusOK) })
	v.clock.Advance(time.Hour)
	rec := v.do("/none", "sessionid="+key)
	ck := sessionCookie(rec)
	if ck == nil || ck.Value != key || !hasVaryCookie(rec) {
		t.Fatalf("cookie %v vary %v", ck, hasVaryCookie(rec))
	}
	if after := mustLoad(t, v, key).Expires; !after.Equal(before.Add(time.Hour)) {
		t.Fatalf("expiry did not slide: %v -> %v", before, after)
	}
	// A made-up key must not create empty records (Django's weakness).
	rec = v.do("/none", "sessionid=unknownkeyunknownkeyunknownkey12")
	if v.mem.Len() != 1 {
		t.Fatalf("%d records after a request with an unknown key", v.mem.Len())
	}
	if h := setCookieHeader(rec); !strings.Contains(h, "Max-Age=0") {
		t.Fatalf("unknown key: Set-Cookie %q, want deletion", h)
	}
}

func TestMiddlewareNoSaveOn5xx(t *testing.T) { bothAdapters(t, testMiddlewareNoSaveOn5xx) }

func testMiddlewareNoSaveOn5xx(t *testing.T, a adapter) {
	for _, code := range []int{500, 503} {
		v := newEnvFor(t, a)
		key := v.newStored(map[string]any{"foo": "bar"})
		v.handle("/fail", func(c echo.Context, s *session.Session) error {
			s.Set("foo", "changed")
			return c.String(code, "boom")
		})
		v.handle("/fail-error", func(c echo.Context, s *session.Session) error {
			s.Set("foo", "changed")
			return errors.New("handler failure")
		})
		v.handle("/flush-fail", func(c echo.Context, s *session.Session) error {
			s.Flush()
			return c.NoContent(code)
		})
		for _, p := range []string{"/fail", "/fail-error", "/flush-fail"} {
			rec := v.do(p, "sessionid="+key)
			if rec.Code < 500 || setCookieHeader(rec) != "" || !hasVaryCookie(rec) {
				t.Fatalf("%d %s: status %d Set-Cookie %q vary %v", code, p, rec.Code, setCookieHeader(rec), hasVaryCookie(rec))
			}
			if got := v.stored(key); got["foo"] != "bar" {
				t.Fatalf("%d %s: stored %v", code, p, got)
			}
		}
	}
}

func TestMiddlewareSavesOn4xxError(t *testing.T) { bothAdapters(t, testMiddlewareSavesOn4xxError) }

func testMiddlewareSavesOn4xxError(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/notfound", func(c echo.Context, s *session.Session) error {
		s.Set("seen", true)
		return echo.NewHTTPError(http.StatusNotFound)
	})
	rec := v.do("/notfound", "")
	ck := sessionCookie(rec)
	if rec.Code != 404 || ck == nil || v.stored(ck.Value)["seen"] != true {
		t.Fatalf("status %d cookie %v", rec.Code, ck)
	}
}

func TestMiddlewareResponseStarts(t *testing.T) { bothAdapters(t, testMiddlewareResponseStarts) }

func testMiddlewareResponseStarts(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/nobody", func(c echo.Context, s *session.Session) error {
		s.Set("how", "nobody")
		return nil
	})
	v.handle("/direct", func(c echo.Context, s *session.Session) error {
		s.Set("how", "direct")
		_, err := c.Response().Writer.Write([]byte("raw"))
		return err
	})
	v.handle("/header", func(c echo.Context, s *session.Session) error {
		s.Set("how", "header")
		c.Response().Writer.WriteHeader(http.StatusAccepted)
		return nil
	})
	v.handle("/stream", func(c echo.Context, s *session.Session) error {
		s.Set("how", "stream")
		c.Response().Flush()
		s.Set("late", true) // after the response started: too late to save
		_, err := c.Response().Write([]byte("chunk"))
		return err
	})
	for _, p := range []string{"/nobody", "/direct", "/header", "/stream"} {
		rec := v.do(p, "")
		ck := sessionCookie(rec)
		if ck == nil {
			t.Fatalf("%s: no cookie; headers %v", p, rec.Header())
		}
		if got := v.stored(ck.Value); got["how"] != p[1:] {
			t.Fatalf("%s: stored %v", p, got)
		}
	}
}

func TestMiddlewareStoreFailure(t *testing.T) { bothAdapters(t, testMiddlewareStoreFailure) }

func testMiddlewareStoreFailure(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"foo": "bar"})
	v.handle("/write", func(c echo.Context, s *session.Session) error {
		s.Set("foo", "x")
		return c.String(http.StatusOK, "SECRET-HANDLER-BODY")
	})
	v.handle("/read", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, "user="+s.GetString("foo", "guest"))
	})
	fault := errors.New("disk I/O error: database is locked")
	v.store.fail.Store(&fault)
	for _, p := range []string{"/write", "/read"} {
		for _, ck := range []string{"", "sessionid=" + key} {
			v.logs.Reset()
			rec := v.do(p, ck)
			if rec.Code != http.StatusServiceUnavailable && !(p == "/read" && ck == "") {
				t.Fatalf("%s %q: status %d, want 503", p, ck, rec.Code)
			}
			body := rec.Body.String()
			if rec.Code == 503 && (strings.Contains(body, "SECRET") || strings.Contains(body, "disk I/O") || strings.Contains(body, "guest")) {
				t.Fatalf("%s: error response leaks %q", p, body)
			}
			if rec.Code == 503 && (setCookieHeader(rec) != "" || !strings.Contains(v.logs.String(), "session store failed")) {
				t.Fatalf("%s: cookie %q, logs %q", p, setCookieHeader(rec), v.logs.String())
			}
		}
	}
	v.store.fail.Store(nil)
	if got := v.stored(key); got["foo"] != "bar" {
		t.Fatalf("stored = %v", got)
	}
}

func TestMiddlewareCustomErrorHandler(t *testing.T) {
	v := newEnv(t, func(c *session.Config) {
		c.ErrorHandler = func(c echo.Context, err error) {
			_ = c.String(http.StatusTeapot, "custom: "+fmt.Sprint(errors.Is(err, session.ErrInterrupted)))
		}
	})
	fault := errors.New("down")
	v.store.fail.Store(&fault)
	v.handle("/write", setFoo)
	rec := v.do("/write", "")
	if rec.Code != http.StatusTeapot || rec.Body.String() != "custom: false" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
}

func TestMiddlewareInterrupted(t *testing.T) { bothAdapters(t, testMiddlewareInterrupted) }

func testMiddlewareInterrupted(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"user": "ann"})
	v.handle("/slow", func(c echo.Context, s *session.Session) error {
		s.Set("cart", 1)
		// Logout in another tab, while this request runs.
		other := v.m.Open(context.Background(), key)
		other.Flush()
		if err := other.Save(); err != nil {
			return err
		}
		return c.String(http.StatusOK, "HANDLER")
	})
	rec := v.do("/slow", "sessionid="+key)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "HANDLER") || setCookieHeader(rec) != "" {
		t.Fatalf("status %d body %q cookie %q", rec.Code, rec.Body, setCookieHeader(rec))
	}
	if v.mem.Len() != 0 {
		t.Fatal("the logged-out session was resurrected")
	}
}

func TestMiddlewareClearKeepsCookie(t *testing.T) { bothAdapters(t, testMiddlewareClearKeepsCookie) }

func testMiddlewareClearKeepsCookie(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"foo": "bar"})
	v.handle("/clear", func(c echo.Context, s *session.Session) error { s.Clear(); return c.NoContent(http.StatusOK) })
	rec := v.do("/clear", "sessionid="+key)
	if ck := sessionCookie(rec); ck == nil || ck.Value != key || !hasVaryCookie(rec) {
		t.Fatalf("cookie %v", ck)
	}
	if got := v.stored(key); got == nil || len(got) != 0 {
		t.Fatalf("stored = %v, want {}", got)
	}
}

func TestMiddlewareVaryAppends(t *testing.T) { bothAdapters(t, testMiddlewareVaryAppends) }

func testMiddlewareVaryAppends(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.handle("/set", func(c echo.Context, s *session.Session) error {
		c.Response().Header().Add("Vary", "Accept-Encoding")
		return setFoo(c, s)
	})
	rec := v.do("/set", "")
	if got := rec.Header().Values("Vary"); len(got) != 2 || got[0] != "Accept-Encoding" || got[1] != "Cookie" {
		t.Fatalf("Vary = %v", got)
	}
}

func TestMiddlewareSkipper(t *testing.T) {
	v := newEnv(t, func(c *session.Config) {
		c.Skipper = func(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/static") }
	})
	v.e.GET("/static/x", func(c echo.Context) error {
		defer func() {
			if recover() == nil {
				t.Error("From did not panic without the middleware")
			}
		}()
		session.From(c)
		return nil
	})
	v.do("/static/x", "")
}

func TestMiddlewareConcurrentRequests(t *testing.T) {
	bothAdapters(t, testMiddlewareConcurrentRequests)
}

func testMiddlewareConcurrentRequests(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	key := v.newStored(map[string]any{"visits": 0})
	v.handle("/visit", func(c echo.Context, s *session.Session) error {
		s.Incr("visits", 1)
		s.Set(c.QueryParam("k"), true)
		return c.NoContent(http.StatusOK)
	})
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/visit?k=k%d", i), nil)
			req.Header.Set("Cookie", "sessionid="+key)
			rec := httptest.NewRecorder()
			v.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("status %d", rec.Code)
			}
		}()
	}
	wg.Wait()
	got := v.stored(key)
	if got["visits"] != json.Number(fmt.Sprint(n)) || len(got) != n+1 {
		t.Fatalf("after %d concurrent requests: visits=%v, %d keys (want %d)", n, got["visits"], len(got), n+1)
	}
}

// TestZeroConfigSendsDjangosCookie: a Config literal that names only its
// store and key sends the cookie Django sends by default (HttpOnly,
// SameSite=Lax, two weeks, Path=/), and each attribute goes only by an
// explicit choice, as with Django's SESSION_COOKIE_HTTPONLY = False and
// SESSION_COOKIE_SAMESITE = False.
func TestZeroConfigSendsDjangosCookie(t *testing.T) {
	for _, tc := range []struct {
		name          string
		mutate        func(*session.Config)
		want, notWant []string
	}{
		{"zero", func(*session.Config) {}, []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"}, []string{"Secure"}},
		{"HttpOnly disabled", func(c *session.Config) { c.DisableCookieHTTPOnly = true }, []string{"SameSite=Lax"}, []string{"HttpOnly"}},
		{"SameSite left out", func(c *session.Config) { c.CookieSameSite = http.SameSiteDefaultMode }, []string{"HttpOnly"}, []string{"SameSite"}},
		{"SameSite Strict", func(c *session.Config) { c.CookieSameSite = http.SameSiteStrictMode }, []string{"HttpOnly", "SameSite=Strict"}, nil},
		{"SameSite None", func(c *session.Config) { c.CookieSameSite, c.CookieSecure = http.SameSiteNoneMode, true }, []string{"HttpOnly", "SameSite=None", "Secure"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := session.Config{Store: &captureStore{recs: map[string]session.Record{}}, SecretKey: "k"}
			tc.mutate(&cfg)
			m, err := session.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("a", 1)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			got := rec.Header().Get("Set-Cookie")
			if !strings.HasPrefix(got, "sessionid=") {
				t.Fatalf("Set-Cookie = %q, want the session cookie", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Set-Cookie %q lacks %s", got, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Set-Cookie %q has %s", got, w)
				}
			}
		})
	}
}
