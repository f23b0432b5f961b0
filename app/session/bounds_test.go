package session_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
)

// TestStoreBudgetBoundsEveryWait: the store stalls every write (another
// process holds the database's lock). Concurrent requests of one session
// each get a 503 within about one budget, instead of queueing behind one
// another on the save lock; nothing is written; and the session works
// again once the store does.
func TestStoreBudgetBoundsEveryWait(t *testing.T) { bothAdapters(t, testStoreBudgetBoundsEveryWait) }

func testStoreBudgetBoundsEveryWait(t *testing.T, a adapter) {
	const budget = 300 * time.Millisecond
	v := newEnvFor(t, a, func(c *session.Config) { c.StoreTimeout = budget })
	key := v.newStored(map[string]any{"visits": 0})
	v.handle("/visit", func(c echo.Context, s *session.Session) error {
		s.Incr("visits", 1)
		return c.String(http.StatusOK, "counted")
	})
	release := make(chan struct{})
	v.store.hold.Store(&hold{release: release})

	const n = 6
	var wg sync.WaitGroup
	took := make([]time.Duration, n)
	codes := make([]int, n)
	for i := range n {
		wg.Go(func() {
			start := time.Now()
			rec := v.do("/visit", "sessionid="+key)
			took[i], codes[i] = time.Since(start), rec.Code
		})
	}
	wg.Wait()
	for i := range n {
		// One budget, plus generous room for a loaded test machine; the
		// failure this guards against is n budgets, one per request ahead
		// in the queue.
		if codes[i] != http.StatusServiceUnavailable || took[i] > budget*4 {
			t.Errorf("request %d: status %d after %v; want 503 within about %v", i, codes[i], took[i], budget)
		}
	}
	close(release)
	v.store.hold.Store(nil)
	if got := v.stored(key)["visits"]; got != jsonNumber(0) {
		t.Errorf("visits = %v after the failed requests, want 0: a 503 must write nothing", got)
	}
	if rec := v.do("/visit", "sessionid="+key); rec.Code != http.StatusOK || v.stored(key)["visits"] != jsonNumber(1) {
		t.Errorf("after the outage: status %d, visits %v; want 200 and 1", rec.Code, v.stored(key)["visits"])
	}
}

// TestSessionsNeverWaitForOthers: while one session's save is stuck in the
// store, another session's save goes through (saves of different keys
// share no lock).
func TestSessionsNeverWaitForOthers(t *testing.T) {
	v := newEnv(t)
	stuck := v.newStored(map[string]any{"n": 0})
	free := v.newStored(map[string]any{"n": 0})
	release := make(chan struct{})
	v.store.held = make(chan string, 1)
	v.store.hold.Store(&hold{key: stuck, release: release})

	done := make(chan error, 1)
	go func() {
		s := v.m.Open(context.Background(), stuck)
		s.Incr("n", 1)
		done <- s.Save()
	}()
	if got := <-v.store.held; got != stuck {
		t.Fatalf("stalled %s, want %s", got, stuck)
	}
	s := v.m.Open(context.Background(), free)
	s.Incr("n", 1)
	if err := s.Save(); err != nil {
		t.Fatalf("the other session's save: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the stuck save, once released: %v", err)
	}
	if v.stored(stuck)["n"] != jsonNumber(1) || v.stored(free)["n"] != jsonNumber(1) {
		t.Errorf("stored %v and %v, want n=1 in both", v.stored(stuck), v.stored(free))
	}
}

// TestSaveAfterTheRequest: a handler keeps its session and saves it from a
// goroutine after the response went out and the request's context was
// cancelled. The save works, on any store.
func TestSaveAfterTheRequest(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"user": "ann"})
	ctx, cancel := context.WithCancel(context.Background())
	s := v.m.Open(ctx, key)
	s.Set("job", "done")
	cancel() // the request is over
	if err := s.Save(); err != nil {
		t.Fatalf("Save after the request's context was cancelled: %v", err)
	}
	if got := v.stored(key); got["job"] != "done" || got["user"] != "ann" {
		t.Errorf("stored %v", got)
	}
}

// TestMaxSize: a session over MaxSize is refused when saved, with
// ErrTooLarge, and nothing is written: the stored session keeps every
// other key, instead of being saved and then lost when it cannot be read
// back.
func TestMaxSize(t *testing.T) {
	v := newEnv(t, func(c *session.Config) { c.MaxSize = 1000 })
	key := v.newStored(map[string]any{"cart": []any{"book"}, "user": "ann"})

	s := v.m.Open(context.Background(), key)
	s.Set("cart", strings.Repeat("x", 2000))
	err := s.Save()
	if !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "1000") {
		t.Fatalf("Save of a session over MaxSize = %v, want ErrTooLarge naming the limit", err)
	}
	if got := v.stored(key); got["user"] != "ann" || got["cart"] == nil {
		t.Errorf("after the refused save the record is %v, want it unchanged", got)
	}

	// Through the middleware: a 500, one log line with the size, and the
	// record unchanged.
	v.handle("/big", func(c echo.Context, s *session.Session) error {
		s.Set("cart", strings.Repeat("y", 5000))
		return c.String(http.StatusOK, "HANDLER")
	})
	rec := v.do("/big", "sessionid="+key)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "HANDLER") || setCookieHeader(rec) != "" {
		t.Errorf("status %d body %q cookie %q; want a 500 that replaces the response", rec.Code, rec.Body, setCookieHeader(rec))
	}
	if logs := v.logs.String(); !strings.Contains(logs, "bytes of JSON") || strings.Count(logs, "level=ERROR") != 1 {
		t.Errorf("logs = %q, want one ERROR line giving the size", logs)
	}
	if got := v.stored(key); got["user"] != "ann" {
		t.Errorf("stored %v, want it unchanged", got)
	}

	// Reading is never stricter than writing: a session written under a
	// larger limit still loads.
	big := newEnv(t)
	bigKey := big.newStored(map[string]any{"blob": strings.Repeat("z", 50000)})
	rec0, err := big.mem.Load(context.Background(), bigKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.mem.Create(context.Background(), rec0); err != nil {
		t.Fatal(err)
	}
	if got := v.m.Open(context.Background(), bigKey).GetString("blob", ""); len(got) != 50000 {
		t.Errorf("a 50 kB session did not load under MaxSize=1000: got %d bytes", len(got))
	}
}

type withUnexported struct {
	Visible string
	hidden  int
}

type onlyUnexported struct{ a, b int }

type tagged struct {
	Name  string `json:"name"`
	Cache []byte `json:"-"`
}

type embedded struct {
	inner // unexported type, exported fields: JSON promotes them
	Extra int
}

type inner struct{ A, B int }

// opaque has unexported fields and its own JSON form.
type opaque struct{ secret string }

func (o opaque) MarshalJSON() ([]byte, error) { return []byte(`"` + o.secret + `"`), nil }

// TestValuesJSONWouldChange: Set refuses a value that JSON would silently
// lose part of, and accepts the ones that round-trip or choose their own
// form.
func TestValuesJSONWouldChange(t *testing.T) {
	refused := map[string]any{
		"some unexported":         withUnexported{Visible: "v", hidden: 1},
		"only unexported":         onlyUnexported{1, 2},
		"pointer":                 &withUnexported{},
		"in a map":                map[string]any{"x": onlyUnexported{}},
		"in a slice":              []onlyUnexported{{}},
		"in a struct field":       struct{ Inner onlyUnexported }{},
		"101 levels":              nest(101),
		"a channel":               make(chan int),
		"NaN inside a float list": []float64{1, nan()},
	}
	for name, value := range refused {
		v := newEnv(t)
		s := v.m.Open(context.Background(), "")
		s.Set("k", value)
		if err := s.Err(); !errors.Is(err, session.ErrValue) {
			t.Errorf("%s: Err() = %v, want ErrValue", name, err)
		}
		if err := s.Save(); err == nil || v.mem.Len() != 0 {
			t.Errorf("%s: Save = %v with %d records, want an error and nothing stored", name, err, v.mem.Len())
		}
	}
	if err := func() error {
		s := newEnv(t).m.Open(context.Background(), "")
		s.Set("k", withUnexported{})
		return s.Err()
	}(); err == nil || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("the error %v does not name the unexported field", err)
	}

	accepted := map[string]struct {
		value any
		want  string // the stored value's JSON
	}{
		"tags and json:-":            {tagged{Name: "n", Cache: []byte("x")}, `{"name":"n"}`},
		"embedded unexported struct": {embedded{inner: inner{1, 2}, Extra: 3}, `{"A":1,"B":2,"Extra":3}`},
		"own MarshalJSON":            {opaque{"s"}, `"s"`},
		"time, in UTC to the µs":     {time.Date(2030, 1, 2, 3, 4, 5, 6_789_123, time.FixedZone("X", 3600)), `"2030-01-02T02:04:05.006789+00:00"`},
		"100 levels":                 {nest(100), ""},
		"empty struct":               {struct{}{}, `{}`},
	}
	for name, tt := range accepted {
		v := newEnv(t)
		s := v.m.Open(context.Background(), "")
		s.Set("k", tt.value)
		if err := s.Save(); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tt.want == "" {
			continue
		}
		got, _ := s.Lookup("k")
		if j := jsonText(t, got); j != tt.want {
			t.Errorf("%s: stored %s, want %s", name, j, tt.want)
		}
	}
}

// nest returns n lists nested in each other.
func nest(n int) any {
	var v any = "bottom"
	for range n {
		v = []any{v}
	}
	return v
}
