// Command logins is a net/http application with Django's logins (package
// auth) beside its sessions, on its own database: a Django site sharing
// the database and SECRET_KEY shares its users and their logins.
//
//	SECRET_KEY=change-me go run ./manage createuser ada   # or Django's createsuperuser
//	SECRET_KEY=change-me go run ./docs/examples/logins
package main

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

const loginForm = `<form method="post">
<input name="username"> <input name="password" type="password"> <button>Log in</button>
</form>`

func main() {
	ctx := context.Background()
	db, err := sqlite.OpenURL(ctx, cmp.Or(os.Getenv("DATABASE_URL"), "sqlite:db.sqlite3"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := sqlitemigrations.Up(db, nil); err != nil { // django_session and auth_user
		log.Fatal(err)
	}
	store, err := dbstore.New(db, dbstore.WithCache(10000))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	secretKey := os.Getenv("SECRET_KEY")
	sessions, err := session.New(session.Config{Store: store, SecretKey: secretKey, StoreTimeout: db.Timeout + time.Second})
	if err != nil {
		log.Fatal(err)
	}
	users, err := auth.New(auth.Config{DB: db.Gorm, SecretKey: secretKey})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, loginForm)
	})
	mux.HandleFunc("POST /accounts/login/", func(w http.ResponseWriter, r *http.Request) {
		u, err := users.Authenticate(r.Context(), r.FormValue("username"), r.FormValue("password"))
		if err != nil {
			log.Print(err) // a database fault, or a hash no hasher here checks
		}
		if u == nil {
			fmt.Fprint(w, "Wrong username or password. ", loginForm)
			return
		}
		if err := users.Login(w, r, u, nil); err != nil { // login(request, user)
			http.Error(w, "Try again later.", http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, users.RedirectAfterLogin(r, r.FormValue("next")), http.StatusSeeOther)
	})
	mux.Handle("GET /accounts/profile/", users.LoginRequired(http.HandlerFunc( // @login_required
		func(w http.ResponseWriter, r *http.Request) {
			u, _ := users.User(r) // request.user, never nil here
			fmt.Fprintf(w, "Signed in as %s.\n", html.EscapeString(u.Username))
		})))
	mux.HandleFunc("POST /accounts/logout/", func(w http.ResponseWriter, r *http.Request) {
		users.Logout(r) // logout(request): the session is flushed
		http.Redirect(w, r, "/accounts/login/", http.StatusSeeOther)
	})
	handler := http.NewCrossOriginProtection().Handler(sessions.Handler(users.Handler(mux)))
	log.Fatal(http.ListenAndServe(cmp.Or(os.Getenv("ADDR"), "127.0.0.1:8000"), handler))
}
