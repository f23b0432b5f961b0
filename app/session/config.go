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
// Django's SESSION_* settings; start from [DefaultConfig] and change what
// you need, since some defaults (HttpOnly, SameSite=Lax) are not zero values.
type Config struct {
	// Store keeps the session records. Required.
	Store Store

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
	// CookieHTTPOnly adds HttpOnly (SESSION_COOKIE_HTTPONLY). Default true.
	CookieHTTPOnly bool
	// CookieSameSite is the SameSite attribute (SESSION_COOKIE_SAMESITE).
	// Default http.SameSiteLaxMode; http.SameSiteDefaultMode (or 0) leaves
	// the attribute out, like Django's False.
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

	// Skipper, when it returns true, bypasses the middleware for a request:
	// no session is attached. Default: skip nothing.
	Skipper func(c echo.Context) bool
	// ErrorHandler receives every store fault (and an interrupted session)
	// before any byte of the response has been sent, with the response
	// reset; it must write the response with c. Default: log the error and
	// call c.Error with an *echo.HTTPError of status 503 (store fault) or
	// 400 (session deleted by a concurrent request, Django's
	// SessionInterrupted), which Echo's HTTPErrorHandler renders.
	ErrorHandler func(c echo.Context, err error)
	// Logger receives warnings (tampered data) and errors. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for expiry. Default time.Now. Tests inject a fake.
	Now func() time.Time
}

// DefaultConfig returns Django's defaults. Store and SecretKey must still be
// set.
func DefaultConfig() Config {
	return Config{
		CookieName:     "sessionid",
		CookieAge:      1209600 * time.Second,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
	}
}

// ErrInterrupted reports that the session was deleted by another request
// while this one was using it (for example a logout in another tab); the
// write is refused instead of bringing the session back. It is Django's
// SessionInterrupted.
var ErrInterrupted = errors.New("the request's session was deleted before the request completed. The user may have logged out in a concurrent request, for example")

// ErrValue reports a value that cannot be stored because JSON cannot
// represent it (a channel, a function, NaN). The session is then not saved.
var ErrValue = errors.New("session: value cannot be stored as JSON")

// withDefaults fills the zero fields that have a non-zero default and
// validates the rest.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Store == nil {
		return cfg, errors.New("session: Config.Store is required")
	}
	if cfg.SecretKey == "" {
		return cfg, errors.New("session: Config.SecretKey is required")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "sessionid"
	}
	if !validCookieName(cfg.CookieName) {
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
	switch cfg.CookieSameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		return cfg, fmt.Errorf("session: invalid CookieSameSite %d", cfg.CookieSameSite)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg, nil
}

func validCookieName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || string(c) == "=" || string(c) == ";" || string(c) == "," {
			return false
		}
	}
	return name != ""
}
