package views

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"
)

// CSRF protection, Django's way: a secret in the csrftoken cookie, echoed
// by every state-changing request in the csrfmiddlewaretoken form field (or
// the X-CSRFToken header). Anything else is refused with 403 before the
// handler runs, so it changes nothing.
//
// Why not Echo's middleware.CSRF: since Echo 4.15 it lets a request with
// Sec-Fetch-Site: same-origin (or none) through without any token, and it
// answers a missing token with 400. The contract says a POST without a
// valid token is a 403, whoever sends it, and that is also what Django
// does. Sec-Fetch-Site is still used, as an extra refusal: a state-changing
// request that a browser marks cross-site or same-site is refused even
// with a valid token. The CSRF cookie is separate from the session: it
// never creates one.
const (
	csrfCookieName = "csrftoken"           // Django's CSRF_COOKIE_NAME
	csrfFormField  = "csrfmiddlewaretoken" // Django's hidden input
	csrfHeaderName = "X-CSRFToken"         // Django's CSRF_HEADER_NAME
	csrfCookieAge  = 31449600              // Django's CSRF_COOKIE_AGE: a year
	csrfTokenBytes = 32
)

// csrfState holds the request's CSRF token, in its context: rotateCSRF
// replaces it, and the page rendered afterwards shows the new one.
type csrfState struct{ token string }

type csrfKey struct{}

// csrf is the CSRF middleware. It gives the request a token (reusing the
// cookie's, or making one and setting the cookie) for the forms of the page,
// and checks it on every method that is not safe.
func (h *Handlers) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		secret := ""
		if ck, err := req.Cookie(csrfCookieName); err == nil && validCSRFToken(ck.Value) {
			secret = ck.Value
		}
		if !safeMethod(req.Method) {
			if err := checkCSRF(req, secret); err != nil {
				return err // the request log line gives the reason
			}
		}
		if secret == "" {
			secret = newCSRFToken()
			c.SetCookie(h.csrfCookie(secret))
		}
		c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), csrfKey{}, &csrfState{token: secret})))
		return next(c)
	}
}

// rotateCSRF gives the request a new CSRF token, as Django's login() does
// with rotate_token(request): the new cookie goes out with the response and
// the forms of a page rendered for this request carry the new token, so a
// token seen before login (planted, or read over the user's shoulder) is
// worthless after it. It is net/http-shaped, as auth.Login wants it.
func (h *Handlers) rotateCSRF(w http.ResponseWriter, r *http.Request) {
	secret := newCSRFToken()
	http.SetCookie(w, h.csrfCookie(secret))
	if st, ok := r.Context().Value(csrfKey{}).(*csrfState); ok {
		st.token = secret
	}
}

// csrfCookie is the cookie that carries the CSRF secret to the browser.
func (h *Handlers) csrfCookie(secret string) *http.Cookie {
	return &http.Cookie{
		Name:     csrfCookieName,
		Value:    secret,
		Path:     "/",
		MaxAge:   csrfCookieAge,
		HttpOnly: true, // no script on this site reads it
		Secure:   h.Sessions.Config().CookieSecure,
		SameSite: http.SameSiteLaxMode,
	}
}

// checkCSRF returns a 403 telling why req is refused, or nil. The reasons
// are Django's.
func checkCSRF(req *http.Request, secret string) *echo.HTTPError {
	switch req.Header.Get(echo.HeaderSecFetchSite) {
	case "cross-site", "same-site":
		return echo.NewHTTPError(http.StatusForbidden, "CSRF verification failed: the request came from another site.")
	}
	if secret == "" {
		return echo.NewHTTPError(http.StatusForbidden, "CSRF verification failed: CSRF cookie not set. Reload the page and submit again.")
	}
	token := req.Header.Get(csrfHeaderName)
	if token == "" {
		token = req.PostFormValue(csrfFormField)
	}
	if token == "" {
		return echo.NewHTTPError(http.StatusForbidden, "CSRF verification failed: CSRF token missing. Reload the page and submit again.")
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(secret)) != 1 {
		return echo.NewHTTPError(http.StatusForbidden, "CSRF verification failed: CSRF token incorrect. Reload the page and submit again.")
	}
	return nil
}

// csrfToken returns the request's CSRF token for the forms of its page, or
// "" when the CSRF middleware did not run.
func csrfToken(c echo.Context) string {
	if st, ok := c.Request().Context().Value(csrfKey{}).(*csrfState); ok {
		return st.token
	}
	return ""
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func newCSRFToken() string {
	b := make([]byte, csrfTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validCSRFToken reports whether s has the shape of a token this site
// makes; any other cookie value is replaced.
func validCSRFToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(csrfTokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == csrfTokenBytes
}
