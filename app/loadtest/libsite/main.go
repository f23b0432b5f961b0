// Command libsite is the load benchmark's library app (make bench): the
// session package used as a library in a minimal Echo app, with nothing but
// its middleware, and handlers that answer short strings, the same as a
// minimal app on another session library would (see app/loadtest/scs).
// It shows what the package itself costs, apart from the demo site's pages,
// CSRF and request log. Its /raw route is Echo with no middleware at all,
// the 1.00 of every ratio the benchmark prints.
//
//	ADDR=127.0.0.1:0 DATABASE_URL=sqlite:/tmp/lib.sqlite3 SECRET_KEY=... libsite
//
// Settings (environment): ADDR, DATABASE_URL (a SQLite file; WAL and
// synchronous=NORMAL as the site opens it), SECRET_KEY, SESSION_CACHE_SIZE
// (10000 by default; 0 turns both of the package's caches off).
//
// Routes: /raw (no session), /set (username, role, login_count as the
// demo's /set), /get (reads three keys), /visits (Incr, saved by the
// middleware before the response), /count (the stored visits, read only),
// and /debug/pprof/profile (a CPU profile, for make bench-profile).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "libsite:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	cacheSize := 10000
	if v := getenv("SESSION_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("SESSION_CACHE_SIZE=%q: want a whole number, 0 or more", v)
		}
		cacheSize = n
	}
	db, err := sqlite.OpenURL(ctx, getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sqlitemigrations.Up(db, nil); err != nil {
		return err
	}
	var opts []dbstore.Option
	if cacheSize > 0 {
		opts = append(opts, dbstore.WithCache(cacheSize))
	}
	store, err := dbstore.New(db, opts...)
	if err != nil {
		return err
	}
	defer store.Close()

	cfg := session.DefaultConfig()
	cfg.Store = store
	cfg.SecretKey = getenv("SECRET_KEY")
	cfg.DecodedCacheSize = cacheSize
	cfg.StoreTimeout = db.Timeout + time.Second
	sessions, err := session.New(cfg)
	if err != nil {
		return err
	}
	e := newApp(sessions.Middleware())

	ln, err := net.Listen("tcp", getenv("ADDR"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("Starting development server at http://%s/\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newApp is the minimal app: raw Echo on /raw, the session middleware
// on the rest.
func newApp(sessions echo.MiddlewareFunc) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/raw", func(c echo.Context) error {
		return c.String(http.StatusOK, "Hello, World!")
	})
	e.GET("/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))

	g := e.Group("", sessions)
	g.GET("/set", func(c echo.Context) error {
		s := session.From(c)
		s.Set("username", "harun_dev")
		s.Set("role", "admin")
		s.Incr("login_count", 1)
		return c.String(http.StatusOK, "Session data set.")
	})
	g.GET("/get", func(c echo.Context) error {
		s := session.From(c)
		return c.String(http.StatusOK, fmt.Sprintf("User: %s, Role: %s, Logins: %d",
			s.GetString("username", "Guest"), s.GetString("role", "none"), s.GetInt("login_count", 0)))
	})
	g.GET("/visits", func(c echo.Context) error {
		n := session.From(c).Incr("visits", 1)
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.", n))
	})
	g.GET("/count", func(c echo.Context) error {
		return c.String(http.StatusOK, strconv.Itoa(session.From(c).GetInt("visits", 0)))
	})
	return e
}
