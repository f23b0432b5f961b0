package messages

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
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
		w.finish()
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
			if err != nil && !w.started {
				c.Error(err) // render the error now, so that its page stores the messages
			}
			w.finish()
			return err
		}
	}
}

// begin gives the request its storage and wraps the response writer.
func (m *Manager) begin(rw http.ResponseWriter, r *http.Request) (*responseWriter, *http.Request) {
	st := &storage{m: m, r: r}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	st.r = r
	return &responseWriter{ResponseWriter: rw, st: st}, r
}

// responseWriter stores the messages when the response starts, whoever
// starts it, before the session middleware's writer saves the session.
type responseWriter struct {
	http.ResponseWriter
	st      *storage
	started bool
}

func (w *responseWriter) start() {
	if w.started {
		return
	}
	w.started = true
	if w.st.update(w.Header()) {
		addVary(w.Header())
	}
}

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: not the response yet
		return
	}
	w.start()
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// finish stores the messages of a handler that wrote nothing.
func (w *responseWriter) finish() { w.start() }

// Flush sends what was written so far, storing the messages first.
func (w *responseWriter) Flush() {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack stores the messages, then hands over the connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.start()
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addVary appends Cookie to Vary unless it is there already: a page that
// read the messages cookie depends on it.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); strings.EqualFold(f, "Cookie") || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}
