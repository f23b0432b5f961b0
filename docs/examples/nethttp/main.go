// Command nethttp is a plain net/http application with Django's sessions:
// its own database, the session table's migrations, the database store,
// and three routes.
//
//	SECRET_KEY=change-me go run ./docs/examples/nethttp
package main

import (
	"cmp"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

func main() {
	ctx := context.Background()
	db, err := sqlite.OpenURL(ctx, cmp.Or(os.Getenv("DATABASE_URL"), "sqlite:app.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// django_session, with a version table of its own: the application's
	// own golang-migrate migrations apply beside it.
	if err := sqlitemigrations.Up(db, nil); err != nil {
		log.Fatal(err)
	}
	store, err := dbstore.New(db, dbstore.WithCache(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// The zero values are Django's: sessionid, two weeks, HttpOnly, SameSite=Lax.
	sessions, err := session.New(session.Config{
		Store:        store,
		SecretKey:    os.Getenv("SECRET_KEY"),
		StoreTimeout: db.Timeout + time.Second, // a request's wait for the store, in all
	})
	if err != nil {
		log.Fatal(err) // such as an empty SECRET_KEY
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n := s.Incr("visits", 1) // request.session["visits"] += 1, no visit lost
		fmt.Fprintf(w, "Hello %s, you have visited this page %d times.\n", s.GetString("username", "Guest"), n)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.CycleKey() // a new key at login, against session fixation
		s.Set("username", r.FormValue("username"))
		http.Redirect(w, r, "/visits", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Flush()
		http.Redirect(w, r, "/visits", http.StatusSeeOther)
	})
	// Refuse cross-site POSTs (CSRF), then load and save the session.
	handler := http.NewCrossOriginProtection().Handler(sessions.Handler(mux))
	log.Fatal(http.ListenAndServe(cmp.Or(os.Getenv("ADDR"), "127.0.0.1:8000"), handler))
}
