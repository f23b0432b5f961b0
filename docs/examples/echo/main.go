// Command echo is an Echo application with Django's sessions, on its own
// database, as the net/http example is.
//
//	SECRET_KEY=change-me go run ./docs/examples/echo
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

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/migrations"
)

func main() {
	ctx := context.Background()
	db, err := database.OpenURL(ctx, cmp.Or(os.Getenv("DATABASE_URL"), "sqlite:app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := migrations.Up(db, nil); err != nil {
		log.Fatal(err)
	}
	store, err := dbstore.New(db, dbstore.WithCache(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	cfg := session.DefaultConfig()
	cfg.Store = store
	cfg.SecretKey = os.Getenv("SECRET_KEY")
	cfg.StoreTimeout = db.Timeout + time.Second
	sessions, err := session.New(cfg)
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
