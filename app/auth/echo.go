package auth

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Echo adapters. The core of the package is net/http: an Echo handler
// passes c.Request() and c.Response() to [Auth.User], [Auth.Login],
// [Auth.Logout] and [Auth.RedirectAfterLogin]. Only the middlewares
// need an Echo form, since Echo chains middleware of its own type and
// renders errors through its HTTPErrorHandler.

// Middleware is [Auth.Handler] for Echo: request.user loaded at most once
// per request. Register it after the session middleware.
func (a *Auth) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetRequest(withUserSlot(c.Request()))
			return next(c)
		}
	}
}

// EchoLoginRequired is [Auth.LoginRequired] for Echo: a logged-in visitor
// reaches next, an anonymous one is redirected (302) to the login page,
// and a database fault is an *echo.HTTPError 503 (the cause as its
// Internal), rendered by the site's error handler.
func (a *Auth) EchoLoginRequired(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, to, err := a.requireLogin(c.Request())
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
		}
		if to != "" {
			return c.Redirect(http.StatusFound, to)
		}
		c.SetRequest(r)
		return next(c)
	}
}

// EchoLoginRequiredByDefault is [Auth.LoginRequiredByDefault] for Echo:
// every route it is registered on needs a logged-in visitor, except the
// pages of exempt (matched against the route's path, c.Path(), and the
// request's path) and the login page. An anonymous visitor is redirected
// (302) to the login page, and a database fault is an *echo.HTTPError
// 503, as with EchoLoginRequired.
func (a *Auth) EchoLoginRequiredByDefault(exempt Exempt) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		login := a.EchoLoginRequired(next)
		return func(c echo.Context) error {
			if a.exempt(exempt, c.Path()) || a.exempt(exempt, c.Request().URL.Path) {
				return next(c)
			}
			return login(c)
		}
	}
}
