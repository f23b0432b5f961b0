package session_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

// TestHandlerOnServeMux: the net/http middleware on a plain
// http.ServeMux; handlers find the session with FromContext.
func TestHandlerOnServeMux(t *testing.T) {
	v := newEnv(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		n := session.FromContext(r.Context()).Incr("visits", 1)
		fmt.Fprintf(w, "%d", n)
	})
	h := v.m.Handler(mux)
	var cookie string
	for want := 1; want <= 3; want++ {
		req := httptest.NewRequest(http.MethodGet, "/visits", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != fmt.Sprint(want) {
			t.Fatalf("visit %d: body %q", want, rec.Body)
		}
		if ck := sessionCookie(rec); ck != nil {
			cookie = "sessionid=" + ck.Value
		}
	}
	if session.FromContext(context.Background()) != nil {
		t.Error("FromContext of a context without a session is not nil")
	}
}

// TestTwoManagersInOneRequest: two managers with their own cookies wrap
// one request; each finds its own session, and the package-level From
// gives the innermost.
func TestTwoManagersInOneRequest(t *testing.T) {
	newManager := func(cookie string) *session.Manager {
		cfg := session.DefaultConfig()
		cfg.Store = memstore.New(nil)
		cfg.SecretKey = testSecret
		cfg.CookieName = cookie
		m, err := session.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	outer, inner := newManager("outer_sid"), newManager("inner_sid")

	handler := func(ctx context.Context, w http.ResponseWriter) {
		outer.FromContext(ctx).Set("who", "outer")
		inner.FromContext(ctx).Set("who", "inner")
		fmt.Fprint(w, session.FromContext(ctx).GetString("who", ""))
	}
	e := echo.New()
	e.Use(outer.Middleware(), inner.Middleware())
	e.GET("/", func(c echo.Context) error {
		if outer.From(c) == inner.From(c) || session.From(c) != inner.From(c) {
			t.Error("From does not tell the two managers' sessions apart")
		}
		handler(c.Request().Context(), c.Response())
		return nil
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { handler(r.Context(), w) })

	for name, h := range map[string]http.Handler{"echo": e, "net/http": outer.Handler(inner.Handler(mux))} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		names := map[string]bool{}
		for _, ck := range rec.Result().Cookies() {
			names[ck.Name] = true
		}
		if rec.Body.String() != "inner" || !names["outer_sid"] || !names["inner_sid"] {
			t.Errorf("%s: body %q, cookies %v; want inner and both cookies", name, rec.Body, names)
		}
	}
}

// TestHandlerCustomErrorHandler: Config.HTTPErrorHandler writes the
// response that replaces a handler's when the session cannot be saved.
func TestHandlerCustomErrorHandler(t *testing.T) {
	v := newEnvFor(t, httpAdapter, func(c *session.Config) {
		c.HTTPErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, "custom: ", errors.Is(err, session.ErrInterrupted))
		}
	})
	fault := errors.New("down")
	v.store.fail.Store(&fault)
	v.handle("/write", setFoo)
	rec := v.do("/write", "")
	if rec.Code != http.StatusTeapot || rec.Body.String() != "custom: false" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
}

// TestReplacedResponseKeepsOuterHeaders: a response replaced because the
// session could not be saved keeps the headers set before the handler ran
// (security headers of an outer middleware) and loses the handler's own.
func TestReplacedResponseKeepsOuterHeaders(t *testing.T) {
	bothAdapters(t, testReplacedResponseKeepsOuterHeaders)
}

func testReplacedResponseKeepsOuterHeaders(t *testing.T, a adapter) {
	v := newEnvFor(t, a)
	v.e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("X-Frame-Options", "DENY")
			return next(c)
		}
	})
	v.handle("/write", func(c echo.Context, s *session.Session) error {
		s.Set("foo", "bar")
		c.Response().Header().Set("Location", "/elsewhere")
		c.Response().Header().Set("Cache-Control", "max-age=3600")
		return c.Redirect(http.StatusSeeOther, "/elsewhere")
	})
	fault := errors.New("down")
	v.store.fail.Store(&fault)
	rec := v.do("/write", "")
	h := rec.Header()
	if rec.Code != http.StatusServiceUnavailable || h.Get("X-Frame-Options") != "DENY" || h.Get("Location") != "" || h.Get("Cache-Control") == "max-age=3600" {
		t.Errorf("status %d, headers %v; want 503 with X-Frame-Options and without the handler's Location and Cache-Control", rec.Code, h)
	}
}
