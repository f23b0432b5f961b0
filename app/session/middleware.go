package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// contextKey is where the middleware keeps the request's session in the
// echo.Context. Namespaced so it cannot collide with an application key.
const contextKey = "github.com/djangosessions/gosessions/app/session"

// From returns the request's session. It panics when the session
// middleware did not run for this route: that is a wiring bug, not a
// runtime condition.
func From(c echo.Context) *Session {
	s, _ := c.Get(contextKey).(*Session)
	if s == nil {
		panic("session: no session for this request: register the session middleware (Manager.Middleware) on this route and do not skip it")
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
func (m *Manager) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if m.cfg.Skipper != nil && m.cfg.Skipper(c) {
				return next(c)
			}
			s := &Session{m: m, ctx: c.Request().Context()}
			if ck, err := c.Request().Cookie(m.cfg.CookieName); err == nil {
				s.hadCookie = true
				if ValidKey(ck.Value) {
					s.key = ck.Value
				}
			}
			c.Set(contextKey, s)
			res := c.Response()
			w := &responseWriter{ResponseWriter: res.Writer, s: s, c: c}
			res.Writer = w

			err := next(c)
			if err != nil && w.state == statePending {
				c.Error(err) // render the error now, so the session sees its status
			}
			if w.state == statePending {
				// The handler wrote nothing: net/http will send an empty 200
				// after we return, with whatever headers we add now.
				if cerr := s.commit(w.Header(), http.StatusOK); cerr != nil {
					w.replace(cerr)
				} else {
					w.state = stateOpen
				}
			}
			return err
		}
	}
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
			addVary(h)
		}
		return nil
	}
	if s.err != nil {
		return s.err
	}
	vary := s.accessed
	empty := s.isEmpty()
	if !empty && (s.modified || m.cfg.SaveEveryRequest) {
		if !s.loaded {
			s.load() // SaveEveryRequest on an untouched session
			if s.err != nil {
				return s.err
			}
		}
		if err := s.persist(context.WithoutCancel(s.ctx), m.cfg.SaveEveryRequest); err != nil {
			return err
		}
		empty = s.isEmpty()
		if !empty {
			http.SetCookie(headerWriter(h), s.cookie())
			vary = true
		}
	}
	if empty {
		if s.deleteKey != "" {
			if err := s.persist(context.WithoutCancel(s.ctx), false); err != nil {
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
		addVary(h)
	}
	return nil
}

// cookie builds the session cookie; the caller holds s.mu.
func (s *Session) cookie() *http.Cookie {
	cfg := s.m.cfg
	ck := &http.Cookie{
		Name:     cfg.CookieName,
		Value:    s.key,
		Path:     cfg.CookiePath,
		Domain:   cfg.CookieDomain,
		Secure:   cfg.CookieSecure,
		HttpOnly: cfg.CookieHTTPOnly,
		SameSite: cfg.CookieSameSite,
	}
	if s.m.expireAtBrowserClose(s.data) {
		return ck
	}
	now := cfg.Now()
	age := s.m.expiryAge(s.data, now)
	ck.MaxAge = age
	if age <= 0 {
		ck.MaxAge = -1 // Max-Age=0: already expired
	}
	ck.Expires = now.Add(time.Duration(age) * time.Second)
	return ck
}

// addVary appends Cookie to Vary unless it is there already.
func addVary(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if strings.EqualFold(f, "Cookie") || f == "*" {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
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
	c     echo.Context
	state int
}

func (w *responseWriter) WriteHeader(code int) {
	switch w.state {
	case stateReplaced:
		return
	case stateOpen, stateErrorWriting:
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
	if w.state == stateReplaced {
		return len(p), nil // the handler's body of a response we replaced
	}
	return w.ResponseWriter.Write(p)
}

// replace discards the handler's response, which has not been sent, and
// lets the error hook write one for err instead. The headers that describe
// the handler's response go with it; the others stay on the replacement,
// such as security headers an outer middleware set before the handler ran.
func (w *responseWriter) replace(err error) {
	h := w.Header()
	for _, k := range []string{
		"Content-Type", "Content-Length", "Content-Encoding", "Content-Disposition",
		"Content-Range", "Content-Language", "Etag", "Last-Modified", "Location",
		"Set-Cookie", "Cache-Control",
	} {
		h.Del(k)
	}
	res := w.c.Response()
	res.Committed, res.Status, res.Size = false, http.StatusOK, 0
	w.state = stateErrorWriting
	w.s.m.handleError(w.c, err)
	if !res.Committed {
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

// handleError passes a commit failure to the configured hook, or to the
// default one: log, then let Echo's HTTPErrorHandler render a 400 for an
// interrupted session or a 503 for a store fault.
func (m *Manager) handleError(c echo.Context, err error) {
	if m.cfg.ErrorHandler != nil {
		m.cfg.ErrorHandler(c, err)
		return
	}
	if errors.Is(err, ErrInterrupted) {
		c.Error(echo.NewHTTPError(http.StatusBadRequest, "The request's session was deleted before the request completed. The user may have logged out in a concurrent request, for example.").SetInternal(err))
		return
	}
	if errors.Is(err, ErrValue) {
		m.cfg.Logger.Error("session value cannot be stored", "error", err, "method", c.Request().Method, "path", c.Request().URL.Path)
		c.Error(echo.NewHTTPError(http.StatusInternalServerError).SetInternal(err))
		return
	}
	m.cfg.Logger.Error("session store failed", "error", err, "method", c.Request().Method, "path", c.Request().URL.Path)
	c.Error(echo.NewHTTPError(http.StatusServiceUnavailable, "The session store is unavailable. Please try again shortly.").SetInternal(err))
}
