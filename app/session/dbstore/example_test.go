package dbstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

// The whole path for an application of its own: open the database with
// the settings the demo site uses, apply the package's migrations (they
// keep their own version table, so the application's golang-migrate
// migrations apply beside them), build the store and the session manager,
// serve. The application's own GORM models use db.Gorm, the same
// connections.
func Example() {
	dir, err := os.MkdirTemp("", "dbstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sqlite.OpenURL(ctx, "sqlite:"+filepath.Join(dir, "app.db")) // or postgres.OpenURL(ctx, "postgres://...")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := sqlitemigrations.Up(db, nil); err != nil { // or package migrations/postgres
		log.Fatal(err)
	}
	store, err := dbstore.New(db, dbstore.WithCache(10000)) // fails at once if not migrated
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	cfg := session.DefaultConfig() // Django's defaults
	cfg.Store = store
	cfg.SecretKey = "change me" // os.Getenv("SECRET_KEY")
	cfg.StoreTimeout = db.Timeout + time.Second
	m, err := session.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	e.Use(m.Middleware()) // or m.Handler(mux) for net/http
	e.GET("/visits", func(c echo.Context) error {
		n := session.From(c).Incr("visits", 1) // request.session["visits"] += 1
		return c.String(http.StatusOK, fmt.Sprintf("You have visited this page %d times.", n))
	})
	// e.Start(":8000"); here, two requests:
	var cookie string
	for range 2 {
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
}
