package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/csrf"
)

// loader drives a site with a fixed number of connections, each with one
// request in flight at a time (a closed loop), every request sending the
// cookies of the next client, round-robin.
type loader struct {
	base    string // http://127.0.0.1:port
	hc      *http.Client
	conns   int
	cookies *clientCookies // Cookie header of each client
	next    atomic.Uint64
}

// newLoader returns a loader for the site at base with conns keep-alive
// connections.
func newLoader(base string, conns int, timeout time.Duration) *loader {
	tr := &http.Transport{
		Proxy:               nil, // loopback only: never a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &loader{
		base:  base,
		conns: conns,
		hc: &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// close drops the idle connections.
func (l *loader) close() { l.hc.CloseIdleConnections() }

// csrfCookie returns a csrftoken cookie as the site makes them (Django's
// 32-character secret), so that the site's CSRF middleware keeps it, as
// with a browser, instead of making a new secret for every request.
func csrfCookie() string {
	return "csrftoken=" + csrf.NewSecret()
}

// phaseResult is what one phase measured.
type phaseResult struct {
	path     string
	ok, errs int64
	elapsed  time.Duration
	lat      []time.Duration // of the successful requests, sorted
	firstErr string          // the first error, for the report
	siteCPU  time.Duration   // CPU time the site used meanwhile, 0 when unknown
	// limited is set when the phase ended on its duration, its request
	// bound or the run's end rather than on its stop channel.
	limited bool
}

// record counts one request that took d: its latency when it succeeded
// (then it reports true), else its error.
func (r *phaseResult) record(err error, d time.Duration) bool {
	if err != nil {
		r.errs++
		if r.firstErr == "" {
			r.firstErr = err.Error()
		}
		return false
	}
	r.ok++
	r.lat = append(r.lat, d)
	return true
}

// add adds x's counts, time, CPU and latencies to r, and its first error
// when r has none.
func (r *phaseResult) add(x phaseResult) {
	r.ok += x.ok
	r.errs += x.errs
	r.elapsed += x.elapsed
	r.siteCPU += x.siteCPU
	r.lat = append(r.lat, x.lat...)
	if r.firstErr == "" {
		r.firstErr = x.firstErr
	}
}

// cpuPerRequest is the site's CPU time per successful request.
func (r phaseResult) cpuPerRequest() time.Duration {
	if r.ok == 0 {
		return 0
	}
	return r.siteCPU / time.Duration(r.ok)
}

// rps is the throughput of successful requests.
func (r phaseResult) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile returns the latency below which a fraction p (0 < p <= 1) of
// the successful requests fall (nearest rank), or 0 without any.
func (r phaseResult) percentile(p float64) time.Duration {
	return percentile(r.lat, p)
}

// percentile is the nearest-rank percentile of the sorted sample.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// max is the slowest successful request.
func (r phaseResult) max() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

// phase describes one run of load.
type phase struct {
	path        string
	duration    time.Duration   // stop issuing requests after this
	maxRequests int             // and after this many
	stop        <-chan struct{} // and when this closes (nil: never)
	// success, when set, is called with the client's index after each
	// successful request.
	success func(client int)
}

// run drives p.path with l.conns connections until the phase ends, then
// waits for the requests in flight. Any response but a 2xx is an error.
func (l *loader) run(ctx context.Context, p phase) phaseResult {
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		res      = phaseResult{path: p.path}
		wg       sync.WaitGroup
		url      = l.base + p.path
		start    = time.Now()
		deadline = start.Add(p.duration)
	)
	var limited atomic.Bool
	stopped := func() bool {
		select {
		case <-p.stop:
			return true
		default:
		}
		if ctx.Err() != nil || !time.Now().Before(deadline) || issued.Add(1) > int64(p.maxRequests) {
			limited.Store(true)
			return true
		}
		return false
	}
	for range l.conns {
		wg.Go(func() {
			var w phaseResult // this connection's, added to res at the end
			for !stopped() {
				i := int((l.next.Add(1) - 1) % uint64(l.cookies.len()))
				t0 := time.Now()
				err := l.get(ctx, url, i)
				d := time.Since(t0)
				if w.record(err, d) && p.success != nil {
					p.success(i)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.add(w)
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.limited = limited.Load()
	slices.Sort(res.lat)
	return res
}

// get sends one GET with client i's Cookie header and reads the whole
// body; a status other than 2xx is an error. A cookie the response sets is
// followed (see clientCookies).
func (l *loader) get(ctx context.Context, url string, i int) error {
	set, _, err := l.fetch(ctx, url, l.cookies.get(i), nil)
	if err == nil {
		l.cookies.update(i, set)
	}
	return err
}

// fetch is get that also returns the response's cookies and, when body is
// not nil, the body (written into it).
func (l *loader) fetch(ctx context.Context, url, cookie string, body io.Writer) ([]*http.Cookie, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := l.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if body == nil {
		body = io.Discard
	}
	n, err := io.Copy(body, res.Body)
	if err != nil {
		return nil, n, fmt.Errorf("GET %s: reading the body: %w", req.URL.Path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, n, fmt.Errorf("GET %s: status %d", req.URL.Path, res.StatusCode)
	}
	return res.Cookies(), n, nil
}

// each calls f for every client index 0..n-1 on l.conns goroutines and
// returns the first error.
func (l *loader) each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range l.conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
