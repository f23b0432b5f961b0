package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/engine"
)

// bench is one run of the benchmark.
type bench struct {
	o        options
	engine   engine.Name // the site's SESSION_ENGINE
	dir      string      // temporary directory: databases, site logs
	getenv   func(string) string
	progress io.Writer // progress lines; the report goes elsewhere
	started  time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "loadtest: "+format+"\n", args...)
}

// cookieName is the site's session cookie name.
func (b *bench) cookieName() string {
	if n := b.getenv("SESSION_COOKIE_NAME"); n != "" {
		return n
	}
	return "sessionid"
}

// needs is what the site's engine uses. The benchmark gives an engine
// that can use Redis a server of its own when CACHE_URL is unset (see
// siteServices), so the engine always has Redis.
func (b *bench) needs() engine.Needs { return b.engine.Needs(true) }

// memoryOnly reports whether the site's engine never reads the database
// the benchmark fills: the cache engine (Redis or process memory) and
// signed cookies.
func (b *bench) memoryOnly() bool { return b.needs().Record != engine.InDatabase }

// signedCookies reports whether the session is the cookie: clients must
// follow it, and concurrent updates of one session are lost.
func (b *bench) signedCookies() bool { return b.needs().Record == engine.InCookie }

// followed is the cookie the site's clients must follow: the session
// cookie with signed cookies, whose value changes at every write.
func (b *bench) followed() string {
	if b.signedCookies() {
		return b.cookieName()
	}
	return ""
}

// The site's routes of the default mode, in the order of each round:
// every session route right after its baseline, so that both see the
// same machine.
const (
	pathRaw            = "/baseline/raw"
	pathBaselineGet    = "/baseline/get"
	pathGet            = "/get"
	pathBaselineVisits = "/baseline/visits"
	pathVisits         = "/visits"
)

// Labels of the routes of the library app and of scs.
const (
	labelRawEcho   = "raw Echo"
	labelLibGet    = "library /get"
	labelLibVisits = "library /visits"
	labelMemGet    = "scs memstore /get"
	labelMemVisits = "scs memstore /visits"
	labelSQLGet    = "scs sqlite3store /get"
	labelSQLVisits = "scs sqlite3store /visits"
)

// pageSentences are what each page of the site must say for the
// benchmark's clients, checked once before the load.
var pageSentences = map[string]string{
	pathRaw:            "Hello, World!",
	pathBaselineGet:    "User: harun_dev, Role: admin, Logins: 1",
	pathGet:            "User: harun_dev, Role: admin, Logins: 1",
	pathBaselineVisits: "You have visited this page 42 times.",
	pathVisits:         "You have visited this page ",
}

// Sentences of the library app's and scs's routes.
const (
	sentenceRaw    = "Hello, World!"
	sentenceGet    = "User: harun_dev, Role: admin, Logins: 1"
	sentenceVisits = "You have visited this page "
)

// run is the state of the default mode: the apps and their routes.
type runState struct {
	site, lib *app
	scs       []*app
	order     []route // of each round
	raw       string  // label of the route every figure is relative to
}

// startApps starts the site and, when given, the library app and scs,
// each on a fresh database, and gives every client its session.
func (b *bench) startApps(ctx context.Context, stops *[]func() error) (*runState, error) {
	o := b.o
	st := &runState{}
	start := func(name, bin string, extra ...string) (*site, error) {
		env := siteEnv(os.Environ(), filepath.Join(b.dir, name+".sqlite3"), newSecret(), extra...)
		stopServices := func() error { return nil }
		if name == "routes" { // the demo site: its engine's database and cache
			services, stop, err := b.siteServices(ctx, name)
			if err != nil {
				return nil, err
			}
			env, stopServices = append(env, services...), stop
		}
		s, err := startSite(ctx, bin, env, filepath.Join(b.dir, name+"-site.log"))
		if err != nil {
			stopServices()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		*stops = append(*stops, s.stop, stopServices) // the site first, then what it uses
		return s, nil
	}
	s, err := start("routes", o.site)
	if err != nil {
		return nil, err
	}
	st.site = newApp("demo site", s, "", o)
	b.logf("site at %s; warming up %s sessions (one /set and one /visits each)", s.url, thousands(int64(o.sessions)))
	cookies, err := b.newSessions(ctx, st.site.l, o.sessions)
	if err != nil {
		return nil, err
	}
	st.site.l.cookies = newClientCookies(cookies, b.followed())
	if b.signedCookies() {
		// The last cookie wins: concurrent /visits of one client lose
		// counts, as in Django; reported, not failed on.
		st.site.lossy = true
	}
	for i := range st.site.visits {
		st.site.visits[i].Store(1) // the warm-up's
	}

	if o.lib != "" {
		ls, err := start("library", o.lib)
		if err != nil {
			return nil, err
		}
		st.lib = newApp("library", ls, "", o)
		b.logf("library app at %s", ls.url)
		if err := st.lib.newSimpleSessions(ctx); err != nil {
			return nil, err
		}
		st.order = append(st.order, route{label: labelRawEcho, app: st.lib, path: "/raw", sentence: sentenceRaw})
		st.raw = labelRawEcho
	}
	site := st.site
	st.order = append(st.order,
		route{label: pathRaw, app: site, path: pathRaw, sentence: pageSentences[pathRaw]},
		route{label: pathBaselineGet, app: site, path: pathBaselineGet, sentence: pageSentences[pathBaselineGet]},
		route{label: pathGet, app: site, path: pathGet, baseline: pathBaselineGet, sentence: pageSentences[pathGet]},
		route{label: pathBaselineVisits, app: site, path: pathBaselineVisits, sentence: pageSentences[pathBaselineVisits]},
		route{label: pathVisits, app: site, path: pathVisits, baseline: pathBaselineVisits, visits: true, sentence: pageSentences[pathVisits]},
	)
	if st.raw == "" {
		st.raw = pathRaw
	}
	if st.lib != nil {
		st.order = append(st.order,
			route{label: labelLibGet, app: st.lib, path: "/get", baseline: labelRawEcho, sentence: sentenceGet},
			route{label: labelLibVisits, app: st.lib, path: "/visits", baseline: labelRawEcho, visits: true, sentence: sentenceVisits},
		)
	}
	if o.scs != "" {
		ss, err := start("scs", o.scs)
		if err != nil {
			return nil, err
		}
		b.logf("scs app at %s", ss.url)
		for _, x := range []struct{ name, prefix, get, visits string }{
			{"scs memstore", "/mem", labelMemGet, labelMemVisits},
			{"scs sqlite3store", "/sqlite", labelSQLGet, labelSQLVisits},
		} {
			a := newApp(x.name, ss, x.prefix, o)
			a.lossy = true
			if err := a.newSimpleSessions(ctx); err != nil {
				return nil, err
			}
			st.scs = append(st.scs, a)
			base := ""
			if st.lib != nil {
				base = labelRawEcho
			}
			st.order = append(st.order,
				route{label: x.get, app: a, path: x.prefix + "/get", baseline: base, sentence: sentenceGet},
				route{label: x.visits, app: a, path: x.prefix + "/visits", baseline: base, visits: true, sentence: sentenceVisits},
			)
		}
	}
	return st, nil
}

// phaseOf is the phase of route r for d.
func (b *bench) phaseOf(r route, d time.Duration) phase {
	ph := phase{path: r.path, duration: d, maxRequests: b.o.maxRequests}
	if r.visits {
		ph.success = r.app.countVisit
	}
	return ph
}

// routes is the default mode: the route pairs, the lost-update check and
// the memory phase. It returns false when requests failed or updates were
// lost.
func (b *bench) routes(ctx context.Context, out io.Writer) (bool, error) {
	b.started = time.Now()
	o := b.o
	var stops []func() error
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	st, err := b.startApps(ctx, &stops)
	if err != nil {
		return false, err
	}
	rssWarm, err := st.site.s.rss()
	if err != nil {
		return false, err
	}

	sizes := map[string]int64{}
	for _, r := range st.order {
		var body bytes.Buffer
		_, n, err := r.app.l.fetch(ctx, r.app.s.url+r.path, r.app.l.cookies.get(0), &body)
		if err != nil {
			return false, err
		}
		if !strings.Contains(body.String(), r.sentence) {
			return false, fmt.Errorf("%s does not say %q: is it built from this tree?", r.label, r.sentence)
		}
		if r.visits {
			r.app.countVisit(0)
		}
		sizes[r.label] = n
	}

	if o.warmup > 0 {
		b.logf("warm-up: %v on each route", o.warmup)
		for _, r := range st.order {
			if res := r.app.l.run(ctx, b.phaseOf(r, o.warmup)); res.errs > 0 {
				return false, fmt.Errorf("warm-up of %s: %d errors, the first: %s", r.label, res.errs, res.firstErr)
			}
		}
	}

	all := map[string][]phaseResult{}
	for round := 1; round <= o.rounds; round++ {
		for _, r := range st.order {
			if err := ctx.Err(); err != nil {
				return false, fmt.Errorf("stopped: %w", context.Cause(ctx))
			}
			res, err := measure(ctx, r.app.s, r.app.l, b.phaseOf(r, o.duration))
			if err != nil {
				return false, err
			}
			all[r.label] = append(all[r.label], res)
			b.logf("round %d/%d %-24s %6.0f req/s  p50 %s  p99 %s  site CPU %s/req  errors %d",
				round, o.rounds, r.label, res.rps(), ms(res.percentile(0.5)), ms(res.percentile(0.99)), us(res.cpuPerRequest()), res.errs)
		}
	}

	var open *openResult
	if o.openRounds > 0 {
		if open, err = b.openLoop(ctx, st, all); err != nil {
			return false, err
		}
	}

	b.logf("checking the stored visit counts of %s sessions", thousands(int64(o.sessions)))
	checks := map[string]visitCheck{}
	lost, err := b.checkVisits(ctx, st.site.l, st.site.visits)
	if err != nil {
		return false, err
	}
	checks[st.site.name] = lost
	for _, a := range append([]*app{st.lib}, st.scs...) {
		if a == nil {
			continue
		}
		stored, err := a.simpleCounts(ctx)
		if err != nil {
			return false, err
		}
		checks[a.name] = compareVisits(a.visits, stored)
	}
	for _, stop := range stops {
		if err := stop(); err != nil {
			b.logf("stopping an app: %v", err)
		}
	}

	var mem *memoryResult
	switch {
	case o.memSessions == 0:
	case !b.needs().ProcessCache || o.postgres != "":
		b.logf("memory phase skipped: it measures the in-process cache of the db engine on SQLite")
	default:
		if mem, err = b.memory(ctx); err != nil {
			return false, err
		}
	}

	rep := routesReport{
		machine: describeMachine(b.getenv), started: b.started, o: o, st: st,
		results: all, sizes: sizes, checks: checks, rssWarm: rssWarm, mem: mem, open: open,
	}
	rep.write(out)
	ok := true
	for _, a := range append([]*app{st.site, st.lib}, st.scs...) {
		if a != nil && !a.lossy {
			ok = ok && checks[a.name].lost == 0 && checks[a.name].extra == 0
		}
	}
	for _, rs := range all {
		for _, r := range rs {
			ok = ok && r.errs == 0
		}
	}
	return ok, nil
}

// measure runs p on l and records the CPU time site s used meanwhile.
func measure(ctx context.Context, s *site, l *loader, p phase) (phaseResult, error) {
	cpu0, err := s.cpuTime()
	if err != nil {
		return phaseResult{}, err
	}
	r := l.run(ctx, p)
	cpu1, err := s.cpuTime()
	if err != nil {
		return phaseResult{}, err
	}
	r.siteCPU = cpu1 - cpu0
	return r, nil
}

// newSessions gives each of n clients a session: a csrftoken cookie, a
// /set that returns the session cookie, and one /visits. It returns each
// client's Cookie header.
func (b *bench) newSessions(ctx context.Context, l *loader, n int) ([]string, error) {
	cookies := make([]string, n)
	name := b.cookieName()
	err := l.each(ctx, n, func(ctx context.Context, i int) error {
		csrf := csrfCookie()
		set, _, err := l.fetch(ctx, l.base+"/set", csrf, nil)
		if err != nil {
			return err
		}
		for _, c := range set {
			if c.Name == name && c.Value != "" {
				cookies[i] = csrf + "; " + name + "=" + c.Value
			}
		}
		if cookies[i] == "" {
			return fmt.Errorf("/set sent no %s cookie", name)
		}
		_, _, err = l.fetch(ctx, l.base+pathVisits, cookies[i], nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	return cookies, nil
}

// visitCheck compares the stored visit counts with the successful /visits.
type visitCheck struct {
	counted, stored int64
	lost            int64 // visits answered with a 2xx but not stored
	extra           int64 // stored visits beyond those answered (a failed request that still saved)
	sessions        int   // sessions with a mismatch
}

// checkVisits reads every client's session on the site through
// /api/session, which only reads it, and compares its visits with the
// count of successful /visits of that client.
func (b *bench) checkVisits(ctx context.Context, l *loader, counted []atomic.Int64) (visitCheck, error) {
	stored := make([]int64, len(counted))
	err := l.each(ctx, len(counted), func(ctx context.Context, i int) error {
		var body bytes.Buffer
		if _, _, err := l.fetch(ctx, l.base+"/api/session", l.cookies.get(i), &body); err != nil {
			return err
		}
		v, err := storedVisits(body.Bytes())
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		stored[i] = v
		return nil
	})
	if err != nil {
		return visitCheck{}, fmt.Errorf("reading back the visits: %w", err)
	}
	return compareVisits(counted, stored), nil
}

// storedVisits reads data.visits from an /api/session body; a session
// without visits has 0.
func storedVisits(body []byte) (int64, error) {
	var doc struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return 0, fmt.Errorf("/api/session: %w", err)
	}
	if doc.Data == nil {
		return 0, errors.New("/api/session: no data")
	}
	raw, ok := doc.Data["visits"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/api/session: visits is %s, not a whole number", raw)
	}
	return n, nil
}

// memoryResult is the memory phase's measure: the site's RSS after
// reading the first 1,000 and then all sessions, with the cache holding
// them all and with no cache.
type memoryResult struct {
	sessions, cacheSize int
	first               int // sessions read for the first measure
	cached, uncached    [2]int64
}

// perSession is the growth of RSS per session read beyond the first
// ones that the cache causes (the growth without a cache subtracted).
func (m memoryResult) perSession() float64 {
	grow := float64(m.cached[1]-m.cached[0]) - float64(m.uncached[1]-m.uncached[0])
	return grow / float64(m.sessions-m.first)
}

// memory fills a fresh database with o.memSessions sessions and, with a
// site caching them all and then with a site caching none, reads the
// first 1,000 and then all of them once, measuring RSS after each.
func (b *bench) memory(ctx context.Context) (*memoryResult, error) {
	n := b.o.memSessions
	m := &memoryResult{sessions: n, cacheSize: n, first: min(1000, n)}
	if m.first == n {
		return nil, fmt.Errorf("-mem-sessions %d: want more than 1,000", n)
	}
	secret := newSecret()
	for i, size := range []int{n, 0} {
		b.logf("memory phase: %s sessions, SESSION_CACHE_SIZE=%d", thousands(int64(n)), size)
		db := filepath.Join(b.dir, fmt.Sprintf("memory-%d.sqlite3", i))
		keys, err := fillDB(ctx, db, fillSpec{live: n, secret: secret, now: time.Now(), seed: 2})
		if err != nil {
			return nil, err
		}
		env := siteEnv(os.Environ(), db, secret, "SESSION_CACHE_SIZE="+strconv.Itoa(size), "SESSION_ENGINE=db")
		s, err := startSite(ctx, b.o.site, env, filepath.Join(b.dir, fmt.Sprintf("memory-%d-site.log", i)))
		if err != nil {
			return nil, err
		}
		rss, err := b.readSessions(ctx, s, keys, m.first)
		if stopErr := s.stop(); stopErr != nil {
			b.logf("stopping the site: %v", stopErr)
		}
		if err != nil {
			return nil, err
		}
		if size > 0 {
			m.cached = rss
		} else {
			m.uncached = rss
		}
	}
	return m, nil
}

// readSessions reads the sessions of keys through /api/session (the
// cheapest page that loads a session the way every page does), the first
// first and then the rest, and returns the site's RSS after each step.
func (b *bench) readSessions(ctx context.Context, s *site, keys []string, first int) ([2]int64, error) {
	var rss [2]int64
	l := newLoader(s.url, b.o.conns, b.o.reqTimeout)
	defer l.close()
	csrf := csrfCookie()
	name := b.cookieName()
	read := func(from, to int) error {
		return l.each(ctx, to-from, func(ctx context.Context, i int) error {
			var body bytes.Buffer
			if _, _, err := l.fetch(ctx, s.url+"/api/session", csrf+"; "+name+"="+keys[from+i], &body); err != nil {
				return err
			}
			if !strings.Contains(body.String(), `"harun_dev"`) {
				return errors.New("/api/session did not find a filled session")
			}
			return nil
		})
	}
	for step, to := range []int{first, len(keys)} {
		from := 0
		if step > 0 {
			from = first
		}
		if err := read(from, to); err != nil {
			return rss, fmt.Errorf("memory phase: %w", err)
		}
		var err error
		if rss[step], err = s.rss(); err != nil {
			return rss, err
		}
	}
	return rss, nil
}

// clearResult is what the clearsessions mode measured.
type clearResult struct {
	fill time.Duration
	// before and during clearsessions, by path (/get and /visits, run
	// together, half the connections each)
	before, during  map[string]phaseResult
	took            time.Duration
	output          string
	deleted         int64         // from manage's output; -1 when it said no count
	longestHold     time.Duration // from manage's output; -1 when it said none
	remaining       int64
	lost            visitCheck
	loadEndedEarly  bool
	manageSucceeded bool
}

// clearPaths are the routes loaded in the clearsessions mode: a read and
// a write, since only writes wait for the write lock clearsessions takes.
var clearPaths = []string{pathGet, pathVisits}

// deletedLine is manage clearsessions' last line; holdLine its --verbose
// line before it.
var (
	deletedLine = regexp.MustCompile(`Deleted (\d+) expired sessions?\.`)
	holdLine    = regexp.MustCompile(`the longest for ([0-9.]+[µm]?s)\.`)
)

// loadBoth runs /get and /visits at once on their loaders until stop
// closes (or for d when stop is nil) and returns each one's result.
func (b *bench) loadBoth(ctx context.Context, s *site, loaders map[string]*loader, d time.Duration, stop <-chan struct{}, countVisit func(int)) (map[string]phaseResult, error) {
	out := map[string]phaseResult{}
	cpu0, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	type res struct {
		path string
		r    phaseResult
	}
	ch := make(chan res, len(clearPaths))
	for _, p := range clearPaths {
		ph := phase{path: p, duration: d, maxRequests: b.o.maxRequests, stop: stop}
		if p == pathVisits {
			ph.success = countVisit
		}
		go func() { ch <- res{p, loaders[p].run(ctx, ph)} }()
	}
	for range clearPaths {
		x := <-ch
		out[x.path] = x.r
	}
	cpu1, err := s.cpuTime()
	if err != nil {
		return nil, err
	}
	// The CPU time is the site's, for both routes: shared by requests.
	var ok int64
	for _, r := range out {
		ok += r.ok
	}
	for p, r := range out {
		if ok > 0 {
			r.siteCPU = (cpu1 - cpu0) * time.Duration(r.ok) / time.Duration(ok)
		}
		out[p] = r
	}
	return out, nil
}

// clearSessions is the -clearsessions mode. It returns false when requests
// failed, the wrong rows were deleted or a visit was lost.
func (b *bench) clearSessions(ctx context.Context, out io.Writer) (bool, error) {
	b.started = time.Now()
	o := b.o
	if b.memoryOnly() || o.postgres != "" {
		return false, errors.New("-clearsessions measures SQLite's db engine: not with SESSION_ENGINE=cache or signed_cookies, nor -postgres")
	}
	secret := newSecret()
	db := filepath.Join(b.dir, "clear.sqlite3")
	var r clearResult
	b.logf("filling %s expired and %s live sessions", thousands(int64(o.expired)), thousands(int64(o.live)))
	t0 := time.Now()
	keys, err := fillDB(ctx, db, fillSpec{live: o.live, expired: o.expired, secret: secret, now: time.Now(), seed: 1})
	if err != nil {
		return false, err
	}
	r.fill = time.Since(t0)
	b.logf("filled in %v", r.fill.Round(time.Millisecond))

	env := siteEnv(os.Environ(), db, secret)
	s, err := startSite(ctx, o.site, env, filepath.Join(b.dir, "clear-site.log"))
	if err != nil {
		return false, err
	}
	defer s.stop()
	csrf, name := csrfCookie(), b.cookieName()
	cookies := make([]string, o.sessions)
	for i := range cookies { // spread over the live sessions, hence over the table
		cookies[i] = csrf + "; " + name + "=" + keys[i*len(keys)/o.sessions]
	}
	loaders := map[string]*loader{}
	shared := newClientCookies(cookies, "")
	for _, p := range clearPaths {
		l := newLoader(s.url, max(o.conns/len(clearPaths), 1), o.reqTimeout)
		l.cookies = shared
		defer l.close()
		loaders[p] = l
	}
	visits := make([]atomic.Int64, o.sessions) // the filled sessions have none
	countVisit := func(i int) { visits[i].Add(1) }
	var body bytes.Buffer
	if _, _, err := loaders[pathGet].fetch(ctx, s.url+pathGet, cookies[0], &body); err != nil {
		return false, err
	}
	if !strings.Contains(body.String(), pageSentences[pathGet]) {
		return false, errors.New("/get did not find a filled session")
	}
	if o.warmup > 0 {
		if _, err := b.loadBoth(ctx, s, loaders, o.warmup, nil, countVisit); err != nil {
			return false, err
		}
	}
	if r.before, err = b.loadBoth(ctx, s, loaders, o.before, nil, countVisit); err != nil {
		return false, err
	}
	for _, p := range clearPaths {
		x := r.before[p]
		b.logf("before: %-8s %6.0f req/s  p50 %s  p99 %s  max %s", p, x.rps(), ms(x.percentile(0.5)), ms(x.percentile(0.99)), ms(x.max()))
	}

	b.logf("running manage clearsessions --verbose under load")
	stop := make(chan struct{})
	type during struct {
		r   map[string]phaseResult
		err error
	}
	done := make(chan during, 1)
	go func() {
		r, err := b.loadBoth(ctx, s, loaders, o.timeout, stop, countVisit)
		done <- during{r, err}
	}()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, o.manage, "clearsessions", "--verbose")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	t1 := time.Now()
	runErr := cmd.Run()
	r.took = time.Since(t1)
	close(stop)
	d := <-done
	if d.err != nil {
		return false, d.err
	}
	r.during = d.r
	for _, p := range clearPaths {
		x := r.during[p]
		r.loadEndedEarly = r.loadEndedEarly || x.limited
		b.logf("during: %-8s %6.0f req/s  p50 %s  p99 %s  max %s", p, x.rps(), ms(x.percentile(0.5)), ms(x.percentile(0.99)), ms(x.max()))
	}
	r.output = strings.TrimSpace(stdout.String())
	r.manageSucceeded = runErr == nil
	r.deleted, r.longestHold = -1, -1
	if m := deletedLine.FindStringSubmatch(r.output); m != nil {
		r.deleted, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := holdLine.FindStringSubmatch(r.output); m != nil {
		if d, err := time.ParseDuration(m[1]); err == nil {
			r.longestHold = d
		}
	}
	b.logf("clearsessions took %v: %s", r.took.Round(time.Millisecond), r.output)

	b.logf("checking the stored visit counts of %s sessions", thousands(int64(o.sessions)))
	if r.lost, err = b.checkVisits(ctx, loaders[pathGet], visits); err != nil {
		return false, err
	}
	for _, l := range loaders {
		l.close()
	}
	if err := s.stop(); err != nil {
		b.logf("stopping the site: %v", err)
	}
	if r.remaining, err = countSessions(ctx, db); err != nil {
		return false, err
	}

	rep := clearReport{machine: describeMachine(b.getenv), started: b.started, o: o, r: r}
	rep.write(out)
	ok := r.manageSucceeded && !r.loadEndedEarly && r.lost.lost == 0 && r.lost.extra == 0 &&
		r.deleted == int64(o.expired) && r.remaining == int64(o.live)
	for _, p := range clearPaths {
		ok = ok && r.before[p].errs == 0 && r.during[p].errs == 0
	}
	return ok, nil
}
