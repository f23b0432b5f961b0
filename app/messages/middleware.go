package messages

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/internal/responsehook"
)

// Handler returns next wrapped in the messages middleware, Django's
// MessageMiddleware, for any net/http router: handlers call [Add] and
// [Get] with the request's context, and the messages left for the next
// request are stored (in the cookie, and in the session what does not
// fit) just before the response starts. Put it inside the session
// middleware, whose session it uses and which saves it afterwards.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w, r := m.begin(rw, r)
		next.ServeHTTP(w, r)
		w.Finish()
	})
}

// Middleware is [Manager.Handler] for Echo: register it after (inside)
// the session middleware.
func (m *Manager) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			w, r := m.begin(res.Writer, c.Request())
			c.SetRequest(r)
			res.Writer = w
			err := next(c)
			if err != nil && !w.Started() {
				c.Error(err) // render the error now, so that its page stores the messages
			}
			w.Finish()
			return err
		}
	}
}

// begin gives the request its storage and wraps the response writer,
// which stores the messages when the response starts, whoever starts it,
// before the session middleware's writer saves the session.
func (m *Manager) begin(rw http.ResponseWriter, r *http.Request) (*responsehook.Writer, *http.Request) {
	st := &storage{m: m, r: r}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	st.r = r
	return responsehook.New(rw, func(h http.Header) {
		if st.update(h) {
			responsehook.VaryCookie(h)
		}
	}), r
}
