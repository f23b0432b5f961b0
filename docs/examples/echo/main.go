// Command echo is an Echo application with Django's sessions on
// PostgreSQL: it builds without cgo (no SQLite driver linked).
//
//	DATABASE_URL=postgres://user:password@host:5432/dbname SECRET_KEY=change-me go run ./docs/examples/echo
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
)

func main() {
	ctx := context.Background()
	db, err := postgres.OpenURL(ctx, cmp.Or(os.Getenv("DATABASE_URL"), "postgres://localhost:5432/app"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := pgmigrations.Up(db, nil); err != nil {
		log.Fatal(err)
	}
	store, err := dbstore.New(db, dbstore.WithCache(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	sessions, err := session.New(session.Config{
		Store:        store,
		SecretKey:    os.Getenv("SECRET_KEY"),
		StoreTimeout: db.Timeout + time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	e.Use(echo.WrapMiddleware(http.NewCrossOriginProtection().Handler)) // CSRF
	e.Use(sessions.Middleware())
	e.GET("/visits", func(c echo.Context) error {
		s := session.From(c)
		n := s.Incr("visits", 1)
		return c.String(http.StatusOK, fmt.Sprintf("Hello %s, you have visited this page %d times.\n", s.GetString("username", "Guest"), n))
	})
	e.POST("/login", func(c echo.Context) error {
		s := session.From(c)
		s.CycleKey()
		s.Set("username", c.FormValue("username"))
		return c.Redirect(http.StatusSeeOther, "/visits")
	})
	e.POST("/logout", func(c echo.Context) error {
		session.From(c).Flush()
		return c.Redirect(http.StatusSeeOther, "/visits")
	})
	log.Fatal(e.Start(cmp.Or(os.Getenv("ADDR"), "127.0.0.1:8000")))
}
