package app

import (
	"bytes"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/app/engine"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/internal/redistest"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// do sends method path to h with the raw Cookie header cookie ("" for
// none) and returns the response.
func do(t *testing.T, h http.Handler, method, path, cookie string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// scrape GETs /metrics from h and parses it.
func scrape(t *testing.T, h http.Handler) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	rec := do(t, h, http.MethodGet, "/metrics", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %.300s", rec.Code, rec.Body)
	}
	text := rec.Body.String()
	fams, err := parseMetrics(text)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams, text
}

func parseMetrics(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// value returns the sample of family name whose labels include want
// (counter, gauge, or a histogram's count), or -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// readmeMetrics returns the metric names the Metrics table of
// docs/operating.md documents.
func readmeMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/operating.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Metrics\n")
	section, _, _ = strings.Cut(section, "\n## ")
	var names []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(gosessions_[a-z_]+)").FindAllStringSubmatch(section, -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("the Metrics section of docs/operating.md lists %d metrics: %q", len(names), names)
	}
	return names
}

func newMetricsSite(t *testing.T, cfg Config) *echo.Echo {
	t.Helper()
	e, closeSite, err := New(cfg, dbtest.SQLite(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	return e
}

// TestMetrics scrapes a site that served a few requests: the names are
// those of docs/operating.md, the counts are the requests', no label is
// the client's, and the names pass Prometheus's lint.
func TestMetrics(t *testing.T) {
	cfg := testConfig()
	cfg.Metrics = true
	e := newMetricsSite(t, cfg)

	rec := do(t, e, http.MethodGet, "/set", "")
	var cookie string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sessionid" {
			cookie = "sessionid=" + c.Value
		}
	}
	if rec.Code != http.StatusOK || cookie == "" {
		t.Fatalf("GET /set = %d, cookie %q", rec.Code, cookie)
	}
	for range 2 {
		if rec := do(t, e, http.MethodGet, "/visits", cookie); rec.Code != http.StatusOK {
			t.Fatalf("GET /visits = %d", rec.Code)
		}
	}
	do(t, e, http.MethodGet, "/nowhere-"+strings.Repeat("x", 20), "")
	do(t, e, http.MethodGet, "/static/no-such-file.css", "")
	do(t, e, "BREW", "/set", "")
	req := httptest.NewRequest(http.MethodGet, "/get", nil)
	req.Host = "attacker.example"
	e.ServeHTTP(httptest.NewRecorder(), req)

	fams, text := scrape(t, e)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gosessions_http_requests_total", []string{"method", "GET", "route", "/set", "code", "200"}, 1},
		{"gosessions_http_requests_total", []string{"method", "GET", "route", "/visits", "code", "200"}, 2},
		{"gosessions_http_requests_total", []string{"method", "GET", "route", "/get", "code", "200"}, 1},
		{"gosessions_http_requests_total", []string{"method", "GET", "route", unmatched, "code", "404"}, 1},
		{"gosessions_http_requests_total", []string{"method", "GET", "route", "/static/:name", "code", "404"}, 1},
		{"gosessions_http_requests_total", []string{"method", "other", "route", "/set", "code", "405"}, 1},
		{"gosessions_http_request_duration_seconds", []string{"method", "GET", "route", "/visits"}, 2},
		{"gosessions_session_loads_total", []string{"result", "found"}, 2},
		{"gosessions_session_loads_total", []string{"result", "not_found"}, 0},
		{"gosessions_session_saves_total", nil, 3},
		{"gosessions_session_cas_retries_total", nil, 0},
		{"gosessions_session_interrupted_total", nil, 0},
		{"gosessions_session_store_errors_total", []string{"op", "save", "kind", "timeout"}, 0},
		{"gosessions_store_writes_total", nil, 3},
		{"gosessions_store_batch_size", nil, value(fams, "gosessions_store_commits_total")},
		{"gosessions_live_sessions", nil, 1},
		{"gosessions_store_cache_sessions", []string{"layer", "process"}, 1},
		{"gosessions_user_index_entries", nil, 0}, // no login
		{"gosessions_user_index_users", nil, 0},
		{"gosessions_user_sessions_signed_out_total", nil, 0},
		{"gosessions_user_index_dropped_total", nil, 0},
	} {
		if got := value(fams, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if hits, misses := value(fams, "gosessions_store_cache_lookups_total", "layer", "process", "result", "hit"), value(fams, "gosessions_store_cache_lookups_total", "layer", "process", "result", "miss"); hits+misses != 2 {
		t.Errorf("cache lookups: %v hits + %v misses, want the 2 loads", hits, misses)
	}
	for _, leak := range []string{"nowhere", "attacker", "BREW", "no-such-file"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape shows %q, a value the client chose", leak)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}

	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gosessions_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}

	// The live count is kept for a minute: a new session does not show
	// at once, and the scrape did not count again.
	do(t, e, http.MethodGet, "/set", "")
	fams, _ = scrape(t, e)
	if got := value(fams, "gosessions_live_sessions"); got != 1 {
		t.Errorf("live sessions right after another scrape = %v, want the count of a minute ago, 1", got)
	}
	if got := value(fams, "gosessions_http_requests_total", "method", "GET", "route", "/metrics", "code", "200"); got != 1 {
		t.Errorf("scrapes counted = %v, want the first one", got)
	}
}

// TestMetricsEngines: every engine reports what its layers hold. The
// database engines and the cache engine report their cache (the
// in-process cache, the Redis cache of cached_db, process memory) and
// their writes; signed cookies have no store, and only the session
// counters. Every metric any engine serves is in the table of
// docs/operating.md.
func TestMetricsEngines(t *testing.T) {
	redisURL := redistest.URL(t)
	type want struct {
		layer  string // the cache layer, "" for none
		writes bool   // commits and writes
		live   bool
	}
	served := map[string]bool{}
	for _, tt := range []struct {
		name  string
		set   func(*Config)
		want  want
		extra []string // families only this engine serves
	}{
		{"db", func(*Config) {}, want{"process", true, true}, nil},
		{"cached_db", func(c *Config) {
			c.SessionEngine, c.Cache = engine.CachedDB, redistest.Options(t, redisURL)
		}, want{"redis", true, true}, []string{"gosessions_store_cache_fallbacks_total"}},
		{"cache", func(c *Config) { c.SessionEngine = engine.Cache }, want{"memory", true, true}, []string{"gosessions_store_cache_evictions_total"}},
		{"signed_cookies", func(c *Config) { c.SessionEngine = engine.SignedCookies }, want{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Metrics = true
			tt.set(&cfg)
			e := newMetricsSite(t, cfg)
			var cookie string
			for _, c := range do(t, e, http.MethodGet, "/set", "").Result().Cookies() {
				if c.Name == "sessionid" {
					cookie = "sessionid=" + c.Value
				}
			}
			for range 2 {
				if rec := do(t, e, http.MethodGet, "/visits", cookie); rec.Code != http.StatusOK {
					t.Fatalf("GET /visits = %d", rec.Code)
				}
			}
			fams, _ := scrape(t, e)
			for name := range fams {
				served[name] = true
			}
			if value(fams, "gosessions_http_requests_total", "route", "/visits") != 2 || value(fams, "gosessions_session_saves_total") == -1 {
				t.Errorf("request or session metrics missing")
			}
			hits := value(fams, "gosessions_store_cache_lookups_total", "layer", tt.want.layer, "result", "hit")
			misses := value(fams, "gosessions_store_cache_lookups_total", "layer", tt.want.layer, "result", "miss")
			switch {
			case tt.want.layer == "":
				if _, ok := fams["gosessions_store_cache_lookups_total"]; ok {
					t.Error("cache metrics without a cache")
				}
			case hits+misses != 2:
				t.Errorf("%s cache lookups: %v hits + %v misses, want the 2 loads of /visits", tt.want.layer, hits, misses)
			}
			commits, writes := value(fams, "gosessions_store_commits_total"), value(fams, "gosessions_store_writes_total")
			switch {
			case !tt.want.writes:
				if commits != -1 || writes != -1 {
					t.Errorf("write metrics without a store: %v commits, %v writes", commits, writes)
				}
			case writes != 3 || commits < 1 || commits > writes:
				t.Errorf("%v commits of %v writes, want the 3 writes of /set and /visits in 1 to 3 commits", commits, writes)
			}
			live := value(fams, "gosessions_live_sessions")
			if tt.want.live && live != 1 || !tt.want.live && live != -1 {
				t.Errorf("live sessions = %v, want %v", live, map[bool]float64{true: 1, false: -1}[tt.want.live])
			}
			for _, name := range tt.extra {
				if _, ok := fams[name]; !ok {
					t.Errorf("no %s", name)
				}
			}
		})
	}
	documented := readmeMetrics(t)
	for name := range served {
		if strings.HasPrefix(name, "gosessions_") && !slices.Contains(documented, name) {
			t.Errorf("%s is served but not in the table of docs/operating.md", name)
		}
	}
	for _, name := range documented {
		if !served[name] {
			t.Errorf("docs/operating.md documents %s, which no engine serves", name)
		}
	}
}

// TestMetricsCacheMaxEntries: under the cache engine without CACHE_URL
// the process memory holds at most CACHE_MAX_ENTRIES sessions, however
// many visitors come; the others are evicted, and the scrape says so.
func TestMetricsCacheMaxEntries(t *testing.T) {
	cfg := testConfig()
	cfg.Metrics, cfg.SessionEngine, cfg.CacheMaxEntries = true, engine.Cache, 50
	e := newMetricsSite(t, cfg)
	for range 200 {
		if rec := do(t, e, http.MethodGet, "/set", ""); rec.Code != http.StatusOK {
			t.Fatalf("GET /set = %d", rec.Code)
		}
	}
	fams, _ := scrape(t, e)
	if got := value(fams, "gosessions_store_cache_sessions", "layer", "memory"); got != 50 {
		t.Errorf("sessions in memory after 200 visitors = %v, want CACHE_MAX_ENTRIES, 50", got)
	}
	if got := value(fams, "gosessions_store_cache_evictions_total", "layer", "memory", "reason", "lru"); got != 150 {
		t.Errorf("evictions = %v, want 150", got)
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	e := newMetricsSite(t, testConfig())
	if rec := do(t, e, http.MethodGet, "/metrics", ""); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "gosessions_") {
		t.Errorf("GET /metrics without METRICS = %d, want 404", rec.Code)
	}
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestMetricsAddr: METRICS_ADDR serves /metrics on its own listener, not
// on the site's, and it stops with the site.
func TestMetricsAddr(t *testing.T) {
	addr := freeAddr(t)
	s := startSite(t, map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/db.sqlite3", "SECRET_KEY": "k", "METRICS_ADDR": addr})
	get(t, s.url+"/visits")
	if resp, _ := get(t, s.url+"/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the site's /metrics = %d, want 404 with METRICS_ADDR", resp.StatusCode)
	}
	resp, body := get(t, "http://"+addr+"/metrics")
	fams, err := parseMetrics(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("METRICS_ADDR's /metrics = %d, %v", resp.StatusCode, err)
	}
	if got := value(fams, "gosessions_http_requests_total", "route", "/visits", "code", "200"); got != 1 {
		t.Errorf("requests of /visits = %v, want 1", got)
	}
	if resp, _ := get(t, "http://"+addr+"/visits"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener serves the site: /visits = %d", resp.StatusCode)
	}
	s.waitLog(t, "serving metrics", "url=http://"+addr+"/metrics")
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics listener still answers after the site stopped")
	}
}

func TestMetricsSettings(t *testing.T) {
	load := func(env map[string]string, args ...string) (Config, error) {
		return LoadConfig(args, func(k string) string { return env[k] })
	}
	cfg, err := load(map[string]string{"METRICS": "true"})
	if err != nil || !cfg.Metrics || cfg.MetricsAddr != "" {
		t.Errorf("METRICS=true: %+v, %v", cfg.Metrics, err)
	}
	cfg, err = load(map[string]string{"METRICS_ADDR": "127.0.0.1:9100"}, "-metrics")
	if err != nil || !cfg.Metrics || cfg.MetricsAddr != "127.0.0.1:9100" {
		t.Errorf("METRICS_ADDR and -metrics: %v %q, %v", cfg.Metrics, cfg.MetricsAddr, err)
	}
	if cfg, _ := load(nil); cfg.Metrics || cfg.MetricsAddr != "" {
		t.Error("metrics are on by default")
	}
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"METRICS": "maybe"}, nil, `invalid METRICS "maybe": want True or False`},
		{map[string]string{"METRICS_ADDR": "9100"}, nil, `invalid METRICS_ADDR "9100": want host:port`},
		{nil, []string{"-metrics-addr", "localhost"}, "want host:port"},
	} {
		if _, err := load(tt.env, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: %v, want an error with %q", tt.env, tt.args, err, tt.want)
		}
	}
	var usage bytes.Buffer
	PrintUsage(&usage)
	for _, want := range []string{"METRICS, -metrics", "(default False)", "METRICS_ADDR, -metrics-addr"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// BenchmarkMetrics measures what METRICS=True adds to a request: the same
// site with metrics off and on, on Echo's fixed string (/baseline/raw, so
// the middleware's share is as large as it gets) and on a session read
// (/get, a cached session). make bench shows the same under load.
func BenchmarkMetrics(b *testing.B) {
	for _, path := range []string{"/baseline/raw", "/get"} {
		for _, on := range []bool{false, true} {
			cfg := testConfig()
			cfg.BenchRoutes, cfg.Metrics = true, on
			db, err := sqlite.OpenURL(b.Context(), filepath.Join(b.TempDir(), "db.sqlite3"))
			if err != nil {
				b.Fatal(err)
			}
			if err := sqlitemigrations.Up(db, nil); err != nil {
				b.Fatal(err)
			}
			e, closeSite, err := New(cfg, db, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			cookie := ""
			for _, c := range httpGet(e, "/set", "").Result().Cookies() {
				if c.Name == "sessionid" {
					cookie = "sessionid=" + c.Value
				}
			}
			name := map[string]string{"/baseline/raw": "raw", "/get": "get"}[path] + "/metrics=off"
			if on {
				name = strings.Replace(name, "off", "on", 1)
			}
			b.Run(name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("Cookie", cookie)
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					e.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
			closeSite()
			db.Close()
		}
	}
}

// httpGet is do without a test.
func httpGet(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestLearnOperateRows: /learn maps Django's ORM calls on sessions to the
// manage commands, and links to /metrics when the site serves it.
func TestLearnOperateRows(t *testing.T) {
	for _, tt := range []struct {
		name      string
		change    func(*Config)
		wantsLink bool
	}{
		{"metrics off", func(*Config) {}, false},
		{"METRICS", func(c *Config) { c.Metrics = true }, true},
		{"METRICS_ADDR", func(c *Config) { c.MetricsAddr = "127.0.0.1:0" }, false},
	} {
		cfg := testConfig()
		tt.change(&cfg)
		e := newMetricsSite(t, cfg)
		rec := do(t, e, http.MethodGet, "/learn", "")
		body := rec.Body.String()
		// The text as a reader sees it: the code cells break long names
		// with <wbr> after dots.
		text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, ""))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: /learn = %d", tt.name, rec.Code)
		}
		for _, want := range []string{"manage sessions list", "manage sessions show", "manage sessions delete", "manage sessions revoke --where",
			"manage sessions stats", "Session.objects.filter(expire_date__gt=now)", "again until none is left", "models.DateTime{Time: now}"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: /learn does not show %q", tt.name, want)
			}
		}
		if got := strings.Contains(body, `href="/metrics"`); got != tt.wantsLink {
			t.Errorf("%s: /learn links /metrics: %v, want %v", tt.name, got, tt.wantsLink)
		}
		if tt.wantsLink {
			if rec := do(t, e, http.MethodGet, "/metrics", ""); rec.Code != http.StatusOK {
				t.Errorf("%s: the linked /metrics = %d", tt.name, rec.Code)
			}
		}
	}
}
