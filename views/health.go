package views

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// DefaultReadyTimeout bounds a readiness check: load balancers and
// Kubernetes wait a second or a few for a probe.
const DefaultReadyTimeout = time.Second

// Health serves the endpoints of process managers and load balancers,
// GET and HEAD, as plain text:
//
//   - /healthz: 200 "ok" whenever the process serves requests (liveness);
//   - /readyz: 200 "ready" when Ready says the site can serve, else 503
//     with Ready's one-line reason, such as "draining" after SIGTERM
//     (readiness).
//
// Neither touches a session: no session middleware, no cookie, nothing
// read from or written to the session store.
type Health struct {
	// Ready reports whether the site can serve: nil, or an error whose
	// message is a short reason fit for anyone to read (the body of the
	// 503). Required.
	Ready func(ctx context.Context) error
	// Timeout bounds Ready; past it /readyz answers 503. Default
	// DefaultReadyTimeout.
	Timeout time.Duration
}

// Register adds /healthz and /readyz to e.
func (hl Health) Register(e *echo.Echo) {
	timeout := hl.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	methods := []string{http.MethodGet, http.MethodHead}
	e.Match(methods, "/healthz", func(c echo.Context) error {
		return plain(c, http.StatusOK, "ok")
	})
	e.Match(methods, "/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), timeout)
		defer cancel()
		err := hl.Ready(ctx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			reason, _, _ := strings.Cut(err.Error(), "\n")
			return plain(c, http.StatusServiceUnavailable, reason)
		}
		return plain(c, http.StatusOK, "ready")
	})
}

// plain answers with one line of text that no cache keeps.
func plain(c echo.Context, status int, line string) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.String(status, line+"\n")
}
