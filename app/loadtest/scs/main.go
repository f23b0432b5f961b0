// Command scs is the load benchmark's comparison with another Go session
// library (make bench): alexedwards/scs v2, the most used one, in a
// minimal Echo app whose handlers answer the same short strings as the
// session package's library app (app/loadtest/libsite), once with scs's
// in-memory store and once with its SQLite store (WAL, synchronous=NORMAL,
// a busy timeout: the settings the session package's SQLite runs with).
//
// It is a module of its own, so that scs never enters the project's
// go.mod; make bench builds it when it can.
//
//	ADDR=127.0.0.1:0 DATABASE_URL=sqlite:/tmp/scs.sqlite3 scs
//
// Routes: /raw (Echo, no middleware); /mem/... and /sqlite/... each with
// set, get, visits and count, as in libsite.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scs:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	path := strings.TrimPrefix(getenv("DATABASE_URL"), "sqlite:")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// scs's schema for SQLite, from its README.
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL);
		CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions(expiry);`); err != nil {
		return fmt.Errorf("create the sessions table: %w", err)
	}

	mem := scs.New()
	mem.Store = memstore.New()
	mem.Cookie.Name = "scs_mem"
	lite := scs.New()
	lite.Store = sqlite3store.New(db)
	lite.Cookie.Name = "scs_sqlite"

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/raw", func(c echo.Context) error {
		return c.String(http.StatusOK, "Hello, World!")
	})
	routes(e.Group("/mem", echo.WrapMiddleware(mem.LoadAndSave)), mem)
	routes(e.Group("/sqlite", echo.WrapMiddleware(lite.LoadAndSave)), lite)

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

// routes are the handlers of libsite, written the scs way.
func routes(g *echo.Group, sm *scs.SessionManager) {
	g.GET("/set", func(c echo.Context) error {
		ctx := c.Request().Context()
		sm.Put(ctx, "username", "harun_dev")
		sm.Put(ctx, "role", "admin")
		sm.Put(ctx, "login_count", sm.GetInt(ctx, "login_count")+1)
		return c.String(http.StatusOK, "Session data set.")
	})
	g.GET("/get", func(c echo.Context) error {
		ctx := c.Request().Context()
		user, role := sm.GetString(ctx, "username"), sm.GetString(ctx, "role")
		if user == "" {
			user = "Guest"
		}
		if role == "" {
			role = "none"
		}
		return c.String(http.StatusOK, fmt.Sprintf("User: %s, Role: %s, Logins: %d", user, role, sm.GetInt(ctx, "login_count")))
	})
	g.GET("/visits", func(c echo.Context) error {
		ctx := c.Request().Context()
		n := sm.GetInt(ctx, "visits") + 1
		sm.Put(ctx, "visits", n)
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.", n))
	})
	g.GET("/count", func(c echo.Context) error {
		return c.String(http.StatusOK, strconv.Itoa(sm.GetInt(c.Request().Context(), "visits")))
	})
}
