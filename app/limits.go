package app

import (
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Defaults of the limits. They fit together as check requires, with the
// store's default wait bound of 6 s: a request is read within 10 s, can
// then wait up to 6 s for the store and is still answered within 20 s,
// and a shutdown waits 25 s (a little under the 30 s most supervisors
// allow before they kill a process), longer than any request can last.
const (
	// DefaultDataUploadMaxMemorySize is Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
	DefaultDataUploadMaxMemorySize = 2621440
	DefaultReadTimeout             = 10 * time.Second
	DefaultWriteTimeout            = 20 * time.Second
	DefaultIdleTimeout             = 120 * time.Second
	DefaultShutdownTimeout         = 25 * time.Second
)

// minUploadSize is the smallest DATA_UPLOAD_MAX_MEMORY_SIZE allowed: the
// site's largest form, the editor's, sends up to about 14 KB (a 4,096-byte
// value and a 100-character key, percent-encoded, and the CSRF token).
const minUploadSize = 16384

// timeoutMargin is the time allowed, beyond the store's wait bound, to
// render and send a response (a 503 when the store gave up).
const timeoutMargin = time.Second

// storeWaitBound is the longest a request waits for the session store
// before it gets a 503: the database's lock timeout (DATABASE_URL's
// ?timeout, 5 s by default), plus a second for the rest of its waits
// (the queue for the writer, the save lock of its session). It is the
// session manager's StoreTimeout.
func (cfg Config) storeWaitBound() time.Duration { return cfg.Database.Timeout + time.Second }

// check refuses settings that are each valid but do not fit together; its
// error is one line naming the settings.
func (cfg Config) check() error {
	if cfg.Session.CookieSameSite == http.SameSiteNoneMode && !cfg.Session.CookieSecure {
		return errors.New("SESSION_COOKIE_SAMESITE=None needs SESSION_COOKIE_SECURE=True: browsers drop a SameSite=None cookie that is not Secure, so no session would last")
	}
	if cfg.CSRF.CookieSameSite == http.SameSiteNoneMode && !cfg.CSRF.CookieSecure && !cfg.CSRF.UseSessions {
		return errors.New("CSRF_COOKIE_SAMESITE=None needs CSRF_COOKIE_SECURE=True: browsers drop a SameSite=None cookie that is not Secure, so no form would be accepted")
	}
	if !cfg.CSRF.UseSessions && cfg.CSRF.CookieName == cfg.Session.CookieName {
		return fmt.Errorf("CSRF_COOKIE_NAME and SESSION_COOKIE_NAME are both %q: one cookie would overwrite the other", cfg.CSRF.CookieName)
	}
	bound := cfg.storeWaitBound()
	if need := cfg.ReadTimeout + bound + timeoutMargin; cfg.WriteTimeout < need {
		return fmt.Errorf("WRITE_TIMEOUT %v is too short: a request may take READ_TIMEOUT (%v) to arrive and then wait %v for the session store, so it needs at least %v to be answered (a 503 when the store is down)",
			cfg.WriteTimeout, cfg.ReadTimeout, bound, need)
	}
	if cfg.ShutdownTimeout <= cfg.WriteTimeout {
		return fmt.Errorf("SHUTDOWN_TIMEOUT %v must be longer than WRITE_TIMEOUT %v, so that the requests in flight at a shutdown can finish",
			cfg.ShutdownTimeout, cfg.WriteTimeout)
	}
	return nil
}

// parseSeconds reads a timeout in seconds; fractions are allowed.
func parseSeconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 24*60*60 {
		return 0, errors.New("want a number of seconds above 0 and at most 86400, such as 30 or 0.5")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseUploadSize reads DATA_UPLOAD_MAX_MEMORY_SIZE.
func parseUploadSize(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < minUploadSize {
		return 0, fmt.Errorf("want a whole number of bytes, at least %d (the site's own forms send up to about 14 KB); the limit cannot be turned off", minUploadSize)
	}
	return n, nil
}

// limitBody bounds the request body to limit bytes, before anything reads
// it: a declared Content-Length over the limit is refused with a 413
// without reading a byte, and any other body is cut at the limit. A form
// body is parsed here, so that its errors get their own status instead of
// showing up later as a missing CSRF token: over the limit a 413, too slow
// to arrive (READ_TIMEOUT) a 408. Parsing forms up front costs nothing
// extra: every form route reads its form, CSRF first.
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return tooLarge(limit, nil)
			}
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			if form := formType(r); form != "" {
				var err error
				if form == echo.MIMEMultipartForm {
					err = r.ParseMultipartForm(limit)
				} else {
					// Not ParseMultipartForm: it returns "not multipart"
					// instead of ParseForm's error.
					err = r.ParseForm()
				}
				var tooBig *http.MaxBytesError
				var ne net.Error
				switch {
				case errors.As(err, &tooBig):
					return tooLarge(limit, err)
				case errors.As(err, &ne) && ne.Timeout():
					return echo.NewHTTPError(http.StatusRequestTimeout, "The request took too long to arrive.").SetInternal(err)
				}
				// Other errors (a malformed form) are left to the handler,
				// which sees what could be parsed, as before.
			}
			return next(c)
		}
	}
}

// tooLarge is the 413 for a body over limit.
func tooLarge(limit int64, err error) *echo.HTTPError {
	he := echo.NewHTTPError(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("The request is too large: this site accepts at most %d bytes.", limit))
	if err != nil {
		he = he.SetInternal(err)
	}
	return he
}

// formType is the media type of r's HTML form body, or "" when it has
// none that net/http parses.
func formType(r *http.Request) string {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return ""
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if ct == echo.MIMEApplicationForm || ct == echo.MIMEMultipartForm {
		return ct
	}
	return ""
}
