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
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/djangotest"
	"github.com/djangosessions/gosessions/internal/nginxtest"
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
// block, on one SQLite database and one SECRET_KEY: the setup the guide
// describes, for one Django release.
type domain struct {
	django djangotest.Django
	// useSessions: both sites keep the CSRF secret in the session
	// (CSRF_USE_SESSIONS = True), not in the csrftoken cookie.
	useSessions bool
	base        string // the nginx URL, http://127.0.0.1:PORT
	goURL       string // the Go site itself, behind nginx
	djangoURL   string // the Django site itself
	djangoLog   *djangotest.LockedBuffer
	goLog       *djangotest.LockedBuffer
	nginx       *nginxtest.Server
	site        int // this domain's site in nginx
}

func (d *domain) String() string {
	s := d.django.String()
	if d.useSessions {
		s += ", CSRF_USE_SESSIONS"
	}
	return s
}

// setupDomains starts, for each Django release found, a domain with the
// CSRF secret in the cookie and one with CSRF_USE_SESSIONS on both sides,
// and one nginx in front of them all, until the test ends.
func setupDomains(t *testing.T) []*domain {
	t.Helper()
	nginxtest.Require(t)
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var domains []*domain
	var sites []nginxtest.Site
	for _, rel := range djangoReleases(t) {
		rel := rel
		for _, useSessions := range []bool{false, true} {
			d := &domain{django: rel, useSessions: useSessions, goLog: &djangotest.LockedBuffer{}}
			dbPath := filepath.Join(t.TempDir(), "db.sqlite3")
			d.goURL = startGoSite(t, d, dbPath)
			env := []string{}
			if useSessions {
				env = append(env, "DJANGO_CSRF_USE_SESSIONS=1")
			}
			p := djangotest.Reference(t, djangotest.Options{Django: rel, SQLite: dbPath, Env: env})
			d.djangoURL, d.djangoLog = p.Start(t)
			n := len(sites)
			d.site = n
			sites = append(sites, nginxtest.Site{
				Conf:   string(conf),
				Listen: "127.0.0.1:8080",
				Replace: map[string]string{
					"127.0.0.1:8000": strings.TrimPrefix(d.goURL, "http://"),
					"127.0.0.1:8001": strings.TrimPrefix(d.djangoURL, "http://"),
					"go_site":        fmt.Sprintf("go_site_%d", n),
					"django_site":    fmt.Sprintf("django_site_%d", n),
				},
			})
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		t.Skip("no Django release here")
	}
	ngx := nginxtest.Start(t, sites...)
	for _, d := range domains {
		d.nginx, d.base = ngx, ngx.URL(d.site)
	}
	return domains
}

// startGoSite serves the Go site for d on the SQLite file at dbPath
// (migrated here: Django's tables and the Go site's), with the shared
// SECRET_KEY, the Django release's DJANGO_VERSION and d's
// CSRF_USE_SESSIONS, and creates the user. It returns its URL.
func startGoSite(t *testing.T, d *domain, dbPath string) string {
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
	db, err := sqlite.OpenURL(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlitemigrations.Up(db, nil); err != nil {
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
