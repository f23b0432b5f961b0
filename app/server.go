package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/static"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
)

// New builds the site: an Echo instance with panic recovery, one log line
// per request, the security headers, the request body limit, the session
// manager of cfg on db, Django's logins (package auth) and flash messages
// (package messages), the site's error pages, the static files, the
// health endpoints and the routes of package views. cfg.SecretKey must be
// set (Run provides a development key when the environment has none).
// Call closeSite when the site is done, before closing db.
func New(cfg Config, db *database.DB, log *slog.Logger) (e *echo.Echo, closeSite func() error, err error) {
	e, closeSite, _, err = newSite(cfg, db, log, &lifecycle{})
	return e, closeSite, err
}

// newSite is [New] sharing lc with Run, which drains and closes it; it
// also returns the metrics handler to serve on a listener of its own
// (METRICS_ADDR), or nil.
func newSite(cfg Config, db *database.DB, log *slog.Logger, lc *lifecycle) (e *echo.Echo, closeSite func() error, metricsHandler http.Handler, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if db == nil {
		return nil, nil, nil, errors.New("app: New needs a database")
	}
	if cfg.SecretKey == "" {
		return nil, nil, nil, errors.New("app: SECRET_KEY is not set")
	}
	sc := cfg.Session
	var mx *metrics
	var opts []engine.Option
	if cfg.Metrics || cfg.MetricsAddr != "" {
		mx = newMetrics()
		opts = append(opts, engine.WithDatabaseOptions(dbstore.WithBatchObserver(mx.observeBatch)))
	}
	// The per-user index of sessions, where the engine keeps them; the
	// session manager feeds it (its Watcher).
	users, err := NewUserIndex(context.Background(), cfg, db, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if users.Option != nil {
		opts = append(opts, users.Option)
	}
	stack, err := OpenEngine(cfg, db, log, opts...)
	if err != nil {
		users.Abandon()
		return nil, nil, nil, err
	}
	stack.Configure(&sc)
	if users.Index != nil {
		sc.Watcher = users.Index
	}
	// Each request waits for the database at most its lock timeout, plus
	// a second (cfg.check fits WRITE_TIMEOUT to it).
	sc.StoreTimeout = cfg.storeWaitBound()
	sc.SecretKey = cfg.SecretKey
	sc.SecretKeyFallbacks = cfg.SecretKeyFallbacks
	if sc.Logger == nil {
		sc.Logger = log
	}
	defer func() {
		if err != nil {
			stack.Close()
		}
	}()
	h := &views.Handlers{Log: log}
	sc.ErrorHandler = h.SessionError // the request log line tells the cause, once
	sessions, err := session.New(sc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: session settings: %w", err)
	}
	h.Sessions = sessions
	acfg := auth.Config{
		DB:                 db.Gorm,
		SecretKey:          cfg.SecretKey,
		SecretKeyFallbacks: cfg.SecretKeyFallbacks,
		Iterations:         cfg.PasswordIterations,
		IsSecure:           cfg.Security.IsSecure, // SECURE_PROXY_SSL_HEADER
		LoginURL:           cfg.LoginURL,
		LoginRedirectURL:   cfg.LoginRedirectURL,
		Logger:             log,
		Hooks:              authHooks(log, mx),
	}
	if users.Index != nil {
		h.Users = users.Index.Sessions(sessions)
		acfg.Sessions = h.Users // a password change signs out the other devices
	}
	// Django's users and logins, on the same database and SECRET_KEY.
	h.Auth, err = auth.New(acfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", err)
	}
	// Django's messages framework: the messages cookie gets the session
	// cookie's attributes, as Django gives it.
	h.Messages, err = messages.New(messages.Config{
		SecretKey:             cfg.SecretKey,
		SecretKeyFallbacks:    cfg.SecretKeyFallbacks,
		CookieDomain:          sc.CookieDomain,
		CookieSecure:          sc.CookieSecure,
		DisableCookieHTTPOnly: sc.DisableCookieHTTPOnly,
		CookieSameSite:        sc.CookieSameSite,
		DjangoVersion:         cfg.DjangoVersion,
		Logger:                log,
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", err)
	}
	// Django's CSRF protection, in Django's format: a Django site on the
	// same domain accepts the site's tokens and the site accepts Django's.
	cc := cfg.CSRF
	cc.IsSecure = cfg.Security.IsSecure // SECURE_PROXY_SSL_HEADER
	cc.SessionCookieDomain = cfg.Session.CookieDomain
	cc.CookieMasked = djangoBefore(cfg.DjangoVersion, "4.1")
	if h.CSRF, err = csrf.New(cc); err != nil {
		return nil, nil, nil, fmt.Errorf("app: CSRF settings: %w", err)
	}

	e = echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Debug = cfg.Debug
	// Echo's own logger (used by few code paths) goes to the same place.
	e.Logger.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelWarn).Writer())

	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.SchemeExtractor = cfg.Security.Scheme // request.is_secure(), decided once
	if cfg.Metrics && cfg.MetricsAddr == "" {
		h.MetricsPath = "/metrics"
	}
	e.HTTPErrorHandler = recordFailure(h.ErrorHandler)
	lc.failures = newLogDedup(log, failureWindow, time.Now)
	logRequests, err := requestLogger(log, lc.failures)
	if err != nil {
		return nil, nil, nil, err
	}
	limit := cfg.DataUploadMaxMemorySize
	if limit <= 0 {
		limit = DefaultDataUploadMaxMemorySize
	}
	e.Use(logRequests, recoverer(), securityHeaders(cfg.Security), limitBody(limit))
	if mx != nil {
		metricsHandler = mx.attach(e, cfg, sessions, stack, log)
	}
	static.Register(e)
	views.Health{Ready: lc.ready(db, stack, log)}.Register(e)
	if err := h.Register(e); err != nil {
		return nil, nil, nil, fmt.Errorf("app: register views: %w", err)
	}
	if cfg.BenchRoutes {
		if err := h.RegisterBaseline(e); err != nil {
			return nil, nil, nil, fmt.Errorf("app: register baseline routes: %w", err)
		}
	}
	return e, stack.Close, metricsHandler, nil
}

// OpenEngine opens cfg's session engine (SESSION_ENGINE, see package
// engine) on db, with CACHE_URL, SESSION_CACHE_SIZE and CACHE_MAX_ENTRIES:
// its layers, from the record up. Close the stack when done, before db.
//
// manage uses it too, so that its deletes go through every layer the site
// has (a session deleted by manage is forgotten by Redis as well).
func OpenEngine(cfg Config, db *database.DB, log *slog.Logger, opts ...engine.Option) (*engine.Stack, error) {
	stack, err := cfg.SessionEngine.Open(engine.Setup{
		DB:         db,
		Redis:      cfg.Cache,
		CacheSize:  cfg.SessionCacheSize,
		MaxEntries: cfg.CacheMaxEntries,
		Wait:       cfg.storeWaitBound(),
		Log:        log,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return stack, nil
}

// djangoBefore reports whether the Django release version ("3.2", as
// DJANGO_VERSION holds it) is older than v ("4.1"). An unreadable version
// counts as the newest.
func djangoBefore(version, v string) bool {
	parse := func(s string) (int, int, bool) {
		major, minor, _ := strings.Cut(strings.TrimSpace(s), ".")
		a, err1 := strconv.Atoi(major)
		b, err2 := strconv.Atoi(minor)
		return a, b, err1 == nil && err2 == nil
	}
	a1, b1, ok := parse(version)
	a2, b2, _ := parse(v)
	return ok && (a1 < a2 || a1 == a2 && b1 < b2)
}
