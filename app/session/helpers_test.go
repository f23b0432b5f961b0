package session_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

// clock is a settable time source: expiry tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore wraps a real store to count calls and inject faults that a
// healthy store cannot produce on demand.
type countingStore struct {
	session.Store
	loads, writes atomic.Int64
	fail          atomic.Pointer[error] // when set, every call fails with it
}

func (s *countingStore) failure() error {
	if p := s.fail.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *countingStore) Load(ctx context.Context, key string) (session.Record, error) {
	s.loads.Add(1)
	if err := s.failure(); err != nil {
		return session.Record{}, err
	}
	return s.Store.Load(ctx, key)
}

func (s *countingStore) Create(ctx context.Context, rec session.Record) error {
	s.writes.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Create(ctx, rec)
}

func (s *countingStore) Update(ctx context.Context, rec session.Record, old string) error {
	s.writes.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Update(ctx, rec, old)
}

func (s *countingStore) Delete(ctx context.Context, key, old string) error {
	s.writes.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	return s.Store.Delete(ctx, key, old)
}

// env is one test's manager, store, clock, logs and Echo app.
type env struct {
	t     testing.TB
	clock *clock
	mem   *memstore.Store
	store *countingStore
	m     *session.Manager
	logs  *bytes.Buffer
	e     *echo.Echo
}

const testSecret = "django-insecure-test-key"

func newEnv(t testing.TB, configure ...func(*session.Config)) *env {
	t.Helper()
	clk := newClock()
	mem := memstore.New(clk.Now)
	store := &countingStore{Store: mem}
	var logs bytes.Buffer
	cfg := session.DefaultConfig()
	cfg.Store = store
	cfg.SecretKey = testSecret
	cfg.Now = clk.Now
	cfg.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	for _, f := range configure {
		f(&cfg)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatalf("session.New: %v", err)
	}
	e := echo.New()
	e.Use(m.Middleware())
	return &env{t: t, clock: clk, mem: mem, store: store, m: m, logs: &logs, e: e}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// handle registers h for GET and POST on path.
func (v *env) handle(path string, h func(c echo.Context, s *session.Session) error) {
	f := func(c echo.Context) error { return h(c, session.From(c)) }
	v.e.GET(path, f)
	v.e.POST(path, f)
}

// do sends a GET to path with the given raw Cookie header ("" for none).
func (v *env) do(path, cookie string) *httptest.ResponseRecorder {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

// sessionCookie returns the Set-Cookie for "sessionid", or nil.
func sessionCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sessionid" {
			return c
		}
	}
	return nil
}

func setCookieHeader(rec *httptest.ResponseRecorder) string {
	for _, v := range rec.Header().Values("Set-Cookie") {
		if strings.HasPrefix(v, "sessionid=") {
			return v
		}
	}
	return ""
}

func hasVaryCookie(rec *httptest.ResponseRecorder) bool {
	for _, v := range rec.Header().Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
				return true
			}
		}
	}
	return false
}

// stored returns the decoded data of the record with key, or nil if none.
func (v *env) stored(key string) map[string]any {
	v.t.Helper()
	rec, err := v.mem.Load(context.Background(), key)
	if err != nil {
		return nil
	}
	data, err := v.m.Decode(rec.Data)
	if err != nil {
		v.t.Fatalf("stored record %s does not decode: %v", key, err)
	}
	return data
}

// newStored creates a stored session holding data and returns its key.
func (v *env) newStored(data map[string]any) string {
	v.t.Helper()
	s := v.m.Open(context.Background(), "")
	s.Update(data)
	if err := s.Save(); err != nil {
		v.t.Fatalf("Save: %v", err)
	}
	if s.Key() == "" {
		v.t.Fatal("saved session has no key")
	}
	return s.Key()
}
