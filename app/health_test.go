package app

import (
	"github.com/djangosessions/gosessions/migrations"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthEndpoints(t *testing.T) {
	db := migratedDB(t)
	e, closeSite, err := New(testConfig(), db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	probe := func(method, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: "abcdefghijklmnopqrstuvwxyz012345"})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if ck := rec.Header().Values("Set-Cookie"); len(ck) != 0 {
			t.Errorf("%s %s set a cookie: %q", method, path, ck)
		}
		if v := rec.Header().Get("Vary"); v != "" {
			t.Errorf("%s %s: Vary %q: a probe must not touch the session", method, path, v)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, path, cc)
		}
		return rec
	}
	for _, tc := range []struct{ path, body string }{{"/healthz", "ok\n"}, {"/readyz", "ready\n"}} {
		if rec := probe(http.MethodGet, tc.path); rec.Code != 200 || rec.Body.String() != tc.body {
			t.Errorf("GET %s = %d %q, want 200 %q", tc.path, rec.Code, rec.Body, tc.body)
		}
		if rec := probe(http.MethodHead, tc.path); rec.Code != 200 {
			t.Errorf("HEAD %s = %d", tc.path, rec.Code)
		}
	}

	sqlDB := db.SQL()
	if _, err := sqlDB.Exec("UPDATE " + migrations.VersionTable + " SET version = 3"); err != nil {
		t.Fatal(err)
	}
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || rec.Body.String() != "schema not migrated: 1 pending migrations\n" {
		t.Errorf("readyz, schema behind: %d %q", rec.Code, rec.Body)
	}
	if _, err := sqlDB.Exec("UPDATE " + migrations.VersionTable + " SET version = 1, dirty = 1"); err != nil {
		t.Fatal(err)
	}
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || !strings.HasPrefix(rec.Body.String(), "schema dirty") {
		t.Errorf("readyz, dirty schema: %d %q", rec.Code, rec.Body)
	}
	sqlDB.Close()
	if rec := probe(http.MethodGet, "/readyz"); rec.Code != 503 || rec.Body.String() != "database unavailable\n" {
		t.Errorf("readyz, database closed: %d %q", rec.Code, rec.Body)
	}
	if rec := probe(http.MethodGet, "/healthz"); rec.Code != 200 {
		t.Errorf("healthz with the database closed: %d: the process still serves", rec.Code)
	}
}

// While a shutdown drains the site, /readyz answers 503 "draining" (to the
// probes already on a connection: the listener is closed by then).
func TestReadyzDraining(t *testing.T) {
	lc := &lifecycle{}
	e, closeSite, _, err := newSite(testConfig(), migratedDB(t), slog.New(slog.DiscardHandler), lc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	lc.draining.Store(true)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "draining\n" {
		t.Errorf("readyz while draining = %d %q, want 503 draining", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("healthz while draining = %d, want 200: the process still serves", rec.Code)
	}
}
