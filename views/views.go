// Package views holds the demo site's Echo handlers, Django's "views": each
// one reads or changes the request's session and renders a templ component
// from package templates.
package views

import (
	"log/slog"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/labstack/echo/v4"
)

// Handlers holds the dependencies of the site's handlers.
type Handlers struct {
	// Sessions is the session manager: its middleware wraps the routes that
	// use the session, and Open reads a session without the middleware.
	Sessions *session.Manager
	// Log receives internal errors; nil means slog.Default().
	Log *slog.Logger
}

// Register adds every route of the site to e. It applies the session
// middleware to the routes that use the session (not to /api/session, which
// must not create or touch a session) and CSRF protection to every
// state-changing form.
func (h *Handlers) Register(e *echo.Echo) error {
	return nil
}
