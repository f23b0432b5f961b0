package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	// hold, when set, stalls every write of its key (every write, for
	// key "") until release is closed or the call's context ends, as a
	// database whose lock another process holds.
	hold atomic.Pointer[hold]
	held chan string // when not nil, receives the key of each stalled write
}

type hold struct {
	key     string
	release chan struct{}
}

func (s *countingStore) failure() error {
	if p := s.fail.Load(); p != nil {
		return *p
	}
	return nil
}

// stall blocks a write of key while a hold covers it.
func (s *countingStore) stall(ctx context.Context, key string) error {
	h := s.hold.Load()
	if h == nil || h.key != "" && h.key != key {
		return nil
	}
	if s.held != nil {
		s.held <- key
	}
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("database is locked: %w", ctx.Err())
	}
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
	if err := s.stall(ctx, rec.Key); err != nil {
		return err
	}
	return s.Store.Create(ctx, rec)
}

func (s *countingStore) Update(ctx context.Context, rec session.Record, old string) error {
	s.writes.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	if err := s.stall(ctx, rec.Key); err != nil {
		return err
	}
	return s.Store.Update(ctx, rec, old)
}

func (s *countingStore) Delete(ctx context.Context, key, old string) error {
	s.writes.Add(1)
	if err := s.failure(); err != nil {
		return err
	}
	if err := s.stall(ctx, key); err != nil {
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
	e     *echo.Echo   // where routes are registered
	h     http.Handler // what requests go to: e, or e wrapped by Manager.Handler
}

const testSecret = "django-insecure-test-key"

// adapter names how the session middleware is mounted.
type adapter string

const (
	// echoAdapter: Manager.Middleware on the Echo app.
	echoAdapter adapter = "echo"
	// httpAdapter: Manager.Handler, the net/http middleware, around an
	// Echo app that has no session middleware of its own (handlers find
	// the session in the request's context all the same).
	httpAdapter adapter = "net/http"
)

// bothAdapters runs test once through each adapter: they must behave
// identically.
func bothAdapters(t *testing.T, test func(t *testing.T, a adapter)) {
	for _, a := range []adapter{echoAdapter, httpAdapter} {
		t.Run(string(a), func(t *testing.T) { test(t, a) })
	}
}

func newEnv(t testing.TB, configure ...func(*session.Config)) *env {
	t.Helper()
	return newEnvFor(t, echoAdapter, configure...)
}

func newEnvFor(t testing.TB, a adapter, configure ...func(*session.Config)) *env {
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
	var h http.Handler = e
	switch a {
	case echoAdapter:
		e.Use(m.Middleware())
	case httpAdapter:
		h = m.Handler(e)
	}
	return &env{t: t, clock: clk, mem: mem, store: store, m: m, logs: &logs, e: e, h: h}
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
	v.h.ServeHTTP(rec, req)
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

// jsonNumber is n as the session holds a stored integer.
func jsonNumber(n int) json.Number { return json.Number(strconv.Itoa(n)) }

// nan returns NaN, which JSON cannot hold.
func nan() float64 { return math.NaN() }

// jsonText returns v as compact JSON.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
