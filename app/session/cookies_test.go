package session_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
)

// cookieEnv is an env whose manager keeps sessions in signed cookies.
func cookieEnv(t *testing.T, a adapter, configure ...func(*session.Config)) *env {
	t.Helper()
	return newEnvFor(t, a, append([]func(*session.Config){func(c *session.Config) {
		c.Store = nil
		c.SignedCookies = true
	}}, configure...)...)
}

// Django's signed_cookies vector (shared/django-sessions.md §1.7): the
// value Django's engine writes for {"foo": "bar"} at 1700000000.
const djangoCookie = "eyJmb28iOiJiYXIifQ:1r31eq:g8JWGPn4Ms3JR7KO9L6Mwuf2_l5N0t4IA-zBtDPwYrg"

func TestSignedCookiesGoldenVector(t *testing.T) {
	at := time.Unix(1700000000, 0)
	got, err := signing.NewTimestampSigner(testSecret, nil, session.CookieSalt).Dumps(map[string]any{"foo": "bar"}, at)
	if err != nil || got != djangoCookie {
		t.Fatalf("Dumps = %q, %v; want Django's %q", got, err, djangoCookie)
	}
	// A manager reads Django's cookie while it is younger than CookieAge.
	v := cookieEnv(t, echoAdapter)
	v.clock.t = at.Add(time.Hour)
	if got := v.m.Open(context.Background(), djangoCookie).GetString("foo", ""); got != "bar" {
		t.Errorf("Django's cookie read as foo=%q, want bar", got)
	}
	v.clock.t = at.Add(1209600*time.Second + time.Second)
	if got := v.m.Open(context.Background(), djangoCookie).GetString("foo", "expired"); got != "expired" {
		t.Errorf("Django's cookie older than SESSION_COOKIE_AGE read as foo=%q", got)
	}
}

// TestSignedCookies walks the engine through the middleware: the data
// travels in the cookie, nothing is stored, flush deletes the cookie, a
// tampered or expired cookie reads as empty and is deleted.
func TestSignedCookies(t *testing.T) { bothAdapters(t, testSignedCookies) }

func testSignedCookies(t *testing.T, a adapter) {
	v := cookieEnv(t, a)
	v.handle("/set", func(c echo.Context, s *session.Session) error {
		s.Set("user", c.QueryParam("u"))
		s.Incr("n", 1)
		return c.String(http.StatusOK, "ok")
	})
	v.handle("/get", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, s.GetString("user", "anonymous"))
	})
	v.handle("/flush", func(c echo.Context, s *session.Session) error { s.Flush(); return c.NoContent(http.StatusOK) })
	v.handle("/cycle", func(c echo.Context, s *session.Session) error { s.CycleKey(); return c.NoContent(http.StatusOK) })
	v.handle("/expire", func(c echo.Context, s *session.Session) error {
		s.SetExpiry(60)
		return c.NoContent(http.StatusOK)
	})

	ck := sessionCookie(v.do("/set?u=ann", ""))
	if ck == nil || !strings.Contains(ck.Value, ":") || ck.MaxAge != 1209600 || !ck.HttpOnly {
		t.Fatalf("cookie %+v", ck)
	}
	if v.store.writes.Load() != 0 || v.mem.Len() != 0 {
		t.Error("the signed-cookies engine wrote to the store")
	}
	if data, err := signing.NewTimestampSigner(testSecret, nil, session.CookieSalt).Loads(ck.Value); err != nil || data["user"] != "ann" {
		t.Errorf("the cookie holds %v, %v; want Django's signed JSON with user=ann", data, err)
	}
	if got := v.do("/get", "sessionid="+ck.Value).Body.String(); got != "ann" {
		t.Errorf("read back user=%q", got)
	}
	again := sessionCookie(v.do("/set?u=bob", "sessionid="+ck.Value))
	if data := v.m.Open(context.Background(), again.Value).Items(); data["n"] != jsonNumber(2) || data["user"] != "bob" {
		t.Errorf("second request's cookie holds %v, want n=2 user=bob", data)
	}

	cycled := sessionCookie(v.do("/cycle", "sessionid="+again.Value))
	if cycled == nil || v.m.Open(context.Background(), cycled.Value).GetString("user", "") != "bob" {
		t.Errorf("CycleKey: cookie %v, want the same data re-signed", cycled)
	}

	rec := v.do("/flush", "sessionid="+again.Value)
	if h := setCookieHeader(rec); !strings.Contains(h, "Max-Age=0") {
		t.Errorf("flush: Set-Cookie %q, want the cookie deleted", h)
	}

	tampered := strings.Replace(again.Value, again.Value[:4], "eyJh", 1)
	v.logs.Reset()
	rec = v.do("/get", "sessionid="+tampered)
	if rec.Body.String() != "anonymous" || !strings.Contains(setCookieHeader(rec), "Max-Age=0") || !strings.Contains(v.logs.String(), "session cookie refused") {
		t.Errorf("tampered: body %q, Set-Cookie %q, logs %q", rec.Body, setCookieHeader(rec), v.logs.String())
	}

	// Past SESSION_COOKIE_AGE the signature has expired, logged or not.
	v.clock.Advance(1209600*time.Second + time.Second)
	if got := v.do("/get", "sessionid="+again.Value).Body.String(); got != "anonymous" {
		t.Errorf("a cookie older than CookieAge read as %q", got)
	}

	// A session's own expiry is enforced too (Django's #19201).
	short := sessionCookie(v.do("/expire", "sessionid="+sessionCookie(v.do("/set?u=cy", "")).Value))
	if short == nil || short.MaxAge != 60 {
		t.Fatalf("SetExpiry(60): cookie %+v", short)
	}
	if got := v.do("/get", "sessionid="+short.Value).Body.String(); got != "cy" {
		t.Errorf("within its expiry: %q", got)
	}
	v.clock.Advance(61 * time.Second)
	if got := v.do("/get", "sessionid="+short.Value).Body.String(); got != "anonymous" {
		t.Errorf("a cookie past its own expiry read as %q", got)
	}
}

// TestSignedCookieTooLarge: a session whose cookie would exceed 4096 bytes
// is an error for the error handler (a 500 and one log line with the
// size), never a cookie the browser drops; the browser keeps the cookie
// it had.
func TestSignedCookieTooLarge(t *testing.T) { bothAdapters(t, testSignedCookieTooLarge) }

func testSignedCookieTooLarge(t *testing.T, a adapter) {
	v := cookieEnv(t, a)
	v.handle("/big", func(c echo.Context, s *session.Session) error {
		s.Set("blob", randomText(5000)) // incompressible
		return c.String(http.StatusOK, "HANDLER")
	})
	rec := v.do("/big", "")
	if rec.Code != http.StatusInternalServerError || setCookieHeader(rec) != "" || strings.Contains(rec.Body.String(), "HANDLER") {
		t.Errorf("status %d Set-Cookie %q body %q; want a 500 and no cookie", rec.Code, setCookieHeader(rec), rec.Body)
	}
	logs := v.logs.String()
	if strings.Count(logs, "level=ERROR") != 1 || !strings.Contains(logs, "bytes") || !strings.Contains(logs, "4096") {
		t.Errorf("logs %q, want one ERROR line giving the size", logs)
	}
	s := v.m.Open(context.Background(), "")
	s.Set("blob", randomText(5000))
	if err := s.Save(); err != nil {
		t.Fatalf("Save: %v (the limit applies to the cookie sent)", err)
	}
}

// TestSignedCookiesConfig: SignedCookies and a Store exclude each other.
func TestSignedCookiesConfig(t *testing.T) {
	cfg := session.DefaultConfig()
	cfg.SecretKey = "k"
	if _, err := session.New(cfg); err == nil {
		t.Error("New without Store or SignedCookies succeeded")
	}
	cfg.SignedCookies = true
	if _, err := session.New(cfg); err != nil {
		t.Errorf("New with SignedCookies: %v", err)
	}
	cfg.Store = newEnv(t).mem
	if _, err := session.New(cfg); err == nil || !strings.Contains(err.Error(), "SignedCookies") {
		t.Errorf("New with both = %v, want an error", err)
	}
}

// randomText returns n letters that compression cannot shorten much.
func randomText(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for range n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[x%62])
	}
	return b.String()
}
