package app

import (
	"context"
	"fmt"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logLines returns the non-empty lines of logs.
func logLines(logs *syncBuffer) []string {
	var out []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestLogDedup(t *testing.T) {
	var logs syncBuffer
	clk := &fakeClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	d := newLogDedup(slog.New(slog.NewTextHandler(&logs, nil)), 10*time.Second, clk.now)
	ctx := context.Background()
	status := slog.Int("status", 503)

	if !d.first(ctx, "a", status, slog.String("error", "locked 1")) {
		t.Fatal("the first line of a key was folded")
	}
	for range 3 {
		if d.first(ctx, "a", status, slog.String("error", "locked 2")) {
			t.Fatal("a repeat within the window was not folded")
		}
	}
	if !d.first(ctx, "b", status) {
		t.Fatal("another key was folded")
	}
	clk.add(9 * time.Second)
	d.flushEnded(ctx)
	if got := logLines(&logs); len(got) != 0 {
		t.Fatalf("lines before the window ended: %q", got)
	}
	clk.add(time.Second)
	d.flushEnded(ctx)
	got := logLines(&logs)
	if len(got) != 1 {
		t.Fatalf("after the window: %d lines, want 1 (key b folded nothing): %q", len(got), got)
	}
	for _, want := range []string{"level=ERROR", `msg="more requests failed the same way"`, "status=503", `error="locked 1"`, "count=3", "since=2026-11-29T12:00:00Z"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("summary lacks %s: %s", want, got[0])
		}
	}
	if !d.first(ctx, "a", status) {
		t.Error("the first line of a new window was folded")
	}
	d.first(ctx, "a", status)
	d.close()
	if got := logLines(&logs); len(got) != 2 || !strings.Contains(got[1], "count=1") {
		t.Errorf("close did not summarize the open window: %q", got)
	}
	d.close()
	if got := logLines(&logs); len(got) != 2 {
		t.Errorf("a second close logged again: %q", got)
	}
}

// A store outage writes one ERROR line, for the first failed request; the
// identical failures after it are counted in one more line when their
// window ends (here at shutdown). Before: three ERROR lines per 503.
func TestRequestLogOneLinePerStoreFailure(t *testing.T) {
	var logs syncBuffer
	db := dbtest.SQLite(t)
	lc := &lifecycle{}
	e, closeSite, _, err := newSite(testConfig(), db, slog.New(slog.NewTextHandler(&logs, nil)), lc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	if err := db.Gorm.Exec("DROP TABLE django_session").Error; err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		path := "/set" // the session middleware replaces the page with a 503
		if i%2 == 1 {
			path = "/visits" // the handler's Save fails and it returns the error
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET %s: %d, want 503", path, rec.Code)
		}
	}
	lines := logLines(&logs)
	if len(lines) != 1 {
		t.Fatalf("%d 503s wrote %d lines, want 1:\n%s", n, len(lines), logs.String())
	}
	for _, want := range []string{"level=ERROR", "msg=request", "status=503", "no such table: django_session", "path=/set"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the line lacks %s: %s", want, lines[0])
		}
	}
	lc.failures.close()
	lines = logLines(&logs)
	if len(lines) != 2 || !strings.Contains(lines[1], fmt.Sprintf("count=%d", n-1)) || !strings.Contains(lines[1], "level=ERROR") {
		t.Fatalf("no summary with count=%d:\n%s", n-1, logs.String())
	}
	// A request that succeeds is logged as usual.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/learn", nil))
	if lines = logLines(&logs); len(lines) != 3 || !strings.Contains(lines[2], "path=/learn") {
		t.Errorf("after the outage:\n%s", logs.String())
	}
}

// The log keeps the first KB of a long path, never the query.
func TestRequestLogLongPath(t *testing.T) {
	var logs syncBuffer
	e, closeSite, err := New(testConfig(), dbtest.SQLite(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	long := "/" + strings.Repeat("é", 1<<19) // 1 MB
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, long+"?token=querysecret", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
	lines := logLines(&logs)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	if len(lines[0]) > 2*maxLogPath {
		t.Errorf("a %d-byte line for a 1 MB path", len(lines[0]))
	}
	if !strings.Contains(lines[0], "path=/"+strings.Repeat("é", (maxLogPath-1)/2)+"…") || !strings.Contains(lines[0], fmt.Sprintf("path_bytes=%d", len(long))) {
		t.Errorf("the path is not cut at 1 KB on a character boundary: %.300s", lines[0])
	}
	if strings.Contains(lines[0], "querysecret") {
		t.Error("the query was logged")
	}
}

// remote_ip is the peer, unless the peer is a trusted proxy: then the
// right-most X-Forwarded-For address that is not a trusted proxy.
func TestRequestLogRemoteIP(t *testing.T) {
	for _, tc := range []struct {
		name, trusted, peer, xff, want string
	}{
		{"no proxies: headers ignored", "", "127.0.0.1", "6.6.6.6", "127.0.0.1"},
		{"untrusted peer", "10.0.0.1", "8.8.8.8", "6.6.6.6", "8.8.8.8"},
		{"loopback is not trusted unless listed", "10.0.0.1", "127.0.0.1", "6.6.6.6", "127.0.0.1"},
		{"trusted proxy", "10.0.0.1", "10.0.0.1", "6.6.6.6", "6.6.6.6"},
		{"right-most untrusted entry", "10.0.0.1", "10.0.0.1", "6.6.6.6, 7.7.7.7", "7.7.7.7"},
		{"chain of trusted proxies", "10.0.0.0/24", "10.0.0.1", "6.6.6.6, 7.7.7.7, 10.0.0.9", "7.7.7.7"},
		{"IPv6 proxy", "::1", "[::1]", "2001:db8::5", "2001:db8::5"},
		{"trusted proxy, no header", "10.0.0.1", "10.0.0.1", "", "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			cfg := testConfig()
			var err error
			if cfg.TrustedProxies, err = parseTrustedProxies(tc.trusted); err != nil {
				t.Fatal(err)
			}
			e, closeSite, err := New(cfg, dbtest.SQLite(t), slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeSite() })
			req := httptest.NewRequest(http.MethodGet, "/learn", nil)
			req.RemoteAddr = tc.peer + ":40000"
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			req.Header.Set("X-Real-IP", "9.9.9.9")
			e.ServeHTTP(httptest.NewRecorder(), req)
			if !strings.Contains(strings.ReplaceAll(logs.String(), "\n", " "), "remote_ip="+tc.want+" ") {
				t.Errorf("want remote_ip=%s:\n%s", tc.want, logs.String())
			}
		})
	}
}
