package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Config holds the settings of a session [Manager]. Its fields mirror
// Django's SESSION_* settings, and a field left at its zero value means
// Django's default: a Config literal with only Store and SecretKey sends
// the cookie Django sends (sessionid, two weeks, Path=/, HttpOnly,
// SameSite=Lax). Turning HttpOnly or SameSite off is an explicit choice
// (DisableCookieHTTPOnly, http.SameSiteDefaultMode).
type Config struct {
	// Store keeps the session records. Required, unless SignedCookies is
	// set.
	Store Store
	// SignedCookies keeps the whole session in its cookie instead of a
	// Store: Django's signed_cookies engine, in its format (the
	// "django.contrib.sessions.backends.signed_cookies" salt, compressed
	// signed JSON), so that a Django site with the same SECRET_KEY reads
	// it and the other way round. Store must be nil. A cookie older than
	// CookieAge is refused, as Django's max_age refuses it; unlike Django,
	// a session's own expiry (SetExpiry, SetExpiryAt) is enforced too.
	//
	// What it cannot do, by its nature: concurrent requests of one session
	// each send a whole cookie, and the last one the browser receives
	// wins (no merge, as in Django); there is no server-side logout, so a
	// stolen cookie works until it expires; the data is signed, not
	// encrypted (the browser can read it); and a session whose cookie
	// would exceed 4096 bytes is an error ([ErrTooLarge]), never a cookie
	// the browser silently drops.
	SignedCookies bool

	// SecretKey signs session data (Django's SECRET_KEY). Required.
	SecretKey string
	// SecretKeyFallbacks are older keys still accepted when reading
	// (Django's SECRET_KEY_FALLBACKS). Data is always written with SecretKey.
	SecretKeyFallbacks []string

	// CookieName is the session cookie's name (SESSION_COOKIE_NAME).
	// Default "sessionid".
	CookieName string
	// CookieAge is the default session lifetime (SESSION_COOKIE_AGE), in
	// whole seconds. Default two weeks.
	CookieAge time.Duration
	// CookieDomain is the cookie's Domain attribute (SESSION_COOKIE_DOMAIN).
	// Default none (host-only).
	CookieDomain string
	// CookiePath is the cookie's Path (SESSION_COOKIE_PATH). Default "/".
	CookiePath string
	// CookieSecure adds Secure (SESSION_COOKIE_SECURE). Default false.
	CookieSecure bool
	// DisableCookieHTTPOnly leaves HttpOnly off the cookie, so that page
	// scripts can read it: Django's SESSION_COOKIE_HTTPONLY = False. By
	// default the cookie is HttpOnly.
	DisableCookieHTTPOnly bool
	// CookieSameSite is the SameSite attribute (SESSION_COOKIE_SAMESITE).
	// Default (0) http.SameSiteLaxMode; http.SameSiteDefaultMode leaves the
	// attribute out, like Django's False; http.SameSiteNoneMode needs
	// CookieSecure.
	CookieSameSite http.SameSite

	// ExpireAtBrowserClose makes sessions without an explicit expiry use
	// browser-session cookies (SESSION_EXPIRE_AT_BROWSER_CLOSE).
	ExpireAtBrowserClose bool
	// SaveEveryRequest saves every non-empty session and re-sends its cookie
	// on each request, sliding its expiry (SESSION_SAVE_EVERY_REQUEST).
	SaveEveryRequest bool

	// DecodedCacheSize is how many sessions keep their decoded data in
	// memory, so that loading a record whose data has not changed skips
	// verifying the signature and parsing the JSON again. It is keyed by
	// the stored data itself, so it can never serve anything stale. 0 (the
	// default) keeps none.
	DecodedCacheSize int

	// StoreTimeout is the store budget of one request: the longest it
	// waits for the store in all, over every load and save and the wait
	// for another save of the same session. When it runs out the request
	// fails with the store's error (a 503 by default) instead of queueing
	// for as long as the store is stuck. Set it a little above the
	// database's own lock timeout (app uses DATABASE_URL's timeout plus
	// one second). Default 6 s. A session opened with Manager.Open gets a
	// fresh budget at each Save.
	StoreTimeout time.Duration

	// MaxSize is the largest session stored, in bytes of JSON before
	// compression: a save above it fails with [ErrTooLarge] and writes
	// nothing, so the stored session (every other key in it) stays as it
	// was, instead of being written and then refused when read. Reading
	// accepts up to max(MaxSize, 8 MiB). Default 1 MiB.
	MaxSize int

	// Skipper, when it returns true, bypasses the Echo middleware for a
	// request: no session is attached. Default: skip nothing.
	Skipper func(c echo.Context) bool
	// ErrorHandler receives, in the Echo middleware, every failure to
	// commit the session, before any byte of the response has been sent,
	// with the handler's response discarded; it must write the response
	// with c. The default logs the error once and calls c.Error with an
	// *echo.HTTPError of the status [StatusOf] gives, which Echo's
	// HTTPErrorHandler renders:
	//
	//   - 400 for [ErrInterrupted] (the session was deleted by a
	//     concurrent request: Django's SessionInterrupted);
	//   - 500 for [ErrValue] (a value JSON cannot hold) and [ErrTooLarge]
	//     (a session over MaxSize, or a signed cookie over 4096 bytes);
	//   - 503 for anything else: the store failed or its budget
	//     (StoreTimeout) ran out.
	ErrorHandler func(c echo.Context, err error)
	// HTTPErrorHandler is ErrorHandler for [Manager.Handler], the net/http
	// middleware: it writes the response with w. The default logs the
	// error and answers with http.Error and the statuses above.
	HTTPErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives warnings (tampered data) and errors. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for expiry. Default time.Now. Tests inject a fake.
	Now func() time.Time
}

// defaultMaxSize is MaxSize's default: 1 MiB of JSON, far above what a
// session should hold (a session is not a file store) and well within what
// Django and the database read back.
const defaultMaxSize = 1 << 20

// defaultStoreTimeout is StoreTimeout's default: SQLite's 5 s busy
// timeout, plus a margin to answer.
const defaultStoreTimeout = 6 * time.Second

// maxReadSize is the least a load accepts, whatever MaxSize: what earlier
// releases, which had no MaxSize, could read.
const maxReadSize = 8 << 20

// readLimit is the largest decoded payload a load accepts.
func (cfg Config) readLimit() int { return max(cfg.MaxSize, maxReadSize) }

// DefaultConfig returns Django's defaults, spelled out (a zero Config
// means the same). Store and SecretKey must still be set.
func DefaultConfig() Config {
	return Config{
		CookieName:     "sessionid",
		CookieAge:      1209600 * time.Second,
		CookiePath:     "/",
		CookieSameSite: http.SameSiteLaxMode,
		StoreTimeout:   defaultStoreTimeout,
		MaxSize:        defaultMaxSize,
	}
}

// ErrInterrupted reports that the session was deleted by another request
// while this one was using it (for example a logout in another tab); the
// write is refused instead of bringing the session back. It is Django's
// SessionInterrupted.
var ErrInterrupted = errors.New("the request's session was deleted before the request completed. The user may have logged out in a concurrent request, for example")

// ErrValue reports a value that cannot be stored because JSON cannot
// represent it (a channel, a function, NaN), or would lose part of it (a
// struct with unexported fields), or nests deeper than [MaxDepth]. The
// session is then not saved.
var ErrValue = errors.New("session: value cannot be stored as JSON")

// ErrTooLarge reports a session too large to store: over Config.MaxSize,
// or, with SignedCookies, a cookie over 4096 bytes, which browsers drop
// silently. Nothing is written: the stored session keeps its other keys.
var ErrTooLarge = errors.New("session: too large to store")

// withDefaults fills the zero fields that have a non-zero default and
// validates the rest.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Store == nil && !cfg.SignedCookies:
		return cfg, errors.New("session: Config.Store is required (or SignedCookies)")
	case cfg.Store != nil && cfg.SignedCookies:
		return cfg, errors.New("session: Config.Store must be nil with SignedCookies: the cookie is the store")
	}
	if cfg.SecretKey == "" {
		return cfg, errors.New("session: Config.SecretKey is required")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "sessionid"
	}
	if !ValidCookieName(cfg.CookieName) {
		return cfg, fmt.Errorf("session: invalid cookie name %q", cfg.CookieName)
	}
	if cfg.CookieAge == 0 {
		cfg.CookieAge = 1209600 * time.Second
	}
	if cfg.CookieAge < time.Second {
		return cfg, fmt.Errorf("session: CookieAge %v is under one second", cfg.CookieAge)
	}
	if cfg.CookiePath == "" {
		cfg.CookiePath = "/"
	}
	if cfg.CookieSameSite == 0 {
		cfg.CookieSameSite = http.SameSiteLaxMode
	}
	switch cfg.CookieSameSite {
	case http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		return cfg, fmt.Errorf("session: invalid CookieSameSite %d", cfg.CookieSameSite)
	}
	if cfg.CookieSameSite == http.SameSiteNoneMode && !cfg.CookieSecure {
		// Browsers drop such a cookie: nobody would stay logged in.
		return cfg, errors.New("session: CookieSameSite None needs CookieSecure: browsers refuse a SameSite=None cookie without Secure")
	}
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = defaultStoreTimeout
	}
	if cfg.StoreTimeout < 0 {
		return cfg, fmt.Errorf("session: negative StoreTimeout %v", cfg.StoreTimeout)
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = defaultMaxSize
	}
	if cfg.MaxSize < 0 {
		return cfg, fmt.Errorf("session: negative MaxSize %d", cfg.MaxSize)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

// ValidCookieName reports whether name can name a cookie: an RFC 6265
// token (letters, digits and !#$%&'*+-.^_`|~), the rule net/http applies
// when it sends one (http.SetCookie silently drops a cookie whose name
// breaks it).
func ValidCookieName(name string) bool {
	return (&http.Cookie{Name: name}).Valid() == nil
}
