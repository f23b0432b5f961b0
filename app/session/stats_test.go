package session_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/labstack/echo/v4"
)

// TestStats: each outcome of a store call is counted once, under its
// name.
func TestStats(t *testing.T) {
	v := newEnv(t, func(c *session.Config) { c.StoreTimeout = 200 * time.Millisecond })
	ctx := context.Background()
	v.handle("/visit", func(c echo.Context, s *session.Session) error {
		s.Incr("visits", 1)
		return c.String(http.StatusOK, "ok")
	})
	// Another process saves the session while the request holds it.
	var other func(key string)
	v.handle("/raced", func(c echo.Context, s *session.Session) error {
		s.Incr("visits", 1)
		other(s.Key())
		return c.String(http.StatusOK, "ok")
	})
	check := func(step string, want session.Stats) {
		t.Helper()
		if got := v.m.Stats(); got != want {
			t.Errorf("after %s: Stats = %+v, want %+v", step, got, want)
		}
	}

	check("nothing", session.Stats{})
	key := sessionCookie(v.do("/visit", "")).Value
	check("a new session", session.Stats{Saves: 1})
	v.do("/visit", "sessionid="+key)
	check("a visit", session.Stats{Loads: 1, Saves: 2})
	v.do("/visit", "sessionid="+session.NewKey())
	check("an unknown key", session.Stats{Loads: 2, NotFound: 1, Saves: 3})

	other = func(key string) {
		s := v.m.Open(ctx, key)
		s.Incr("visits", 1)
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
	}
	v.do("/raced", "sessionid="+key)
	// The request's load, the other's load and save, the request's
	// conflict, reload and save.
	check("a conflict", session.Stats{Loads: 5, NotFound: 1, Saves: 5, Conflicts: 1})
	if got := v.stored(key)["visits"]; got != jsonNumber(4) {
		t.Errorf("visits = %v, want 4", got)
	}

	other = func(key string) {
		if err := v.mem.Delete(ctx, key, ""); err != nil {
			t.Fatal(err)
		}
	}
	if rec := v.do("/raced", "sessionid="+key); rec.Code != http.StatusBadRequest {
		t.Fatalf("a session deleted during its request: status %d, want 400", rec.Code)
	}
	check("an interrupted save", session.Stats{Loads: 6, NotFound: 1, Saves: 5, Conflicts: 1, Interrupted: 1})

	key = v.newStored(map[string]any{"visits": 0})
	failure := errors.New("disk I/O error")
	v.store.fail.Store(&failure)
	v.do("/visit", "sessionid="+key)
	v.store.fail.Store(nil)
	check("a failed load", session.Stats{Loads: 7, NotFound: 1, Saves: 6, Conflicts: 1, Interrupted: 1, LoadErrors: session.ErrorCounts{Failure: 1}})

	release := make(chan struct{})
	v.store.hold.Store(&hold{release: release})
	if rec := v.do("/visit", "sessionid="+key); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a save stuck past the budget: status %d, want 503", rec.Code)
	}
	close(release)
	check("a save timed out", session.Stats{Loads: 8, NotFound: 1, Saves: 6, Conflicts: 1, Interrupted: 1,
		LoadErrors: session.ErrorCounts{Failure: 1}, SaveErrors: session.ErrorCounts{Timeout: 1}})
}
