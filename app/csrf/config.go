package csrf

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// Config holds the settings of a [Guard]: Django's CSRF_* settings, with
// their names and defaults. A zero Config is Django's defaults
// ([DefaultConfig] spells them out); turning one off is explicit
// ([BrowserSession], http.SameSiteDefaultMode).
type Config struct {
	// CookieName is CSRF_COOKIE_NAME. Default "csrftoken". It must differ
	// from the session cookie's name.
	CookieName string
	// CookieAge is CSRF_COOKIE_AGE, in whole seconds. Default (0)
	// 31449600 s (52 weeks); [BrowserSession] is Django's None: a cookie
	// that ends when the browser closes.
	CookieAge time.Duration
	// CookieDomain is CSRF_COOKIE_DOMAIN. Default none: a host-only
	// cookie.
	CookieDomain string
	// CookiePath is CSRF_COOKIE_PATH. Default "/".
	CookiePath string
	// CookieSecure is CSRF_COOKIE_SECURE. Default false.
	CookieSecure bool
	// CookieHTTPOnly is CSRF_COOKIE_HTTPONLY. Default false, as in Django:
	// a page's script may read the cookie to send X-CSRFToken.
	CookieHTTPOnly bool
	// CookieSameSite is CSRF_COOKIE_SAMESITE. Default (0)
	// http.SameSiteLaxMode; http.SameSiteDefaultMode leaves the attribute
	// out (Django's False); http.SameSiteNoneMode needs CookieSecure.
	CookieSameSite http.SameSite
	// CookieMasked keeps the secret masked where it is stored, in the
	// cookie or the session (a TokenLength value, a new mask each time it
	// is made), as Django before 4.1 does, and Django 4.1 and 4.2 with
	// CSRF_COOKIE_MASKED = True. Default false: the secret itself, as
	// Django 4.1 and later. Both forms are read whatever it says; it only
	// decides what is written, which Django 3.2's CSRF_USE_SESSIONS
	// needs masked.
	CookieMasked bool
	// HeaderName is the request header that may carry the token instead
	// of the form field, CSRF_HEADER_NAME. Default "X-CSRFToken" (Django's
	// "HTTP_X_CSRFTOKEN"; [ParseHeaderName] reads either spelling).
	HeaderName string
	// TrustedOrigins is CSRF_TRUSTED_ORIGINS: origins, besides the
	// request's own, whose unsafe requests are accepted, each
	// "scheme://host[:port]", a host may start with "*." for its
	// subdomains ("https://*.example.com"). Default none.
	TrustedOrigins []string
	// UseSessions is CSRF_USE_SESSIONS: the secret is kept in the
	// request's session under SessionKey ("_csrftoken") instead of a
	// cookie. The session middleware must run before the Guard. A session
	// is only created when a page asks for a token.
	UseSessions bool
	// SessionCookieDomain is SESSION_COOKIE_DOMAIN, which Django's Referer
	// check accepts instead of CookieDomain with UseSessions. Default none.
	SessionCookieDomain string

	// IsSecure reports whether a request came over HTTPS, Django's
	// request.is_secure(): such a request without an Origin header must
	// carry a Referer of a trusted origin. Default: the connection is TLS.
	IsSecure func(*http.Request) bool
	// Failure writes the response to a refused request, Django's
	// CSRF_FAILURE_VIEW, in the net/http middleware ([Guard.Handler]).
	// Default: 403 with a short text naming reason. The Echo middleware
	// returns an *echo.HTTPError 403 instead.
	Failure func(w http.ResponseWriter, r *http.Request, reason string)
}

// BrowserSession is the CookieAge of Django's CSRF_COOKIE_AGE = None: the
// cookie has no Max-Age and ends when the browser closes.
const BrowserSession time.Duration = -1

// defaultCookieAge is Django's CSRF_COOKIE_AGE, 52 weeks.
const defaultCookieAge = 31449600 * time.Second

// DefaultConfig returns Django's defaults, which a zero Config also gets.
func DefaultConfig() Config {
	return Config{
		CookieName:     "csrftoken",
		CookieAge:      defaultCookieAge,
		CookiePath:     "/",
		CookieSameSite: http.SameSiteLaxMode,
		HeaderName:     "X-CSRFToken",
	}
}

// withDefaults fills the zero fields that have a non-zero default and
// validates the rest.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.CookieName == "" {
		cfg.CookieName = "csrftoken"
	}
	if !session.ValidCookieName(cfg.CookieName) {
		return cfg, fmt.Errorf("csrf: invalid cookie name %q", cfg.CookieName)
	}
	if cfg.CookieAge == 0 {
		cfg.CookieAge = defaultCookieAge
	}
	if cfg.CookieAge != BrowserSession && (cfg.CookieAge < time.Second || cfg.CookieAge%time.Second != 0) {
		return cfg, fmt.Errorf("csrf: CookieAge %v is not a whole number of seconds (or BrowserSession)", cfg.CookieAge)
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
		return cfg, fmt.Errorf("csrf: invalid CookieSameSite %d", cfg.CookieSameSite)
	}
	if cfg.CookieSameSite == http.SameSiteNoneMode && !cfg.CookieSecure && !cfg.UseSessions {
		return cfg, errors.New("csrf: CookieSameSite None needs CookieSecure: browsers refuse a SameSite=None cookie without Secure")
	}
	if cfg.HeaderName == "" {
		cfg.HeaderName = "X-CSRFToken"
	}
	name, err := ParseHeaderName(cfg.HeaderName)
	if err != nil {
		return cfg, fmt.Errorf("csrf: HeaderName: %w", err)
	}
	cfg.HeaderName = name
	for _, o := range cfg.TrustedOrigins {
		if err := checkOrigin(o); err != nil {
			return cfg, fmt.Errorf("csrf: TrustedOrigins: %w", err)
		}
	}
	if cfg.IsSecure == nil {
		cfg.IsSecure = func(r *http.Request) bool { return r.TLS != nil }
	}
	if cfg.Failure == nil {
		cfg.Failure = defaultFailure
	}
	return cfg, nil
}

// ParseHeaderName reads CSRF_HEADER_NAME in either spelling: Django's
// META key ("HTTP_X_CSRFTOKEN": HTTP_, then the name with "_" for "-") or
// the header as sent ("X-CSRFToken"). It returns the header's name.
func ParseHeaderName(v string) (string, error) {
	v = strings.TrimSpace(v)
	if meta, ok := strings.CutPrefix(v, "HTTP_"); ok {
		v = strings.ReplaceAll(meta, "_", "-")
	}
	if v == "" {
		return "", errors.New("want a header name such as X-CSRFToken (or Django's HTTP_X_CSRFTOKEN)")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", errors.New("want a header name such as X-CSRFToken (or Django's HTTP_X_CSRFTOKEN)")
		}
	}
	return v, nil
}

// ParseTrustedOrigins reads CSRF_TRUSTED_ORIGINS written as one string:
// origins separated by commas or spaces. Each must start with a scheme,
// as Django 4.0 and later require (its check 4_0.E001).
func ParseTrustedOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// checkOrigin accepts what Django accepts in CSRF_TRUSTED_ORIGINS: a
// scheme, "://" and a host (optionally "*."-prefixed, with a port).
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || !strings.Contains(o, "://") || u.Host == "" {
		return fmt.Errorf("%q: each trusted origin starts with a scheme and names a host, such as https://example.com or https://*.example.com", o)
	}
	if strings.ContainsAny(o, " ,;\t\r\n") {
		return fmt.Errorf("%q: not an origin", o)
	}
	return nil
}

// defaultFailure is Django's csrf_failure view, without its template: a
// 403 whose text says why.
func defaultFailure(w http.ResponseWriter, _ *http.Request, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_, _ = fmt.Fprintf(w, "Forbidden (403)\nCSRF verification failed. Request aborted.\n\n%s\n", reason)
}
