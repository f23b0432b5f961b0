// Package app wires the demo site together: configuration from the
// environment and flags (with Django's setting names), the database, the
// Echo server with its middleware, and the process lifetime (migrations at
// start, graceful shutdown on SIGINT/SIGTERM). It holds no handlers, SQL or
// templates: those live in views, migrations and templates.
package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/redis/go-redis/v9"
)

// Config is the site's configuration. [LoadConfig] fills it from
// environment variables named like Django's settings, then from flags of
// the same meaning.
type Config struct {
	// Addr is the listen address (ADDR). Default "127.0.0.1:8000"; a port of
	// 0 picks a free one.
	Addr string
	// Database says where the sessions are kept (DATABASE_URL), parsed:
	// "sqlite:PATH", a plain path, or "postgres://...". Default
	// "sqlite:db.sqlite3".
	Database database.URL
	// SecretKey signs session data (SECRET_KEY). When it is empty the site
	// makes a development key once and keeps it beside the SQLite database
	// (see Run); the manage commands do not need it.
	SecretKey string
	// SecretKeyFallbacks are older keys still accepted when reading
	// (SECRET_KEY_FALLBACKS, comma-separated).
	SecretKeyFallbacks []string
	// SessionEngine names the session backend (SESSION_ENGINE), as Django's
	// last dotted component; package engine says what each one is and
	// opens it. Default engine.DB.
	SessionEngine engine.Name
	// SessionCacheSize bounds how many sessions the database engines keep
	// in memory (SESSION_CACHE_SIZE); 0 turns the cache off. Default 10000.
	SessionCacheSize int
	// CacheMaxEntries bounds the sessions the cache engine keeps in
	// process memory without CACHE_URL (CACHE_MAX_ENTRIES, Django's
	// MAX_ENTRIES): the least recently used are evicted beyond it.
	// Default 10000.
	CacheMaxEntries int
	// Cache is the shared cache (CACHE_URL, redis:// or rediss://),
	// parsed into Redis client options: Redis is the store of the cache
	// engine and a write-through cache in front of the database for
	// cached_db. Nil when unset: cache keeps sessions in process memory,
	// cached_db uses the in-process cache alone.
	Cache *redis.Options
	// Debug turns on debug logging and Echo's debug mode (DEBUG). Default
	// false.
	Debug bool
	// BenchRoutes adds the load benchmark's baseline routes, /baseline/*
	// (BENCH_ROUTES; see app/loadtest). Default false.
	BenchRoutes bool
	// DjangoVersion is the release of the Django site that shares the
	// database (DJANGO_VERSION, "major.minor"): new password hashes get
	// its PBKDF2 iteration count, so that Django does not rehash them at
	// the next login (which would end the user's other sessions). Default
	// auth.DefaultDjangoVersion (5.2, the newest LTS); the site logs the
	// release it assumes at start.
	DjangoVersion string
	// PasswordIterations is the PBKDF2 iteration count of DjangoVersion.
	PasswordIterations int
	// LoginURL is where a page that needs a login sends anonymous
	// visitors, with the page in ?next= (LOGIN_URL). Default
	// "/accounts/login/".
	LoginURL string
	// LoginRedirectURL is where a login goes when it has no safe next
	// page (LOGIN_REDIRECT_URL). Default "/accounts/profile/".
	LoginRedirectURL string
	// Metrics serves Prometheus metrics at /metrics on the site's
	// listener (METRICS). Default false.
	Metrics bool
	// MetricsAddr serves /metrics on a listener of its own at this
	// host:port instead, out of the site's reach (METRICS_ADDR); setting
	// it turns metrics on. Default none.
	MetricsAddr string
	// Session holds the SESSION_* settings. Its Store, SecretKey,
	// SecretKeyFallbacks and Logger are filled in by [New].
	Session session.Config
	// CSRF holds the CSRF_* settings, with Django's names and defaults
	// (package csrf). Its IsSecure, SessionCookieDomain and CookieMasked
	// are filled in by [New]: SECURE_PROXY_SSL_HEADER's rule,
	// SESSION_COOKIE_DOMAIN, and whether DJANGO_VERSION keeps the secret
	// masked (before 4.1).
	CSRF csrf.Config
	// Security holds the settings of Django's SecurityMiddleware and
	// XFrameOptionsMiddleware (X_FRAME_OPTIONS, SECURE_*).
	Security SecurityConfig
	// DataUploadMaxMemorySize bounds a request body, in bytes
	// (DATA_UPLOAD_MAX_MEMORY_SIZE, Django's name and default 2621440):
	// above it the request gets a 413 (see limitBody).
	DataUploadMaxMemorySize int64
	// ReadTimeout bounds reading a whole request, body included
	// (READ_TIMEOUT); WriteTimeout bounds the time from the end of its
	// headers to the end of the response (WRITE_TIMEOUT); IdleTimeout is
	// how long a keep-alive connection may wait for its next request
	// (IDLE_TIMEOUT); ShutdownTimeout is how long a shutdown waits for the
	// requests in flight (SHUTDOWN_TIMEOUT). Defaults 10 s, 20 s, 120 s and
	// 25 s; LoadConfig refuses values that do not fit together (see check).
	ReadTimeout, WriteTimeout, IdleTimeout, ShutdownTimeout time.Duration
	// TrustedProxies are the addresses whose X-Forwarded-For the request
	// log believes (TRUSTED_PROXIES, comma-separated addresses or CIDR
	// ranges). Default none: the log shows the peer address.
	TrustedProxies []netip.Prefix
}

// setting is one configuration value: its environment variable, its flag
// and how a string sets it.
type setting struct {
	env    string // environment variable, Django's name
	flag   string // flag name; empty: environment only (secrets)
	usage  string
	isBool bool
	// secret: the value may hold a password, and an error must not
	// repeat it (set's error says what is wrong without it).
	secret bool
	set    func(cfg *Config, v string) error
}

// settings lists every setting, in the order of the usage text.
func settings() []setting {
	return []setting{
		{env: "ADDR", flag: "addr", usage: "listen `address` of the site (host:port; port 0 picks one)", set: func(cfg *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("want host:port, such as 127.0.0.1:8000")
			}
			cfg.Addr = v
			return nil
		}},
		{env: "DATABASE_URL", flag: "database-url", secret: true, usage: "database `URL`: sqlite:PATH, a plain path, or postgres://user:password@host:port/dbname; ?timeout=SECONDS bounds lock waits", set: func(cfg *Config, v string) error {
			u, err := database.ParseURL(v)
			if err != nil {
				return errors.New(strings.TrimPrefix(err.Error(), "database: "))
			}
			cfg.Database = u
			return nil
		}},
		{env: "SECRET_KEY", usage: "signing key; unset: a development key kept beside the SQLite database", set: func(cfg *Config, v string) error {
			cfg.SecretKey = v
			return nil
		}},
		{env: "SECRET_KEY_FALLBACKS", usage: "older signing keys still accepted, comma-separated", set: func(cfg *Config, v string) error {
			cfg.SecretKeyFallbacks = nil
			for _, k := range strings.Split(v, ",") {
				if k = strings.TrimSpace(k); k != "" {
					cfg.SecretKeyFallbacks = append(cfg.SecretKeyFallbacks, k)
				}
			}
			return nil
		}},
		{env: "SESSION_ENGINE", flag: "session-engine", usage: "session `backend`: " + engine.Supported() + " (Django's dotted name also works)", set: func(cfg *Config, v string) (err error) {
			cfg.SessionEngine, err = engine.Parse(v)
			return err
		}},
		{env: "SESSION_MAX_SIZE", flag: "session-max-size", usage: "largest session stored, in `bytes` of JSON; a bigger one is refused (500) and the stored session kept", set: func(cfg *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				return errors.New("want a whole number of bytes, 1 or more")
			}
			cfg.Session.MaxSize = n
			return nil
		}},
		{env: "CACHE_URL", flag: "cache-url", secret: true, usage: "shared cache `URL` for the cache and cached_db engines: redis://[:password@]host:port/db (or rediss://)", set: func(cfg *Config, v string) error {
			opts, err := redisstore.ParseURL(strings.TrimSpace(v))
			if err != nil {
				return errors.New(strings.TrimPrefix(err.Error(), "redisstore: "))
			}
			cfg.Cache = opts
			return nil
		}},
		{env: "SESSION_CACHE_SIZE", flag: "session-cache-size", usage: "`sessions` kept in memory by the db engines (0: no cache)", set: func(cfg *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return errors.New("want a whole number of sessions, 0 or more")
			}
			cfg.SessionCacheSize = n
			return nil
		}},
		{env: "CACHE_MAX_ENTRIES", flag: "cache-max-entries", usage: "`sessions` the cache engine keeps in process memory without CACHE_URL; the least recently used are evicted beyond it", set: func(cfg *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 {
				return errors.New("want a whole number of sessions, 1 or more")
			}
			cfg.CacheMaxEntries = n
			return nil
		}},
		{env: "DEBUG", flag: "debug", isBool: true, usage: "debug logging and Echo's debug mode", set: boolSetter(func(cfg *Config) *bool { return &cfg.Debug })},
		{env: "METRICS", flag: "metrics", isBool: true, usage: "serve Prometheus metrics at /metrics on the site's listener", set: boolSetter(func(cfg *Config) *bool { return &cfg.Metrics })},
		{env: "METRICS_ADDR", flag: "metrics-addr", usage: "serve /metrics on a listener of its own at this `address` (host:port) instead", set: func(cfg *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("want host:port, such as 127.0.0.1:9100")
			}
			cfg.MetricsAddr = v
			return nil
		}},
		{env: "BENCH_ROUTES", isBool: true, usage: "add the load benchmark's /baseline/ routes (app/loadtest); never on a real site", set: boolSetter(func(cfg *Config) *bool { return &cfg.BenchRoutes })},
		{env: "DJANGO_VERSION", flag: "django-version", usage: "`release` of the Django site sharing the database (3.1 to " + auth.LatestDjangoVersion + "): new password hashes use its PBKDF2 iteration count", set: func(cfg *Config, v string) error {
			n, err := auth.PBKDF2Iterations(v)
			if err != nil {
				return fmt.Errorf("want a Django release from 3.1 to %s, such as 5.2", auth.LatestDjangoVersion)
			}
			cfg.DjangoVersion, cfg.PasswordIterations = strings.TrimSpace(v), n
			return nil
		}},
		{env: "LOGIN_URL", flag: "login-url", usage: "`URL` of the login page, where pages that need a login send anonymous visitors: a path such as /accounts/login/, or an http(s) URL", set: func(cfg *Config, v string) (err error) {
			cfg.LoginURL, err = parseSiteURL(v)
			return err
		}},
		{env: "LOGIN_REDIRECT_URL", flag: "login-redirect-url", usage: "`URL` a login goes to when it has no safe next page: a path such as /accounts/profile/, or an http(s) URL", set: func(cfg *Config, v string) (err error) {
			cfg.LoginRedirectURL, err = parseSiteURL(v)
			return err
		}},
		{env: "SESSION_COOKIE_NAME", flag: "session-cookie-name", usage: "session cookie `name`", set: cookieNameSetter(func(cfg *Config) *string { return &cfg.Session.CookieName })},
		{env: "SESSION_COOKIE_AGE", flag: "session-cookie-age", usage: "default session lifetime in `seconds`", set: func(cfg *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1 || n > math.MaxInt32 {
				return fmt.Errorf("want a whole number of seconds from 1 to %d", math.MaxInt32)
			}
			cfg.Session.CookieAge = time.Duration(n) * time.Second
			return nil
		}},
		{env: "SESSION_IDLE_TIMEOUT", flag: "session-idle-timeout", usage: "`seconds` a session may go unused before it ends, kept in expire_date (0: off, as in Django)", set: timeoutSetter(func(cfg *Config) *time.Duration { return &cfg.Session.IdleTimeout })},
		{env: "SESSION_ABSOLUTE_TIMEOUT", flag: "session-absolute-timeout", usage: "`seconds` after its login a session ends whatever its activity, kept in expire_date (0: off, as in Django)", set: timeoutSetter(func(cfg *Config) *time.Duration { return &cfg.Session.AbsoluteTimeout })},
		{env: "SESSION_COOKIE_DOMAIN", flag: "session-cookie-domain", usage: "session cookie `domain` (empty: host-only)", set: cookieDomainSetter(func(cfg *Config) *string { return &cfg.Session.CookieDomain })},
		{env: "SESSION_COOKIE_PATH", flag: "session-cookie-path", usage: "session cookie `path`", set: cookiePathSetter(func(cfg *Config) *string { return &cfg.Session.CookiePath })},
		{env: "SESSION_COOKIE_SECURE", flag: "session-cookie-secure", isBool: true, usage: "send the session cookie over HTTPS only", set: boolSetter(func(cfg *Config) *bool { return &cfg.Session.CookieSecure })},
		{env: "SESSION_COOKIE_HTTPONLY", flag: "session-cookie-httponly", isBool: true, usage: "hide the session cookie from JavaScript", set: func(cfg *Config, v string) error {
			b, err := parseBool(v)
			cfg.Session.DisableCookieHTTPOnly = !b
			return err
		}},
		{env: "SESSION_COOKIE_SAMESITE", flag: "session-cookie-samesite", usage: "SameSite of the session cookie: Lax, Strict, None, or False to leave it out", set: func(cfg *Config, v string) (err error) {
			cfg.Session.CookieSameSite, err = parseSameSite(v)
			return err
		}},
		{env: "SESSION_EXPIRE_AT_BROWSER_CLOSE", flag: "session-expire-at-browser-close", isBool: true, usage: "sessions without an expiry end when the browser closes", set: boolSetter(func(cfg *Config) *bool { return &cfg.Session.ExpireAtBrowserClose })},
		{env: "SESSION_SAVE_EVERY_REQUEST", flag: "session-save-every-request", isBool: true, usage: "save the session and resend its cookie on every request", set: boolSetter(func(cfg *Config) *bool { return &cfg.Session.SaveEveryRequest })},
		{env: "CSRF_COOKIE_NAME", flag: "csrf-cookie-name", usage: "CSRF cookie `name`", set: cookieNameSetter(func(cfg *Config) *string { return &cfg.CSRF.CookieName })},
		{env: "CSRF_COOKIE_AGE", flag: "csrf-cookie-age", usage: "CSRF cookie lifetime in `seconds`, or None for a cookie that ends when the browser closes", set: func(cfg *Config, v string) error {
			if isNone(v) {
				cfg.CSRF.CookieAge = csrf.BrowserSession
				return nil
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 1 || n > math.MaxInt32 {
				return fmt.Errorf("want a whole number of seconds from 1 to %d, or None", math.MaxInt32)
			}
			cfg.CSRF.CookieAge = time.Duration(n) * time.Second
			return nil
		}},
		{env: "CSRF_COOKIE_DOMAIN", flag: "csrf-cookie-domain", usage: "CSRF cookie `domain` (empty: host-only)", set: cookieDomainSetter(func(cfg *Config) *string { return &cfg.CSRF.CookieDomain })},
		{env: "CSRF_COOKIE_PATH", flag: "csrf-cookie-path", usage: "CSRF cookie `path`", set: cookiePathSetter(func(cfg *Config) *string { return &cfg.CSRF.CookiePath })},
		{env: "CSRF_COOKIE_SECURE", flag: "csrf-cookie-secure", isBool: true, usage: "send the CSRF cookie over HTTPS only", set: boolSetter(func(cfg *Config) *bool { return &cfg.CSRF.CookieSecure })},
		{env: "CSRF_COOKIE_HTTPONLY", flag: "csrf-cookie-httponly", isBool: true, usage: "hide the CSRF cookie from JavaScript", set: boolSetter(func(cfg *Config) *bool { return &cfg.CSRF.CookieHTTPOnly })},
		{env: "CSRF_COOKIE_SAMESITE", flag: "csrf-cookie-samesite", usage: "SameSite of the CSRF cookie: Lax, Strict, None, or False to leave it out", set: func(cfg *Config, v string) (err error) {
			cfg.CSRF.CookieSameSite, err = parseSameSite(v)
			return err
		}},
		{env: "CSRF_HEADER_NAME", flag: "csrf-header-name", usage: "request `header` that may carry the CSRF token: X-CSRFToken, or Django's spelling HTTP_X_CSRFTOKEN", set: func(cfg *Config, v string) (err error) {
			cfg.CSRF.HeaderName, err = csrf.ParseHeaderName(v)
			return err
		}},
		{env: "CSRF_TRUSTED_ORIGINS", flag: "csrf-trusted-origins", usage: "`origins` (scheme://host[:port], *. for subdomains; comma-separated) whose unsafe requests are accepted besides the site's own", set: func(cfg *Config, v string) (err error) {
			cfg.CSRF.TrustedOrigins, err = csrf.ParseTrustedOrigins(v)
			return err
		}},
		{env: "CSRF_USE_SESSIONS", flag: "csrf-use-sessions", isBool: true, usage: "keep the CSRF secret in the session (under _csrftoken) instead of a cookie", set: boolSetter(func(cfg *Config) *bool { return &cfg.CSRF.UseSessions })},
		{env: "DATA_UPLOAD_MAX_MEMORY_SIZE", flag: "data-upload-max-memory-size", usage: "largest request body in `bytes`; above it a 413", set: func(cfg *Config, v string) (err error) {
			cfg.DataUploadMaxMemorySize, err = parseUploadSize(v)
			return err
		}},
		{env: "READ_TIMEOUT", flag: "read-timeout", usage: "`seconds` to read a whole request, body included", set: durationSetter(func(cfg *Config) *time.Duration { return &cfg.ReadTimeout })},
		{env: "WRITE_TIMEOUT", flag: "write-timeout", usage: "`seconds` from the end of a request's headers to the end of its response; at least READ_TIMEOUT + the store's wait bound + 1", set: durationSetter(func(cfg *Config) *time.Duration { return &cfg.WriteTimeout })},
		{env: "IDLE_TIMEOUT", flag: "idle-timeout", usage: "`seconds` a keep-alive connection waits for its next request", set: durationSetter(func(cfg *Config) *time.Duration { return &cfg.IdleTimeout })},
		{env: "SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", usage: "`seconds` a shutdown waits for the requests in flight; more than WRITE_TIMEOUT", set: durationSetter(func(cfg *Config) *time.Duration { return &cfg.ShutdownTimeout })},
		{env: "TRUSTED_PROXIES", flag: "trusted-proxies", usage: "`addresses` (IPs or CIDR ranges, comma-separated) of proxies whose X-Forwarded-For is believed", set: func(cfg *Config, v string) (err error) {
			cfg.TrustedProxies, err = parseTrustedProxies(v)
			return err
		}},
		{env: "X_FRAME_OPTIONS", flag: "x-frame-options", usage: "X-Frame-Options: DENY or SAMEORIGIN", set: func(cfg *Config, v string) (err error) {
			cfg.Security.XFrameOptions, err = parseXFrameOptions(v)
			return err
		}},
		{env: "SECURE_CONTENT_TYPE_NOSNIFF", flag: "secure-content-type-nosniff", isBool: true, usage: "send X-Content-Type-Options: nosniff", set: boolSetter(func(cfg *Config) *bool { return &cfg.Security.ContentTypeNosniff })},
		{env: "SECURE_REFERRER_POLICY", flag: "secure-referrer-policy", usage: "Referrer-Policy (comma-separated policies), or None", set: func(cfg *Config, v string) (err error) {
			cfg.Security.ReferrerPolicy, err = parseReferrerPolicy(v)
			return err
		}},
		{env: "SECURE_CROSS_ORIGIN_OPENER_POLICY", flag: "secure-cross-origin-opener-policy", usage: "Cross-Origin-Opener-Policy: same-origin, same-origin-allow-popups, unsafe-none, or None", set: func(cfg *Config, v string) (err error) {
			cfg.Security.CrossOriginOpenerPolicy, err = parseOpenerPolicy(v)
			return err
		}},
		{env: "SECURE_HSTS_SECONDS", flag: "secure-hsts-seconds", usage: "Strict-Transport-Security max-age in `seconds` on HTTPS requests (0: none)", set: func(cfg *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 || n > math.MaxInt32 {
				return fmt.Errorf("want a whole number of seconds from 0 to %d", math.MaxInt32)
			}
			cfg.Security.HSTSSeconds = n
			return nil
		}},
		{env: "SECURE_HSTS_INCLUDE_SUBDOMAINS", flag: "secure-hsts-include-subdomains", isBool: true, usage: "add includeSubDomains to Strict-Transport-Security", set: boolSetter(func(cfg *Config) *bool { return &cfg.Security.HSTSIncludeSubdomains })},
		{env: "SECURE_HSTS_PRELOAD", flag: "secure-hsts-preload", isBool: true, usage: "add preload to Strict-Transport-Security", set: boolSetter(func(cfg *Config) *bool { return &cfg.Security.HSTSPreload })},
		{env: "SECURE_SSL_REDIRECT", flag: "secure-ssl-redirect", isBool: true, usage: "redirect every plain-HTTP request to HTTPS", set: boolSetter(func(cfg *Config) *bool { return &cfg.Security.SSLRedirect })},
		{env: "SECURE_PROXY_SSL_HEADER", flag: "secure-proxy-ssl-header", usage: "`HEADER,VALUE` a proxy sets on HTTPS requests, such as X-Forwarded-Proto,https; only behind a proxy that always sets or strips it", set: func(cfg *Config, v string) (err error) {
			cfg.Security.ProxySSLHeader, cfg.Security.ProxySSLValue, err = parseProxySSLHeader(v)
			return err
		}},
		{env: "SECURE_CSP", flag: "secure-csp", usage: "Content-Security-Policy of every response, or None", set: func(cfg *Config, v string) (err error) {
			cfg.Security.CSP, err = parseCSP(v)
			return err
		}},
	}
}

// SettingName names one setting [LoadConfig] reads: its environment
// variable (Django's name), its flag ("" for a setting read from the
// environment only: the secret keys), and its default as [PrintUsage]
// shows it ("" for none to show).
type SettingName struct {
	Env, Flag, Default string
}

// Settings returns the name and default of every setting [LoadConfig]
// reads, in the order [PrintUsage] lists them: the one list the docs'
// settings table is checked against.
func Settings() []SettingName {
	defaults := settingDefaults()
	var out []SettingName
	for _, s := range settings() {
		out = append(out, SettingName{Env: s.env, Flag: s.flag, Default: defaults[s.env]})
	}
	return out
}

// DefaultConfig returns the configuration with every setting at its
// default, Django's where Django has one.
func DefaultConfig() Config {
	return Config{
		Addr:             "127.0.0.1:8000",
		Database:         defaultDatabase(),
		SessionEngine:    engine.DB,
		SessionCacheSize: 10000,
		CacheMaxEntries:  memstore.DefaultMaxEntries,
		DjangoVersion:    auth.DefaultDjangoVersion,
		// The count of auth.DefaultDjangoVersion, which PBKDF2Iterations knows.
		PasswordIterations: must(auth.PBKDF2Iterations(auth.DefaultDjangoVersion)),
		LoginURL:           "/accounts/login/",
		LoginRedirectURL:   "/accounts/profile/",
		Session:            session.DefaultConfig(),
		CSRF:               csrf.DefaultConfig(),
		Security:           DefaultSecurityConfig(),

		DataUploadMaxMemorySize: DefaultDataUploadMaxMemorySize,
		ReadTimeout:             DefaultReadTimeout,
		WriteTimeout:            DefaultWriteTimeout,
		IdleTimeout:             DefaultIdleTimeout,
		ShutdownTimeout:         DefaultShutdownTimeout,
	}
}

// must returns n, for a value computed from constants that cannot fail.
func must(n int, err error) int {
	if err != nil {
		panic("app: " + err.Error()) // constants: unreachable
	}
	return n
}

// defaultDatabase is DATABASE_URL's default, sqlite:db.sqlite3.
func defaultDatabase() database.URL {
	u, err := database.ParseURL("sqlite:db.sqlite3")
	if err != nil {
		panic("app: the default DATABASE_URL does not parse: " + err.Error()) // a constant: unreachable
	}
	return u
}

// LoadConfig returns the configuration given by the environment (read
// through getenv; an empty value counts as unset) and then by args, whose
// flags override the environment. A bad value is an error naming the
// setting and the value. "-h" gives an error wrapping [flag.ErrHelp]; the
// flags are described by [PrintUsage].
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	for _, s := range settings() {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := s.set(&cfg, v); err != nil {
			if s.secret {
				return Config{}, fmt.Errorf("invalid %s: %w", s.env, err)
			}
			return Config{}, fmt.Errorf("invalid %s %q: %w", s.env, v, err)
		}
	}
	var secretErr error
	fs := newFlagSet(&cfg, &secretErr)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if secretErr != nil {
		return Config{}, secretErr
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (settings are flags such as -addr=127.0.0.1:8000, or environment variables)", fs.Arg(0))
	}
	if err := cfg.check(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// PrintUsage writes the flags and environment variables [LoadConfig]
// understands, with their defaults, to w.
func PrintUsage(w io.Writer) {
	fmt.Fprintln(w, "Settings (environment variable, or the flag, which wins):")
	defaults := settingDefaults()
	for _, s := range settings() {
		name := s.env
		if s.flag != "" {
			name += ", -" + s.flag
		}
		line := "  " + name + "\n      " + strings.ReplaceAll(s.usage, "`", "")
		if d, ok := defaults[s.env]; ok {
			line += " (default " + d + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "Booleans take True/False, 1/0, yes/no or on/off, in any case; a boolean flag alone means True.")
}

// settingDefaults returns the default of each setting that has one to
// show, as PrintUsage shows it.
func settingDefaults() map[string]string {
	def := DefaultConfig()
	return map[string]string{
		"ADDR":                              def.Addr,
		"DATABASE_URL":                      def.Database.String(),
		"DJANGO_VERSION":                    def.DjangoVersion,
		"SESSION_ENGINE":                    string(def.SessionEngine),
		"SESSION_CACHE_SIZE":                strconv.Itoa(def.SessionCacheSize),
		"CACHE_MAX_ENTRIES":                 strconv.Itoa(def.CacheMaxEntries),
		"LOGIN_URL":                         def.LoginURL,
		"LOGIN_REDIRECT_URL":                def.LoginRedirectURL,
		"SESSION_MAX_SIZE":                  strconv.Itoa(def.Session.MaxSize),
		"DEBUG":                             "False",
		"METRICS":                           "False",
		"BENCH_ROUTES":                      "False",
		"SESSION_COOKIE_NAME":               def.Session.CookieName,
		"SESSION_COOKIE_AGE":                strconv.Itoa(int(def.Session.CookieAge / time.Second)),
		"SESSION_COOKIE_PATH":               def.Session.CookiePath,
		"SESSION_IDLE_TIMEOUT":              "0",
		"SESSION_ABSOLUTE_TIMEOUT":          "0",
		"SESSION_COOKIE_SECURE":             "False",
		"SESSION_COOKIE_HTTPONLY":           "True",
		"SESSION_COOKIE_SAMESITE":           "Lax",
		"SESSION_EXPIRE_AT_BROWSER_CLOSE":   "False",
		"SESSION_SAVE_EVERY_REQUEST":        "False",
		"CSRF_COOKIE_NAME":                  def.CSRF.CookieName,
		"CSRF_COOKIE_AGE":                   strconv.Itoa(int(def.CSRF.CookieAge / time.Second)),
		"CSRF_COOKIE_PATH":                  def.CSRF.CookiePath,
		"CSRF_COOKIE_SECURE":                "False",
		"CSRF_COOKIE_HTTPONLY":              "False",
		"CSRF_COOKIE_SAMESITE":              "Lax",
		"CSRF_HEADER_NAME":                  def.CSRF.HeaderName,
		"CSRF_TRUSTED_ORIGINS":              "none",
		"CSRF_USE_SESSIONS":                 "False",
		"DATA_UPLOAD_MAX_MEMORY_SIZE":       strconv.FormatInt(def.DataUploadMaxMemorySize, 10),
		"READ_TIMEOUT":                      seconds(def.ReadTimeout),
		"WRITE_TIMEOUT":                     seconds(def.WriteTimeout),
		"IDLE_TIMEOUT":                      seconds(def.IdleTimeout),
		"SHUTDOWN_TIMEOUT":                  seconds(def.ShutdownTimeout),
		"TRUSTED_PROXIES":                   "none",
		"X_FRAME_OPTIONS":                   def.Security.XFrameOptions,
		"SECURE_CONTENT_TYPE_NOSNIFF":       "True",
		"SECURE_REFERRER_POLICY":            def.Security.ReferrerPolicy,
		"SECURE_CROSS_ORIGIN_OPENER_POLICY": def.Security.CrossOriginOpenerPolicy,
		"SECURE_HSTS_SECONDS":               "0",
		"SECURE_HSTS_INCLUDE_SUBDOMAINS":    "False",
		"SECURE_HSTS_PRELOAD":               "False",
		"SECURE_SSL_REDIRECT":               "False",
		"SECURE_PROXY_SSL_HEADER":           "None",
		"SECURE_CSP":                        `"` + def.Security.CSP + `"`,
	}
}

// newFlagSet returns the flags of every setting that has one, writing into
// cfg. A bad value of a secret setting is kept in *secretErr instead of
// going back to the flag package, whose message would quote the value.
func newFlagSet(cfg *Config, secretErr *error) *flag.FlagSet {
	fs := flag.NewFlagSet("gosessions", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; PrintUsage documents the flags
	for _, s := range settings() {
		if s.flag == "" {
			continue
		}
		fs.Var(&flagValue{cfg: cfg, s: s, secretErr: secretErr}, s.flag, s.usage)
	}
	return fs
}

// flagValue adapts a setting to flag.Value.
type flagValue struct {
	cfg       *Config
	s         setting
	v         string
	secretErr *error
}

func (f *flagValue) String() string   { return f.v }
func (f *flagValue) IsBoolFlag() bool { return f.s.isBool }
func (f *flagValue) Set(v string) error {
	if err := f.s.set(f.cfg, v); err != nil {
		if f.s.secret {
			if *f.secretErr == nil {
				*f.secretErr = fmt.Errorf("invalid -%s: %w", f.s.flag, err)
			}
			return nil
		}
		return err
	}
	f.v = v
	return nil
}

// boolSetter returns a setter that parses a Python-ish boolean into the
// field that field returns.
func boolSetter(field func(cfg *Config) *bool) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		*field(cfg) = b
		return nil
	}
}

// durationSetter returns a setter that parses seconds into the field that
// field returns.
func durationSetter(field func(cfg *Config) *time.Duration) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		*field(cfg) = d
		return nil
	}
}

// timeoutSetter returns a setter of a session timeout: whole seconds,
// 0 for off.
func timeoutSetter(field func(cfg *Config) *time.Duration) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("want a whole number of seconds from 0 (off) to %d", math.MaxInt32)
		}
		*field(cfg) = time.Duration(n) * time.Second
		return nil
	}
}

// cookieNameSetter returns the setter of a cookie's name (SESSION_ or
// CSRF_COOKIE_NAME): the rule of session.ValidCookieName, net/http's.
func cookieNameSetter(field func(cfg *Config) *string) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		if !session.ValidCookieName(v) {
			return errors.New("want a cookie name: letters, digits and !#$%&'*+-.^_`|~")
		}
		*field(cfg) = v
		return nil
	}
}

// cookieDomainSetter returns the setter of a cookie's domain (SESSION_
// or CSRF_COOKIE_DOMAIN).
func cookieDomainSetter(field func(cfg *Config) *string) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		if strings.ContainsAny(v, " ;,\t\r\n") {
			return errors.New("want a domain such as .example.com")
		}
		*field(cfg) = v
		return nil
	}
}

// cookiePathSetter returns the setter of a cookie's path (SESSION_ or
// CSRF_COOKIE_PATH).
func cookiePathSetter(field func(cfg *Config) *string) func(cfg *Config, v string) error {
	return func(cfg *Config, v string) error {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, ";\r\n") {
			return errors.New("want a path starting with /")
		}
		*field(cfg) = v
		return nil
	}
}

// seconds shows d as a number of seconds, as the timeouts are set.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// parseSameSite reads a SameSite setting: Lax, Strict, None, or False to
// leave the attribute out, in any case.
func parseSameSite(v string) (http.SameSite, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "lax":
		return http.SameSiteLaxMode, nil
	case "strict":
		return http.SameSiteStrictMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	case "false":
		return http.SameSiteDefaultMode, nil
	}
	return 0, errors.New("want Lax, Strict, None or False")
}

// parseBool accepts the spellings of a boolean found in Django settings
// files and environment conventions, in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, errors.New("want True or False")
}

// parseSiteURL reads LOGIN_URL or LOGIN_REDIRECT_URL: a path of the site
// ("/accounts/login/", a query allowed) or an absolute http or https URL,
// where Django also takes a URL pattern's name, which a Go site has not.
func parseSiteURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", errors.New("want a path such as /accounts/login/ or an http(s) URL, without spaces")
	}
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.HasPrefix(v, `/\`) {
		return v, nil
	}
	if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return v, nil
	}
	return "", errors.New("want a path such as /accounts/login/ or an http(s) URL (a URL pattern's name is Django's alone)")
}
