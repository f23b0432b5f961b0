package views

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/templates"
	"github.com/labstack/echo/v4"
)

// Messages of the server-side error pages. They are fixed: no internal
// error text ever reaches the browser.
const (
	msgUnavailable = "The session store is unavailable right now, so this page cannot be shown. Please try again in a moment."
	msgInternal    = "Something went wrong on our side. It has been logged; please try again."
	msgBusy        = "Too many sign-ins are being checked right now. Please try again in a moment."
)

// saveError turns an error of Session.Save or a session load into an HTTP
// error of the status session.StatusOf gives, as the session middleware
// does: a session deleted by a concurrent request (Django's
// SessionInterrupted) is a 400; a value JSON cannot hold or a session too
// large to store is a 500; anything else is the store failing, a 503.
func saveError(err error) error {
	switch status := session.StatusOf(err); status {
	case http.StatusBadRequest:
		return echo.NewHTTPError(status, "Your session was ended by another request (a logout in another tab, for example) before this one completed.").SetInternal(err)
	case http.StatusServiceUnavailable:
		return echo.NewHTTPError(status, msgUnavailable).SetInternal(err)
	default:
		return echo.NewHTTPError(status).SetInternal(err)
	}
}

// SessionError is the session manager's Config.ErrorHandler for the site:
// a session that could not be loaded or saved when the response started
// gets the same page as one a handler reports through saveError (400
// when a concurrent request deleted it, 500 when it cannot be stored, 503
// when the store failed). It logs nothing: the request log line gives the
// cause, once.
func (h *Handlers) SessionError(c echo.Context, err error) {
	c.Error(saveError(err))
}

// ErrorHandler is the site's echo.HTTPErrorHandler: 404, 400/403, 413, 503
// (store down) and 500 pages in the site layout. It never shows stack
// traces or internal error text, and does nothing if the response is
// already committed. It does not log: the error it is given is the
// request's, which the request log line reports (with its internal cause).
//
// For 4xx pages the header still greets the user: the session comes from
// the session middleware when it ran, or is opened read-only from the
// cookie (a 404). 5xx pages do not read the session, which may be the
// thing that failed.
func (h *Handlers) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, message := describe(err, c)
	// The page is rendered even when the request's context is cancelled (a
	// client gone, a body cut off by the read timeout): it is small, and a
	// failed render would be one more log line for the same request.
	req := c.Request()
	if req.Context().Err() != nil {
		req = req.WithContext(context.WithoutCancel(req.Context()))
		c.SetRequest(req)
	}
	// A HEAD gets the same page, so the same headers; net/http drops the
	// body.
	if strings.HasPrefix(req.URL.Path, "/api/") {
		_ = c.JSON(status, map[string]string{"error": message})
		return
	}
	var s *session.Session
	if status < 500 {
		s = requestSession(c)
		if s == nil && h.Sessions != nil {
			var key string
			if ck, err := req.Cookie(h.Sessions.Config().CookieName); err == nil {
				key = ck.Value
			}
			s = h.Sessions.Open(req.Context(), key) // read only: never saved
		}
	}
	e := templates.ErrorView{Status: status, Title: errorTitle(status), Message: message}
	p := pageOf(s, e.Title, pagePath(c), csrfToken(c))
	if rerr := render(c, status, templates.ErrorPage(p, e)); rerr != nil {
		h.log().Warn("render error page", "status", status, "error", rerr)
		if !c.Response().Committed {
			_ = c.String(status, e.Title+": "+message)
		}
	}
}

// describe maps err to a status and a message fit for the visitor.
func describe(err error, c echo.Context) (int, string) {
	req := c.Request()
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return http.StatusInternalServerError, msgInternal
	}
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	switch {
	case status == http.StatusServiceUnavailable && he.Message == msgBusy:
		return status, msgBusy
	case status == http.StatusServiceUnavailable:
		return status, msgUnavailable
	case status >= 500:
		return status, msgInternal
	case status == http.StatusNotFound:
		return status, fmt.Sprintf("There is no page at %s. The home page links every demo.", truncate(req.URL.Path, 80))
	case status == http.StatusMethodNotAllowed:
		return status, fmt.Sprintf("%s does not accept %s requests.", truncate(req.URL.Path, 80), req.Method)
	}
	if msg, ok := he.Message.(string); ok && msg != "" && msg != http.StatusText(status) {
		return status, msg
	}
	return status, defaultMessage(status)
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusBadRequest:
		return "Bad request"
	case http.StatusRequestEntityTooLarge:
		return "Request too large"
	case http.StatusServiceUnavailable:
		return "Service unavailable"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "The request could not be understood."
	case http.StatusForbidden:
		return "You are not allowed to do that."
	case http.StatusRequestEntityTooLarge:
		return "The request is too large."
	}
	return http.StatusText(status) + "."
}
