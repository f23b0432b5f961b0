package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

// A visit counter: the middleware loads the session on first use and saves
// it before the response starts.
func ExampleManager_Middleware() {
	cfg := session.DefaultConfig()
	cfg.Store = memstore.New(nil)
	cfg.SecretKey = "change me"
	m, err := session.New(cfg)
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.Use(m.Middleware())
	e.GET("/visits", func(c echo.Context) error {
		s := session.From(c)
		n := s.Incr("visits", 1)
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.", n))
	})

	var cookie string
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "/visits", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if cs := rec.Result().Cookies(); len(cs) > 0 {
			cookie = cs[0].Name + "=" + cs[0].Value
		}
		fmt.Println(rec.Body.String())
	}
	// Output:
	// You have visited this page 1 times.
	// You have visited this page 2 times.
	// You have visited this page 3 times.
}

// CycleKey at login defeats session fixation: the data moves to a new key
// and the old key stops working.
func ExampleSession_CycleKey() {
	cfg := session.DefaultConfig()
	cfg.Store = memstore.New(nil)
	cfg.SecretKey = "change me"
	m, _ := session.New(cfg)
	ctx := context.Background()

	s := m.Open(ctx, "")
	s.Set("cart", []string{"book"})
	_ = s.Save()
	planted := s.Key()

	s.CycleKey()
	s.Set("username", "ann")
	_ = s.Save()

	fmt.Println("key changed:", s.Key() != planted)
	fmt.Println("old key opens:", m.Open(ctx, planted).Len(), "keys")
	fmt.Println("new key keeps:", m.Open(ctx, s.Key()).Keys())
	// Output:
	// key changed: true
	// old key opens: 0 keys
	// new key keeps: [cart username]
}

// Expiry follows Django: seconds of inactivity, an absolute time, or 0 for
// a browser-session cookie.
func ExampleSession_SetExpiry() {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := session.DefaultConfig()
	cfg.Store = memstore.New(func() time.Time { return now })
	cfg.SecretKey = "change me"
	cfg.Now = func() time.Time { return now }
	m, _ := session.New(cfg)
	s := m.Open(context.Background(), "")

	fmt.Println(s.ExpiryAge())
	s.SetExpiry(300)
	fmt.Println(s.ExpiryAge(), s.ExpiryDate().Format(time.RFC3339))
	s.SetExpiry(0)
	fmt.Println(s.ExpireAtBrowserClose())
	// Output:
	// 1209600
	// 300 2030-01-01T00:05:00Z
	// true
}

// The same middleware for any net/http router: Manager.Handler wraps the
// mux, and handlers find their session in the request's context.
func ExampleManager_Handler() {
	cfg := session.DefaultConfig()
	cfg.Store = memstore.New(nil)
	cfg.SecretKey = "change me"
	m, err := session.New(cfg)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n := s.Incr("visits", 1)
		fmt.Fprintf(w, "You have visited this page %d times.", n)
	})
	h := m.Handler(mux) // http.ListenAndServe(addr, h)

	var cookie string
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/visits", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if cs := rec.Result().Cookies(); len(cs) > 0 {
			cookie = cs[0].Name + "=" + cs[0].Value
		}
		fmt.Println(rec.Body.String())
	}
	// Output:
	// You have visited this page 1 times.
	// You have visited this page 2 times.
}
