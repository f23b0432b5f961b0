package session

import (
	"bufio"
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/internal/responsehook"
)

// ctxKey is the request-context key under which the middleware keeps the
// request's sessions. A private type: no other package can collide with it.
type ctxKey struct{}

// entry is one manager's session of a request. When several managers
// wrap one request (two cookies, say), their entries chain, the innermost
// first.
type entry struct {
	m     *Manager
	s     *Session
	outer *entry
}

// FromContext returns the session the innermost session middleware gave
// the request whose context is ctx, or nil when no session middleware ran
// for it. It never panics: use it where a missing session is a condition
// to handle (an error page, a handler mounted both with and without the
// middleware).
func FromContext(ctx context.Context) *Session {
	if e, _ := ctx.Value(ctxKey{}).(*entry); e != nil {
		return e.s
	}
	return nil
}

// FromContext returns the session this manager's middleware gave the
// request whose context is ctx, or nil. With several managers on one
// request, it picks this manager's session where the package-level
// FromContext returns the innermost.
func (m *Manager) FromContext(ctx context.Context) *Session {
	for e, _ := ctx.Value(ctxKey{}).(*entry); e != nil; e = e.outer {
		if e.m == m {
			return e.s
		}
	}
	return nil
}

// From returns the request's session in an Echo handler (the innermost,
// see [FromContext]). It panics when no session middleware ran for the
// route: that is a wiring bug, not a runtime condition. Use FromContext to
// ask without panicking.
func From(c echo.Context) *Session {
	s := FromContext(c.Request().Context())
	if s == nil {
		panic("session: no session for this request: register the session middleware (Manager.Middleware) on this route and do not skip it")
	}
	return s
}

// From returns this manager's session of the request in an Echo handler,
// and panics like the package-level [From] when there is none.
func (m *Manager) From(c echo.Context) *Session {
	s := m.FromContext(c.Request().Context())
	if s == nil {
		panic("session: no session of this manager for this request: register its middleware on this route")
	}
	return s
}

// Middleware returns the Echo middleware that gives every request a
// lazily loaded session (see [From]) and saves it, Django-style, just
// before the first byte of the response:
//
//   - nothing is read from the store unless the handler uses the session;
//   - nothing is written unless the session was modified (or
//     SaveEveryRequest is set); a server error response (5xx) writes nothing;
//   - a session left empty is never stored, and a cookie it came with is
//     deleted;
//   - Vary: Cookie is added whenever the session was used or the cookie set.
//
// The save happens inside the response writer, so it also covers handlers
// that return without writing, write straight to the underlying
// http.ResponseWriter, or stream. A store fault at that point replaces the
// response through Config.ErrorHandler before anything was sent.
//
// It is the same middleware as [Manager.Handler], for Echo: both behave
// identically.
func (m *Manager) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if m.cfg.Skipper != nil && m.cfg.Skipper(c) {
				return next(c)
			}
			res := c.Response()
			w, r := m.begin(res.Writer, c.Request())
			w.fail = func(err error) {
				// Echo's Response has recorded the handler's status: the
				// replacement starts from scratch.
				res.Committed, res.Status, res.Size = false, http.StatusOK, 0
				m.echoError(c, err)
			}
			c.SetRequest(r)
			res.Writer = w

			err := next(c)
			if err != nil && w.state == statePending {
				c.Error(err) // render the error now, so the session sees its status
			}
			w.finish()
			return err
		}
	}
}

// Handler returns next wrapped in the session middleware, for any
// net/http router (http.ServeMux, chi, gorilla): handlers find their
// session with [FromContext](r.Context()). It behaves exactly as
// [Manager.Middleware]; store faults go to Config.HTTPErrorHandler.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w, r := m.begin(rw, r)
		w.fail = func(err error) { m.httpError(w, r, err) }
		next.ServeHTTP(w, r)
		w.finish()
	})
}

// begin gives the request its session: it reads the cookie, puts the
// session in the request's context and wraps the response writer.
func (m *Manager) begin(rw http.ResponseWriter, r *http.Request) (*responseWriter, *http.Request) {
	ctx := r.Context()
	s := &Session{m: m, ctx: ctx}
	if ck, err := r.Cookie(m.cfg.CookieName); err == nil {
		s.hadCookie = true
		if m.validKey(ck.Value) {
			s.key = ck.Value
		}
	}
	outer, _ := ctx.Value(ctxKey{}).(*entry)
	r = r.WithContext(context.WithValue(ctx, ctxKey{}, &entry{m: m, s: s, outer: outer}))
	return &responseWriter{ResponseWriter: rw, s: s}, r
}

// commit applies Django's response rules (SessionMiddleware.process_response)
// for a response with status: save, set or delete the cookie, add Vary.
func (s *Session) commit(h http.Header, status int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.m
	if status >= 500 {
		// Django skips saving on 5xx; here deferred deletes (flush,
		// cycle_key) are skipped too, so the browser's key stays valid.
		if s.accessed {
			responsehook.VaryCookie(h)
		}
		return nil
	}
	if s.err != nil {
		return s.err
	}
	vary := s.accessed
	empty := s.isEmpty()
	refresh := s.refreshDue()
	if !empty && (s.modified || m.cfg.SaveEveryRequest || refresh) {
		if !s.loaded {
			s.load() // SaveEveryRequest on an untouched session
			if s.err != nil {
				return s.err
			}
		}
		err := s.persist(m.cfg.SaveEveryRequest || refresh)
		if err != nil && !(refresh && !s.modified && !m.cfg.SaveEveryRequest && errors.Is(err, ErrInterrupted)) {
			return err
		}
		// A refresh alone that found the session deleted meanwhile (a
		// logout in another tab) is no failure of this request, which
		// changed nothing: the next one finds no session.
		if err != nil {
			s.dirty, s.ops = false, s.ops[:0]
			if vary {
				responsehook.VaryCookie(h)
			}
			return nil
		}
		empty = s.isEmpty()
		if !empty {
			ck, err := s.cookie()
			if err != nil {
				return err
			}
			http.SetCookie(headerWriter(h), ck)
			vary = true
		}
	}
	if empty {
		if s.deleteKey != "" {
			if err := s.persist(false); err != nil {
				return err
			}
		}
		if s.hadCookie {
			http.SetCookie(headerWriter(h), &http.Cookie{
				Name:     m.cfg.CookieName,
				Path:     m.cfg.CookiePath,
				Domain:   m.cfg.CookieDomain,
				MaxAge:   -1,
				Expires:  time.Unix(0, 0),
				SameSite: m.cfg.CookieSameSite,
				Secure:   m.cfg.CookieSameSite == http.SameSiteNoneMode || strings.HasPrefix(m.cfg.CookieName, "__Secure-") || strings.HasPrefix(m.cfg.CookieName, "__Host-"),
			})
			vary = true
		}
	}
	if vary {
		responsehook.VaryCookie(h)
	}
	return nil
}

// refreshDue reports whether the session, used by this request but maybe
// not changed, must be written again to keep the expiry of its timeouts
// current (see Manager.refreshDue); the caller holds s.mu.
func (s *Session) refreshDue() bool {
	m := s.m
	if !m.timeouts() || !s.loaded || s.key == "" || s.err != nil {
		return false
	}
	if m.cookies == nil && s.rowKey == "" {
		return false
	}
	return m.refreshDue(s.data, s.baseExpires, m.cfg.Now())
}

// cookie builds the session cookie; the caller holds s.mu.
func (s *Session) cookie() (*http.Cookie, error) {
	cfg := s.m.cfg
	ck := &http.Cookie{
		Name:     cfg.CookieName,
		Value:    s.key,
		Path:     cfg.CookiePath,
		Domain:   cfg.CookieDomain,
		Secure:   cfg.CookieSecure,
		HttpOnly: !cfg.DisableCookieHTTPOnly,
		SameSite: cfg.CookieSameSite,
	}
	if !s.m.expireAtBrowserClose(s.data) {
		now := cfg.Now()
		age := s.m.expiryAge(s.data, now)
		if s.m.timeouts() {
			// The cookie ends no later than the record (the timeouts).
			age = min(age, int(math.Floor(s.m.recordExpiry(s.data, now).Sub(now).Seconds())))
		}
		ck.MaxAge = age
		if age <= 0 {
			ck.MaxAge = -1 // Max-Age=0: already expired
		}
		ck.Expires = now.Add(time.Duration(age) * time.Second)
	}
	if err := s.m.checkCookie(ck); err != nil {
		return nil, err
	}
	return ck, nil
}

// headerWriter lets http.SetCookie write into a bare header.
type headerWriter http.Header

func (h headerWriter) Header() http.Header       { return http.Header(h) }
func (headerWriter) Write(p []byte) (int, error) { return len(p), nil }
func (headerWriter) WriteHeader(int)             {}

const (
	statePending      = iota // nothing sent; the session is not committed
	stateErrorWriting        // the error hook is writing a replacement response
	stateOpen                // committed; writes pass through
	stateReplaced            // the handler's response was replaced; its writes are dropped
)

// responseWriter commits the session when the response starts, whoever
// starts it.
type responseWriter struct {
	http.ResponseWriter
	s     *Session
	state int
	// fail writes the response that replaces the handler's when the
	// session cannot be committed (through the adapter's error hook).
	fail func(err error)
	// wrote records that the error hook wrote a status.
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	switch w.state {
	case stateReplaced:
		return
	case stateErrorWriting:
		w.wrote = true
		w.ResponseWriter.WriteHeader(code)
		return
	case stateOpen:
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: not the response yet
		return
	}
	if err := w.s.commit(w.Header(), code); err != nil {
		w.replace(err)
		return
	}
	w.state = stateOpen
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.state == statePending {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case stateReplaced:
		return len(p), nil // the handler's body of a response we replaced
	case stateErrorWriting:
		w.wrote = true
	}
	return w.ResponseWriter.Write(p)
}

// finish commits the session of a handler that wrote nothing: net/http
// sends an empty 200 after the handler returns, with whatever headers
// are set now.
func (w *responseWriter) finish() {
	if w.state != statePending {
		return
	}
	if err := w.s.commit(w.Header(), http.StatusOK); err != nil {
		w.replace(err)
		return
	}
	w.state = stateOpen
}

// representationHeaders are the headers that describe the handler's
// response, dropped when it is replaced by an error response. Headers set
// before the handler ran (security headers of an outer middleware, say)
// stay.
var representationHeaders = [...]string{
	"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition",
	"Content-Range", "Content-Language", "ETag", "Last-Modified", "Location",
	"Set-Cookie", "Cache-Control",
}

// replace discards the handler's response, which has not been sent, and
// lets the error hook write one for err instead. The headers that describe
// the handler's response go with it; the others stay on the replacement,
// such as security headers an outer middleware set before the handler ran.
func (w *responseWriter) replace(err error) {
	h := w.Header()
	for _, name := range representationHeaders {
		h.Del(name)
	}
	w.state = stateErrorWriting
	w.fail(err)
	if !w.wrote {
		// The hook wrote nothing: still never send the handler's response.
		w.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
	}
	w.state = stateReplaced
}

// Flush sends what was written so far, committing the session first.
func (w *responseWriter) Flush() {
	if w.state == statePending {
		w.WriteHeader(http.StatusOK)
	}
	if w.state == stateReplaced {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack commits the session, then hands over the connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.state == statePending {
		if err := w.s.commit(w.Header(), http.StatusSwitchingProtocols); err != nil {
			return nil, nil, err
		}
		w.state = stateOpen
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Public messages of the default error hooks. They never carry the
// internal error.
const (
	msgInterrupted = "The request's session was deleted before the request completed. The user may have logged out in a concurrent request, for example."
	msgUnavailable = "The session store is unavailable. Please try again shortly."
	msgInternal    = "Internal Server Error"
)

// classify maps a commit failure to its status ([StatusOf]) and a public
// message, and logs it (an interrupted session at WARN, where the save
// found it: a user's logout, not a fault).
func (m *Manager) classify(r *http.Request, err error) (int, string) {
	switch status := StatusOf(err); status {
	case http.StatusBadRequest:
		return status, msgInterrupted
	case http.StatusInternalServerError:
		m.cfg.Logger.Error("session cannot be stored", "error", err, "method", r.Method, "path", r.URL.Path)
		return status, msgInternal
	default:
		m.cfg.Logger.Error("session store failed", "error", err, "method", r.Method, "path", r.URL.Path)
		return status, msgUnavailable
	}
}

// echoError passes a commit failure to Config.ErrorHandler, or to the
// default: log, then let Echo's HTTPErrorHandler render the status.
func (m *Manager) echoError(c echo.Context, err error) {
	if m.cfg.ErrorHandler != nil {
		m.cfg.ErrorHandler(c, err)
		return
	}
	status, msg := m.classify(c.Request(), err)
	if status == http.StatusInternalServerError {
		c.Error(echo.NewHTTPError(status).SetInternal(err))
		return
	}
	c.Error(echo.NewHTTPError(status, msg).SetInternal(err))
}

// httpError passes a commit failure to Config.HTTPErrorHandler, or to the
// default: log, then a plain-text response with the status.
func (m *Manager) httpError(w http.ResponseWriter, r *http.Request, err error) {
	if m.cfg.HTTPErrorHandler != nil {
		m.cfg.HTTPErrorHandler(w, r, err)
		return
	}
	status, msg := m.classify(r, err)
	http.Error(w, msg, status)
}
