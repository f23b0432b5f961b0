package csrf

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Middleware is [Guard.Handler] for Echo: the same checks, state and
// cookie. A refused request gets an *echo.HTTPError 403 whose message is
// "CSRF verification failed. Request aborted. " and Django's reason,
// rendered by the site's HTTPErrorHandler (Config.Failure is not used);
// UseSessions without a session middleware before it is a 500. Echo
// handlers call [Token](c.Request()) and [Rotate](c.Response(),
// c.Request()).
func (g *Guard) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			w, r, reason, err := g.begin(res.Writer, c.Request())
			if err != nil {
				return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(err)
			}
			if reason != "" {
				// A cookie replaced in process_request still goes out
				// with the refusal, as in Django.
				w.Finish()
				return echo.NewHTTPError(http.StatusForbidden, FailureMessage(reason)).SetInternal(&Rejection{Reason: reason})
			}
			c.SetRequest(r)
			res.Writer = w
			err = next(c)
			if err != nil && !res.Committed {
				c.Error(err) // render the error now, so that its page commits the secret
			}
			w.Finish()
			return err
		}
	}
}

// FailureMessage is the message of a refusal for reason, as Django's
// failure page puts it.
func FailureMessage(reason string) string {
	return "CSRF verification failed. Request aborted. " + reason
}

// Rejection is the internal error of a refused request: its reason.
type Rejection struct {
	Reason string
}

func (e *Rejection) Error() string { return "csrf: refused: " + e.Reason }
