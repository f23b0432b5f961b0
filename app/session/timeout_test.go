package session_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
)

// expiresAt returns the stored expiry of key's record.
func (v *env) expiresAt(key string) time.Time {
	v.t.Helper()
	rec, err := v.mem.Load(context.Background(), key)
	if err != nil {
		v.t.Fatalf("load %s: %v", key, err)
	}
	return rec.Expires
}

// readRoute registers /read, which reads the session without changing it,
// and /login, which logs in as Django's login() does (a key cycle and the
// absolute timeout's clock restarted).
func (v *env) timeoutRoutes() {
	v.handle("/read", func(c echo.Context, s *session.Session) error {
		return c.String(http.StatusOK, s.GetString("user", "none"))
	})
	v.handle("/login", func(c echo.Context, s *session.Session) error {
		s.CycleKey()
		s.Set("user", "7")
		s.RestartAbsoluteTimeout()
		return c.String(http.StatusOK, "in")
	})
	v.handle("/cycle", func(c echo.Context, s *session.Session) error {
		s.CycleKey()
		return c.String(http.StatusOK, "cycled")
	})
}

// cookieOf returns the request cookie for the session of rec, or fails.
func cookieOf(t *testing.T, rec interface{ Result() *http.Response }) string {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sessionid" && c.Value != "" {
			return "sessionid=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestIdleTimeout: with IdleTimeout the record's expiry is the last use
// plus the timeout, so a session unused that long is gone (for a Django
// site reading expire_date too); a request that only reads the session
// writes it again once its expiry has fallen a tenth of the timeout
// behind, and not before (a read is not a write on every request).
func TestIdleTimeout(t *testing.T) {
	const idle = 30 * time.Minute
	v := newEnv(t, func(cfg *session.Config) { cfg.IdleTimeout = idle })
	v.timeoutRoutes()
	t0 := v.clock.Now()
	key := v.newStored(map[string]any{"user": "7"})
	if got := v.expiresAt(key); !got.Equal(t0.Add(idle)) {
		t.Fatalf("expiry %v, want the idle timeout from now, %v", got, t0.Add(idle))
	}
	cookie := "sessionid=" + key

	v.clock.Advance(time.Minute)
	writes := v.store.writes.Load()
	if rec := v.do("/read", cookie); rec.Body.String() != "7" {
		t.Fatalf("read after a minute: %q", rec.Body)
	}
	if n := v.store.writes.Load() - writes; n != 0 {
		t.Errorf("a read a minute after the last write wrote %d times; the refresh is due only after a tenth of the timeout", n)
	}

	v.clock.Advance(20 * time.Minute) // t0+21m
	rec := v.do("/read", cookie)
	if rec.Body.String() != "7" {
		t.Fatalf("read after 21 minutes: %q", rec.Body)
	}
	if got, want := v.expiresAt(key), t0.Add(21*time.Minute+idle); !got.Equal(want) {
		t.Errorf("expiry after a use at +21m: %v, want %v", got, want)
	}
	if ck := sessionCookie(rec); ck == nil || ck.MaxAge != int(idle/time.Second) {
		t.Errorf("the refreshed cookie %v: want Max-Age %d, the idle timeout", ck, int(idle/time.Second))
	}

	v.clock.Advance(idle - time.Second) // unused for just under the timeout
	if rec := v.do("/read", cookie); rec.Body.String() != "7" {
		t.Fatalf("read just within the timeout: %q", rec.Body)
	}
	v.clock.Advance(idle) // unused for the whole timeout
	if rec := v.do("/read", cookie); rec.Body.String() != "none" {
		t.Fatalf("read after the idle timeout: %q, want the session gone", rec.Body)
	}
}

// TestAbsoluteTimeout: with AbsoluteTimeout a session ends that long
// after its login whatever its activity; the clock restarts at login, not
// at another key cycle.
func TestAbsoluteTimeout(t *testing.T) {
	const abs = time.Hour
	v := newEnv(t, func(cfg *session.Config) { cfg.AbsoluteTimeout = abs })
	v.timeoutRoutes()
	t0 := v.clock.Now()

	anon := v.newStored(map[string]any{"cart": "1"})
	v.clock.Advance(10 * time.Minute)
	cookie := cookieOf(t, v.do("/login", "sessionid="+anon)) // login at t0+10m
	for range 2 {
		v.clock.Advance(20 * time.Minute)
		if rec := v.do("/read", cookie); rec.Body.String() != "7" {
			t.Fatalf("read at %v: %q", v.clock.Now().Sub(t0), rec.Body)
		}
	}
	v.clock.Advance(10 * time.Minute)            // t0+60m
	cookie = cookieOf(t, v.do("/cycle", cookie)) // not a login
	if got, want := v.expiresAt(cookie[len("sessionid="):]), t0.Add(10*time.Minute+abs); !got.Equal(want) {
		t.Errorf("expiry after a key cycle: %v, want the login's %v", got, want)
	}
	v.clock.Advance(10*time.Minute - time.Second) // just before login + 1h
	if rec := v.do("/read", cookie); rec.Body.String() != "7" {
		t.Fatalf("read just before the absolute timeout: %q", rec.Body)
	}
	v.clock.Advance(time.Second)
	if rec := v.do("/read", cookie); rec.Body.String() != "none" {
		t.Fatalf("read at the absolute timeout: %q, want the session gone", rec.Body)
	}
}

// TestAbsoluteTimeoutHoldsAgainstExpireDate: a session past its absolute
// timeout does not load even when its expire_date was moved later behind
// the site's back (a Django site that wrote it again); one stored without
// a clock (before the setting, or by Django) gets one at its first use.
func TestAbsoluteTimeoutHoldsAgainstExpireDate(t *testing.T) {
	const abs = time.Hour
	v := newEnv(t, func(cfg *session.Config) { cfg.AbsoluteTimeout = abs })
	v.timeoutRoutes()
	ctx := context.Background()
	key := v.newStored(map[string]any{"user": "7"})
	rec, err := v.mem.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Expires = v.clock.Now().Add(14 * 24 * time.Hour)
	if err := v.mem.Update(ctx, rec, rec.Data); err != nil {
		t.Fatal(err)
	}
	v.clock.Advance(abs)
	if rec := v.do("/read", "sessionid="+key); rec.Body.String() != "none" {
		t.Errorf("a session past its absolute timeout loaded: %q", rec.Body)
	}
	if _, _, err := v.m.Peek(ctx, key); err != session.ErrNotFound {
		t.Errorf("Peek of a session past its absolute timeout: %v, want ErrNotFound", err)
	}

	// Stored without a clock: the first use starts it.
	plain := newEnv(t)
	old := plain.newStored(map[string]any{"user": "8"})
	data, err := plain.mem.Load(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.mem.Create(ctx, data); err != nil {
		t.Fatal(err)
	}
	start := v.clock.Now()
	if rec := v.do("/read", "sessionid="+old); rec.Body.String() != "8" {
		t.Fatalf("read: %q", rec.Body)
	}
	if got := v.stored(old)["_session_start"]; got != jsonNumber(int(start.Unix())) {
		t.Errorf("_session_start = %v after the first use, want %d", got, start.Unix())
	}
	if got, want := v.expiresAt(old), start.Add(abs); !got.Equal(want) {
		t.Errorf("expiry %v, want %v", got, want)
	}
}

// TestTimeoutsOffByDefault: without the settings the data is Django's
// (no clock key) and the expiry Django's (the cookie age), and a read is
// never a write.
func TestTimeoutsOffByDefault(t *testing.T) {
	v := newEnv(t)
	v.timeoutRoutes()
	cookie := cookieOf(t, v.do("/login", ""))
	key := cookie[len("sessionid="):]
	if _, ok := v.stored(key)["_session_start"]; ok {
		t.Error("a clock was stored with the timeouts off")
	}
	if got, want := v.expiresAt(key), v.clock.Now().Add(1209600*time.Second); !got.Equal(want) {
		t.Errorf("expiry %v, want Django's %v", got, want)
	}
	v.clock.Advance(7 * 24 * time.Hour)
	writes := v.store.writes.Load()
	v.do("/read", cookie)
	if v.store.writes.Load() != writes {
		t.Error("a read wrote the session with the timeouts off")
	}
}

// TestIdleTimeoutSignedCookies: with signed cookies the cookie is the
// record, and its signature's time is its last write: the idle timeout
// counts from it.
func TestIdleTimeoutSignedCookies(t *testing.T) {
	const idle = 10 * time.Minute
	v := newEnv(t, func(cfg *session.Config) {
		cfg.Store, cfg.SignedCookies, cfg.IdleTimeout = nil, true, idle
	})
	v.timeoutRoutes()
	cookie := cookieOf(t, v.do("/login", ""))
	v.clock.Advance(5 * time.Minute)
	rec := v.do("/read", cookie)
	if rec.Body.String() != "7" {
		t.Fatalf("read: %q", rec.Body)
	}
	cookie = cookieOf(t, rec) // refreshed: a tenth of the timeout had passed
	v.clock.Advance(idle - time.Second)
	if rec := v.do("/read", cookie); rec.Body.String() != "7" {
		t.Fatalf("read within the timeout of the refresh: %q", rec.Body)
	}
	v.clock.Advance(idle + time.Second)
	if rec := v.do("/read", cookie); rec.Body.String() != "none" {
		t.Errorf("read after the idle timeout: %q", rec.Body)
	}
}
