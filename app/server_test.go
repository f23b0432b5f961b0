package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/labstack/echo/v4"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.SecretKey = "test-secret-key"
	return cfg
}

func TestNewRecoversPanicsWithoutLeakingThem(t *testing.T) {
	var logs syncBuffer
	e, closeSite, err := New(testConfig(), dbtest.SQLite(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	e.GET("/boom", func(echo.Context) error { panic("internal detail 42") })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	for _, leak := range []string{"internal detail 42", "goroutine", ".go:"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("response body shows %q: %q", leak, rec.Body.String())
		}
	}
	for _, want := range []string{"panic in handler", "internal detail 42", "stack=", "path=/boom", "status=500"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestNewLogsOneLinePerRequestWithoutTheSessionKey(t *testing.T) {
	var logs syncBuffer
	e, closeSite, err := New(testConfig(), dbtest.SQLite(t), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	const key = "abcdefghijklmnopqrstuvwxyz012345"
	req := httptest.NewRequest(http.MethodGet, "/no-such-page?token=querysecret", nil)
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: key})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404", rec.Code)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs.String())
	}
	for _, want := range []string{"msg=request", "method=GET", "path=/no-such-page", "status=404", "latency="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %q: %s", want, lines[0])
		}
	}
	for _, secret := range []string{key, "querysecret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log shows %q: %s", secret, logs.String())
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	db := dbtest.SQLite(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no secret key", func(c *Config) { c.SecretKey = "" }, "SECRET_KEY"},
		{"unsupported engine", func(c *Config) { c.SessionEngine = "file" }, `"file"`},
		{"bad session setting", func(c *Config) { c.Session.CookieName = "a;b" }, "cookie name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.change(&cfg)
			_, _, err := New(cfg, db, log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: err = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
	if _, _, err := New(testConfig(), nil, log); err == nil {
		t.Error("New with a nil database: no error")
	}
}
