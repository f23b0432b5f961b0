package onedomain_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/database/postgres"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/djangotest"
	"github.com/djangosessions/gosessions/internal/nginxtest"
	"github.com/djangosessions/gosessions/internal/pgtest"
	pgmigrations "github.com/djangosessions/gosessions/migrations/postgres"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

// The user every walk logs in as, created by the Go side (manage
// createuser's code) with the PBKDF2 count of the Django release, so that
// Django checks the password without rehashing it.
const (
	username = "alice"
	password = "correct horse battery staple"
)

// domain is one Go site and one Django site behind one nginx server
// block, on one database and one SECRET_KEY: the setup the guide
// describes, for one Django release.
type domain struct {
	django djangotest.Django
	// useSessions: both sites keep the CSRF secret in the session
	// (CSRF_USE_SESSIONS = True), not in the csrftoken cookie.
	useSessions bool
	// postgres: the database is PostgreSQL, not a SQLite file.
	postgres  bool
	base      string // the nginx URL, http://127.0.0.1:PORT
	goURL     string // the Go site itself, behind nginx
	djangoURL string // the Django site itself
	djangoLog *djangotest.LockedBuffer
	goLog     *djangotest.LockedBuffer
	nginx     *nginxtest.Server
	site      int // this domain's site in nginx
}

func (d *domain) String() string {
	s := d.django.String()
	if d.postgres {
		s += " on PostgreSQL"
	}
	if d.useSessions {
		s += ", CSRF_USE_SESSIONS"
	}
	return s
}

// setupDomains starts, for each Django release found, a domain on a
// SQLite file with the CSRF secret in the cookie and one with
// CSRF_USE_SESSIONS on both sides, and one nginx in front of them all,
// until the test ends.
func setupDomains(t *testing.T) []*domain {
	t.Helper()
	nginxtest.Require(t)
	var domains []*domain
	var sites []nginxtest.Site
	for _, rel := range djangoReleases(t) {
		for _, useSessions := range []bool{false, true} {
			d := &domain{django: rel, useSessions: useSessions}
			sites = append(sites, startDomain(t, d, filepath.Join(t.TempDir(), "db.sqlite3"), len(sites)))
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		t.Skip("no Django release here")
	}
	serve(t, domains, sites)
	return domains
}

// setupPostgresDomain starts a domain on a PostgreSQL database of its own
// (TEST_POSTGRES_URL's server; without it the test is skipped), with the
// newest Django of the matrix, behind an nginx of its own.
func setupPostgresDomain(t *testing.T) *domain {
	t.Helper()
	nginxtest.Require(t)
	d := &domain{django: djangotest.Newest(t), postgres: true}
	d.django.RequirePostgres(t)
	site := startDomain(t, d, pgtest.NewDatabase(t), 0)
	serve(t, []*domain{d}, []nginxtest.Site{site})
	return d
}

// startDomain starts d's Go site and Django on the database db (a SQLite
// file, or a PostgreSQL URL when d.postgres) and returns the nginx site
// that will be the n-th of its nginx.
func startDomain(t *testing.T, d *domain, db string, n int) nginxtest.Site {
	t.Helper()
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	d.goLog = &djangotest.LockedBuffer{}
	d.goURL = startGoSite(t, d, db)
	opts := djangotest.Options{Django: d.django, SQLite: db}
	if d.postgres {
		opts = djangotest.Options{Django: d.django, Postgres: db}
	}
	if d.useSessions {
		opts.Env = append(opts.Env, "DJANGO_CSRF_USE_SESSIONS=1")
	}
	d.djangoURL, d.djangoLog = djangotest.Reference(t, opts).Start(t)
	d.site = n
	return nginxtest.Site{
		Conf:   string(conf),
		Listen: "127.0.0.1:8080",
		Replace: map[string]string{
			"127.0.0.1:8000": strings.TrimPrefix(d.goURL, "http://"),
			"127.0.0.1:8001": strings.TrimPrefix(d.djangoURL, "http://"),
			"go_site":        fmt.Sprintf("go_site_%d", n),
			"django_site":    fmt.Sprintf("django_site_%d", n),
		},
	}
}

// serve starts one nginx for the sites of domains, until the test ends.
func serve(t *testing.T, domains []*domain, sites []nginxtest.Site) {
	t.Helper()
	ngx := nginxtest.Start(t, sites...)
	for _, d := range domains {
		d.nginx, d.base = ngx, ngx.URL(d.site)
	}
}

// startGoSite serves the Go site for d on the database at dbURL
// (migrated here: Django's tables and the Go site's), with the shared
// SECRET_KEY, the Django release's DJANGO_VERSION and d's
// CSRF_USE_SESSIONS, and creates the user. It returns its URL.
func startGoSite(t *testing.T, d *domain, dbURL string) string {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.SecretKey = djangotest.SecretKey
	cfg.DjangoVersion = d.django.Series
	iterations, err := auth.PBKDF2Iterations(d.django.Series)
	if err != nil {
		t.Fatal(err)
	}
	cfg.PasswordIterations = iterations
	cfg.CSRF.UseSessions = d.useSessions
	var db *database.DB
	if d.postgres {
		db, err = postgres.OpenURL(t.Context(), dbURL)
	} else {
		db, err = sqlite.OpenURL(t.Context(), dbURL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if d.postgres {
		err = pgmigrations.Up(db, nil)
	} else {
		err = sqlitemigrations.Up(db, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(d.goLog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e, closeSite, err := app.New(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		closeSite()
	})
	a, err := auth.New(auth.Config{DB: db.Gorm, SecretKey: cfg.SecretKey, Iterations: iterations})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := a.CreateUser(ctx, username, password); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}
