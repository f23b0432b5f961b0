package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/app/session"
)

// metrics is the site's Prometheus instrumentation (METRICS,
// METRICS_ADDR). Each site has a registry of its own, never the global
// one, so that two sites in one process (tests) count apart.
//
// It pulls: the request middleware is the only code on the request path;
// the session and store counters are read from their Stats methods when
// Prometheus scrapes, and the live-session count is refreshed at a scrape
// at most once a minute.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // method, route, code
	latency  *prometheus.HistogramVec // method, route
	batches  prometheus.Histogram     // group-commit transaction sizes

	// logins, logouts and loginFailures count the auth hooks' calls.
	logins, logouts, loginFailures prometheus.Counter

	// routes are the route templates registered on the site, read once
	// at the first request: any other path is "unmatched".
	routes func() map[string]bool

	// series caches the children of requests and latency by label
	// values, so that a request costs a map lookup and no allocation
	// (WithLabelValues hashes and allocates on every call).
	mu     sync.RWMutex
	series map[seriesKey]series
}

type seriesKey struct {
	method, route string
	code          int
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// unmatched is the route label of a request no route matched (a 404):
// the path itself is the client's to choose, so it is never a label.
const unmatched = "unmatched"

// newMetrics returns the instrumentation of a site; attach wires it.
func newMetrics() *metrics {
	mx := &metrics{
		reg:    prometheus.NewRegistry(),
		series: map[seriesKey]series{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gosessions_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gosessions_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, session load and save included, by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gosessions_store_batch_size",
			Help:    "Session writes per database transaction of the group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9), // 1 to 256, the largest group
		}),
	}
	mx.logins = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gosessions_auth_logins_total",
		Help: "Logins (Django's user_logged_in).",
	})
	mx.logouts = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gosessions_auth_logouts_total",
		Help: "Logouts of a logged-in user (Django's user_logged_out).",
	})
	mx.loginFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gosessions_auth_login_failures_total",
		Help: "Logins refused for their credentials (Django's user_login_failed).",
	})
	mx.reg.MustRegister(mx.logins, mx.logouts, mx.loginFailures)
	mx.reg.MustRegister(mx.requests, mx.latency, mx.batches,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return mx
}

// attach instruments site e, whose sessions and store it reports, and
// serves /metrics on it, or with METRICS_ADDR returns the handler to serve
// on a listener of its own.
func (mx *metrics) attach(e *echo.Echo, cfg Config, sessions *session.Manager, eng engineStats, log *slog.Logger) http.Handler {
	mx.routes = sync.OnceValue(func() map[string]bool {
		known := map[string]bool{}
		for _, r := range e.Routes() {
			known[r.Path] = true
		}
		return known
	})
	e.Pre(mx.middleware)
	mx.reg.MustRegister(&sessionCollector{sessions: sessions, engine: eng, log: log})
	if cfg.MetricsAddr != "" {
		return mx.handler(log)
	}
	e.GET("/metrics", echo.WrapHandler(mx.handler(log)))
	e.GET("/metrics/", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/metrics") })
	return nil
}

// observeBatch is the store's dbstore.WithBatchObserver.
func (mx *metrics) observeBatch(n int) { mx.batches.Observe(float64(n)) }

// handler serves the registry in Prometheus's text format.
func (mx *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(mx.reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		// A collector's failure leaves its metrics out, not the others.
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       30 * time.Second,
	})
}

// middleware counts each request and its latency, under labels no client
// chooses: the method from a fixed set, Echo's route template (or
// "unmatched"), the status code the site sent. It is a pre-middleware,
// outside routing and every other middleware, so that the latency is the
// whole request's and an error is rendered before its status is read.
func (mx *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil && !c.Response().Committed {
			c.Error(err) // Echo would render it after us; render it now, to count its status
		}
		route := c.Path()
		if !mx.routes()[route] {
			route = unmatched
		}
		m := mx.seriesOf(seriesKey{methodLabel(c.Request().Method), route, c.Response().Status})
		m.requests.Inc()
		m.latency.Observe(time.Since(start).Seconds())
		return err
	}
}

// seriesOf returns the metrics of requests labelled k. Their number is
// bounded: routes × methods × the status codes the site sends.
func (mx *metrics) seriesOf(k seriesKey) series {
	mx.mu.RLock()
	m, ok := mx.series[k]
	mx.mu.RUnlock()
	if ok {
		return m
	}
	mx.mu.Lock()
	defer mx.mu.Unlock()
	if m, ok := mx.series[k]; ok {
		return m
	}
	m = series{
		requests: mx.requests.WithLabelValues(k.method, k.route, strconv.Itoa(k.code)),
		latency:  mx.latency.WithLabelValues(k.method, k.route),
	}
	mx.series[k] = m
	return m
}

// methodLabel is the method, or "other" for one outside HTTP's own set
// (a client may send any token).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// liveRefresh is how old a count of the database (the live sessions, the
// per-user index's entries) may get before a scrape counts again.
const liveRefresh = time.Minute

// errNoCount is what a count returns when there is nothing to count (an
// engine that cannot count its sessions): the figure is not reported.
var errNoCount = errors.New("nothing to count")

// minuteCount is a figure counted at most once per liveRefresh (a COUNT
// over a table), also while counting fails: meanwhile it answers with the
// last count. A caller that finds another one counting does not wait: it
// gets the last count too.
type minuteCount[T any] struct {
	counting sync.Mutex // held by the caller that counts
	mu       sync.Mutex // guards the fields below
	last     T
	counted  time.Time // when last was counted; zero: never
	tried    time.Time // the last attempt, failed or not
}

// get returns the figure, counting it again with count when the last
// attempt is liveRefresh old; ok is false until a count has succeeded,
// and after count returned errNoCount. count logs its own failures.
func (c *minuteCount[T]) get(now time.Time, count func() (T, error)) (v T, ok bool) {
	last := func() (T, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last, !c.counted.IsZero()
	}
	c.mu.Lock()
	recent := !c.tried.IsZero() && now.Sub(c.tried) < liveRefresh
	c.mu.Unlock()
	if recent || !c.counting.TryLock() {
		return last()
	}
	defer c.counting.Unlock()
	c.mu.Lock()
	c.tried = now
	c.mu.Unlock()
	n, err := count()
	if errors.Is(err, errNoCount) {
		var zero T
		return zero, false
	}
	if err != nil {
		return last()
	}
	c.mu.Lock()
	c.last, c.counted = n, now
	c.mu.Unlock()
	return n, true
}

// engineStats is what the collector reads of the session engine
// (engine.Stack): the figures of its layers, and its live sessions.
type engineStats interface {
	Stats() engine.Stats
	LiveSessions(ctx context.Context, now time.Time) (n int64, ok bool, err error)
}

// sessionCollector reads the session manager's and the engine's counters
// at each scrape, and counts the live sessions at most once a minute.
type sessionCollector struct {
	sessions *session.Manager
	engine   engineStats
	log      *slog.Logger
	live     minuteCount[int64]
}

var (
	descLoads = prometheus.NewDesc("gosessions_session_loads_total",
		"Session records read from the store (a session's first use in a request, and re-reads after a conflict), by result: found, or not_found (unknown, deleted or expired key).",
		[]string{"result"}, nil)
	descSaves = prometheus.NewDesc("gosessions_session_saves_total",
		"Session records written: created, updated, or moved to a new key.", nil, nil)
	descRetries = prometheus.NewDesc("gosessions_session_cas_retries_total",
		"Compare-and-swap retries: saves that found the record changed by another request, reloaded it and replayed their changes.", nil, nil)
	descInterrupted = prometheus.NewDesc("gosessions_session_interrupted_total",
		"Saves refused because the session was deleted during the request (a 400, Django's SessionInterrupted).", nil, nil)
	descStoreErrors = prometheus.NewDesc("gosessions_session_store_errors_total",
		"Session store failures by operation (load, save, delete) and kind: timeout (the request's store budget ran out) or failure.",
		[]string{"op", "kind"}, nil)
	descCache = prometheus.NewDesc("gosessions_store_cache_lookups_total",
		"Session loads a cache layer answered (hit) or did not (miss), by layer: redis (cached_db's shared cache), process (the database engines' in-process cache), memory (the cache engine's process memory).",
		[]string{"layer", "result"}, nil)
	descCacheLen = prometheus.NewDesc("gosessions_store_cache_sessions",
		"Sessions held by a cache layer now (not for redis).", []string{"layer"}, nil)
	descEvictions = prometheus.NewDesc("gosessions_store_cache_evictions_total",
		"Sessions a cache layer removed by itself, by reason: lru (beyond its bound, the least recently used) or expired.",
		[]string{"layer", "reason"}, nil)
	descFallbacks = prometheus.NewDesc("gosessions_store_cache_fallbacks_total",
		"Loads and writes served by the layer below because a cache layer failed or was being bypassed.", []string{"layer"}, nil)
	descCommits = prometheus.NewDesc("gosessions_store_commits_total",
		"Write transactions of the layer that keeps the sessions: the group commit's on a database, one per write in process memory.", nil, nil)
	descWrites = prometheus.NewDesc("gosessions_store_writes_total",
		"Session writes (creates, updates, deletes on a database) committed or refused in them.", nil, nil)
	descRollbacks = prometheus.NewDesc("gosessions_store_rollbacks_total",
		"Groups rolled back because one write failed, then run one by one (PostgreSQL).", nil, nil)
	descLive = prometheus.NewDesc("gosessions_live_sessions",
		"Sessions in the database or process memory that have not expired, counted at most once a minute.", nil, nil)
	descIndexEntries = prometheus.NewDesc("gosessions_user_index_entries",
		"Entries of the per-user index of sessions (dead ones not yet dropped included), counted at most once a minute.", nil, nil)
	descIndexUsers = prometheus.NewDesc("gosessions_user_index_users",
		"Users with entries in the per-user index of sessions, counted at most once a minute.", nil, nil)
	descSignedOut = prometheus.NewDesc("gosessions_user_sessions_signed_out_total",
		"Sessions ended by this process's sign-outs: one device, all other devices, a password change.", nil, nil)
	descIndexDropped = prometheus.NewDesc("gosessions_user_index_dropped_total",
		"Dead entries of the per-user index removed by this process's listings.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLoads, descSaves, descRetries, descInterrupted, descStoreErrors,
		descCache, descCacheLen, descEvictions, descFallbacks, descCommits, descWrites, descRollbacks, descLive,
		descIndexEntries, descIndexUsers, descSignedOut, descIndexDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The engine's metrics are those
// its layers report: every engine's caches, writes and live sessions.
func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	s := c.sessions.Stats()
	failed := s.LoadErrors.Timeout + s.LoadErrors.Failure
	counter(descLoads, s.Loads-s.NotFound-failed, "found")
	counter(descLoads, s.NotFound, "not_found")
	counter(descSaves, s.Saves)
	counter(descRetries, s.Conflicts)
	counter(descInterrupted, s.Interrupted)
	for _, e := range []struct {
		op string
		n  session.ErrorCounts
	}{{"load", s.LoadErrors}, {"save", s.SaveErrors}, {"delete", s.DeleteErrors}} {
		counter(descStoreErrors, e.n.Timeout, e.op, "timeout")
		counter(descStoreErrors, e.n.Failure, e.op, "failure")
	}
	st := c.engine.Stats()
	for _, cs := range st.Caches {
		counter(descCache, cs.Hits, cs.Layer, "hit")
		counter(descCache, cs.Misses, cs.Layer, "miss")
		if cs.Len >= 0 {
			ch <- prometheus.MustNewConstMetric(descCacheLen, prometheus.GaugeValue, float64(cs.Len), cs.Layer)
		}
		if cs.Evicted >= 0 {
			counter(descEvictions, cs.Evicted, cs.Layer, "lru")
		}
		if cs.Expired >= 0 {
			counter(descEvictions, cs.Expired, cs.Layer, "expired")
		}
		if cs.Fallbacks >= 0 {
			counter(descFallbacks, cs.Fallbacks, cs.Layer)
		}
	}
	if w := st.Writes; w != nil {
		counter(descCommits, w.Commits)
		counter(descWrites, w.Writes)
		counter(descRollbacks, w.Rollbacks)
	}
	if x := st.Index; x != nil {
		if x.Entries >= 0 {
			ch <- prometheus.MustNewConstMetric(descIndexEntries, prometheus.GaugeValue, float64(x.Entries))
			ch <- prometheus.MustNewConstMetric(descIndexUsers, prometheus.GaugeValue, float64(x.Users))
		}
		counter(descSignedOut, x.SignedOut)
		counter(descIndexDropped, x.Dropped)
	}
	if live, ok := c.liveSessions(); ok {
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, float64(live))
	}
}

// liveSessions returns the count of live sessions, counted at most once
// a minute (minuteCount); false when the engine cannot count them
// (Redis, signed cookies).
func (c *sessionCollector) liveSessions() (int64, bool) {
	return c.live.get(time.Now(), func() (int64, error) {
		n, ok, err := c.engine.LiveSessions(context.Background(), time.Now())
		switch {
		case !ok:
			return 0, errNoCount
		case err != nil:
			c.log.Warn("metrics: count live sessions", "error", err)
		}
		return n, err
	})
}

// serveMetrics serves h on its own listener at addr (METRICS_ADDR) until
// stop is called.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed", "error", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-done
	}, nil
}
