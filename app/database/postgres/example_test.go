package postgres_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
)

// A PostgreSQL-only program: it links no SQLite and builds with
// CGO_ENABLED=0 (TestPostgresOnlyNeedsNoCgo checks the packages this file
// imports).
func Example() {
	ctx := context.Background()
	db, err := postgres.OpenURL(ctx, os.Getenv("DATABASE_URL")) // postgres://user:pw@host/db
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
	m, err := session.New(session.Config{
		Store:        store,
		SecretKey:    os.Getenv("SECRET_KEY"),
		StoreTimeout: db.Timeout + time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /visits", func(w http.ResponseWriter, r *http.Request) {
		n := session.FromContext(r.Context()).Incr("visits", 1)
		fmt.Fprintf(w, "You have visited this page %d times.\n", n)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8000", m.Handler(mux)))
}
