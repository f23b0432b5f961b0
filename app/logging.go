package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// The request log has one line per request, and it is the only line a
// failed request writes: the error pages and the session's error hook log
// nothing themselves, they leave the cause where the request line finds it
// (recordFailure). A 5xx is logged at ERROR with its cause, so one failed
// request is one ERROR line; during a store outage, identical failures
// within failureWindow are folded into one line with their count.

// failureWindow is how long identical store failures are counted instead
// of logged.
const failureWindow = 10 * time.Second

// maxLogPath bounds the path in a log line: a 1 MB URL must not make a
// 1 MB line.
const maxLogPath = 1024

// failureKey is where recordFailure keeps the error behind a request's
// error page.
const failureKey = "github.com/djangosessions/gosessions/app.failure"

// recordFailure wraps the site's error handler: the error it is given,
// whoever gives it (a handler's return, the session's error hook, a
// panic), is kept for the request log line.
func recordFailure(h echo.HTTPErrorHandler) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Get(failureKey) == nil {
			c.Set(failureKey, err)
		}
		h(err, c)
	}
}

// failure returns the internal cause of the request's error page, or nil.
func failure(c echo.Context) error {
	err, _ := c.Get(failureKey).(error)
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Internal != nil {
		return he.Internal
	}
	return err
}

// requestLogger logs one line per request: method, path (its first KB),
// status, latency, sizes, client address and, for errors, the cause. Not
// the query string, cookies or headers: the session key (a bearer
// credential) must never reach a log. Store failures (503) with the same
// root cause are logged once per window, then counted (see logDedup).
func requestLogger(log *slog.Logger, failures *logDedup) (echo.MiddlewareFunc, error) {
	mw, err := middleware.RequestLoggerConfig{
		HandleError:     true, // render errors first, so the status logged is the one sent
		LogMethod:       true,
		LogURIPath:      true,
		LogStatus:       true,
		LogLatency:      true,
		LogRemoteIP:     true,
		LogResponseSize: true,
		LogError:        true,
		BeforeNextFunc: func(c echo.Context) {
			// In debug mode, also a line when a request starts, to see the
			// requests in flight (a slow one, or one a shutdown waits for).
			r := c.Request()
			if log.Enabled(r.Context(), slog.LevelDebug) {
				log.LogAttrs(r.Context(), slog.LevelDebug, "request started", slog.String("method", r.Method), slog.String("path", logPath(r.URL.Path)))
			}
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			ctx := context.WithoutCancel(c.Request().Context())
			failures.flushEnded(ctx)
			level := slog.LevelInfo
			switch {
			case c.Path() == "/healthz" || c.Path() == "/readyz":
				level = slog.LevelDebug // a probe every few seconds; a failing one logs its reason
			case v.Status >= 500:
				level = slog.LevelError
			case v.Status >= 400:
				level = slog.LevelWarn
			}
			attrs := make([]slog.Attr, 0, 9)
			attrs = append(attrs,
				slog.String("method", v.Method),
				slog.String("path", logPath(v.URIPath)),
			)
			if len(v.URIPath) > maxLogPath {
				attrs = append(attrs, slog.Int("path_bytes", len(v.URIPath)))
			}
			attrs = append(attrs,
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency.Round(time.Microsecond)),
				slog.Int64("bytes_out", v.ResponseSize),
				slog.String("remote_ip", v.RemoteIP),
			)
			cause := failure(c)
			if cause == nil {
				cause = v.Error
			}
			if cause != nil {
				attrs = append(attrs, slog.String("error", cause.Error()))
				var pe *panicError
				if errors.As(cause, &pe) {
					attrs = append(attrs, slog.String("stack", string(pe.stack)))
				}
			}
			if v.Status == http.StatusServiceUnavailable && cause != nil {
				key := strconv.Itoa(v.Status) + " " + rootCause(cause).Error()
				if !failures.first(ctx, key, slog.Int("status", v.Status), slog.String("error", cause.Error())) {
					return nil // counted; logged with the others when the window ends
				}
			}
			log.LogAttrs(ctx, level, "request", attrs...)
			return nil
		},
	}.ToMiddleware()
	if err != nil {
		return nil, fmt.Errorf("app: request logger: %w", err)
	}
	return mw, nil
}

// panicError is a handler's panic, with its stack for the log.
type panicError struct {
	err   error
	stack []byte
}

func (e *panicError) Error() string { return "panic in handler: " + e.err.Error() }
func (e *panicError) Unwrap() error { return e.err }

// recoverer turns a handler's panic into a 500 rendered by the error
// handler; the panic value and stack go to the request's log line only,
// never to the client.
func recoverer() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			return echo.NewHTTPError(http.StatusInternalServerError).SetInternal(&panicError{err: err, stack: stack})
		},
	})
}

// logPath is p cut to its first maxLogPath bytes (at a character
// boundary), marked with "…" when cut.
func logPath(p string) string {
	if len(p) <= maxLogPath {
		return p
	}
	i := maxLogPath
	for i > 0 && !utf8.RuneStart(p[i]) {
		i--
	}
	return p[:i] + "…"
}

// rootCause is the innermost error that err wraps: the part of a store
// error that identical failures share ("database is locked"), without the
// session it happened to.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// logDedup folds repeated log lines. The first line of a key is logged;
// the next ones within the window are only counted, and when the window
// has ended one line gives their count, with the first line's attributes.
// Ended windows are summarized when the next request is logged (a site
// with no requests has nothing new to say) and by close, at shutdown. It
// needs no goroutine or timer, and costs one atomic load per request when
// nothing is being folded.
type logDedup struct {
	log    *slog.Logger
	window time.Duration
	now    func() time.Time

	open atomic.Int64 // len(keys), read without the lock
	mu   sync.Mutex
	keys map[string]*dedupWindow
}

// dedupWindow is one key's window: when it began, what its summary says
// and how many lines were folded since.
type dedupWindow struct {
	start  time.Time
	attrs  []slog.Attr
	folded int
}

func newLogDedup(log *slog.Logger, window time.Duration, now func() time.Time) *logDedup {
	return &logDedup{log: log, window: window, now: now, keys: map[string]*dedupWindow{}}
}

// first reports whether a line with key is the first of its window, to be
// logged in full; otherwise it is counted. attrs describe the line in the
// summary of the window.
func (d *logDedup) first(ctx context.Context, key string, attrs ...slog.Attr) bool {
	now := d.now()
	d.mu.Lock()
	w, ok := d.keys[key]
	if ok && now.Sub(w.start) < d.window {
		w.folded++
		d.mu.Unlock()
		return false
	}
	var ended *dedupWindow
	if ok {
		ended = w
	}
	d.keys[key] = &dedupWindow{start: now, attrs: attrs}
	d.open.Store(int64(len(d.keys)))
	d.mu.Unlock()
	d.summarize(ctx, ended)
	return true
}

// flushEnded summarizes the windows that have ended.
func (d *logDedup) flushEnded(ctx context.Context) {
	if d.open.Load() == 0 {
		return
	}
	d.flush(ctx, false)
}

// close summarizes every window, ended or not: at shutdown, so that no
// count is lost.
func (d *logDedup) close() { d.flush(context.Background(), true) }

func (d *logDedup) flush(ctx context.Context, all bool) {
	now := d.now()
	var ended []*dedupWindow
	d.mu.Lock()
	for k, w := range d.keys {
		if all || now.Sub(w.start) >= d.window {
			ended = append(ended, w)
			delete(d.keys, k)
		}
	}
	d.open.Store(int64(len(d.keys)))
	d.mu.Unlock()
	for _, w := range ended {
		d.summarize(ctx, w)
	}
}

// summarize logs the count of the lines folded in w, if any.
func (d *logDedup) summarize(ctx context.Context, w *dedupWindow) {
	if w == nil || w.folded == 0 {
		return
	}
	attrs := append(w.attrs[:len(w.attrs):len(w.attrs)],
		slog.Int("count", w.folded),
		slog.String("since", w.start.UTC().Format(time.RFC3339)),
	)
	d.log.LogAttrs(ctx, slog.LevelError, "more requests failed the same way", attrs...)
}
