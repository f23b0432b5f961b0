package views_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

// newBenchSite starts the site with BENCH_ROUTES on, as the load
// benchmark does.
func newBenchSite(t *testing.T) *site {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.SecretKey = "test-secret-key-for-the-baseline-tests"
	cfg.BenchRoutes = true
	db := dbtest.SQLite(t)
	e := newApp(t, cfg, db, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &site{t: t, srv: srv, client: newClient(t), db: db.Gorm}
}

// varying matches what differs between a real page and its baseline and
// is no part of the page's shape: the CSRF token, the start of the session
// key and the expiry date.
var varying = regexp.MustCompile(`name="csrfmiddlewaretoken" value="[^"]*"|<code>[^<]*…</code>|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC`)

// samePage fails unless real and baseline are the same page but for
// varying.
func samePage(t *testing.T, what, real, baseline string) {
	t.Helper()
	a, b := varying.ReplaceAllString(real, "X"), varying.ReplaceAllString(baseline, "X")
	if a == b {
		return
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	t.Errorf("%s: the baseline page differs from the real one at byte %d:\nreal:     %q\nbaseline: %q",
		what, i, a[from:min(len(a), i+80)], b[from:min(len(b), i+80)])
}

// TestBaselinePagesMatchTheRealOnes checks that the baseline routes render
// the very pages of /get and /visits for a benchmark client's session, so
// that the benchmark's ratios measure the session and nothing else.
func TestBaselinePagesMatchTheRealOnes(t *testing.T) {
	s := newBenchSite(t)
	// A benchmark client: /set, then one visit, as the warm-up does.
	wantStatus(t, s.get("/set"), http.StatusOK)
	wantStatus(t, s.get("/visits"), http.StatusOK)

	real, base := s.get("/get"), s.get("/baseline/get")
	wantStatus(t, real, http.StatusOK)
	wantStatus(t, base, http.StatusOK)
	if got, want := base.message(), "User: harun_dev, Role: admin, Logins: 1"; got != want {
		t.Errorf("/baseline/get message %q, want %q", got, want)
	}
	samePage(t, "/get", real.body, base.body)

	for range 40 {
		wantStatus(t, s.get("/visits"), http.StatusOK)
	}
	real, base = s.get("/visits"), s.get("/baseline/visits")
	if got, want := real.message(), "You have visited this page 42 times."; got != want {
		t.Fatalf("/visits message %q, want %q", got, want)
	}
	wantStatus(t, base, http.StatusOK)
	samePage(t, "/visits", real.body, base.body)
}

// TestBaselineRoutesUseNoSession checks that the baseline routes neither
// read nor create a session, nor set the CSRF cookie.
func TestBaselineRoutesUseNoSession(t *testing.T) {
	s := newBenchSite(t)
	for _, path := range []string{"/baseline/get", "/baseline/visits", "/baseline/raw"} {
		r := s.get(path)
		wantStatus(t, r, http.StatusOK)
		if cs := r.Cookies(); len(cs) > 0 {
			t.Errorf("%s set cookies: %v", path, cs)
		}
	}
	if got := s.get("/baseline/raw").body; got != "Hello, World!" {
		t.Errorf("/baseline/raw body %q", got)
	}
	var n int64
	if err := s.db.Table("django_session").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the baseline routes stored %d sessions, want 0", n)
	}
}

// TestBaselineRoutesOffByDefault checks that the default site has no
// baseline routes.
func TestBaselineRoutesOffByDefault(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/baseline/get", "/baseline/visits", "/baseline/raw"} {
		res, err := s.client.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the default site: %d, want 404", path, res.StatusCode)
		}
	}
	if strings.Contains(s.get("/").body, "/baseline/") {
		t.Errorf("the home page links a baseline route")
	}
}

// TestCPUProfile: the bench site serves a CPU profile (gzipped, as go tool
// pprof reads it) with runtime/pprof, and refuses a second one while one
// is recorded instead of mixing them.
func TestCPUProfile(t *testing.T) {
	s := newBenchSite(t)
	r := s.get("/debug/pprof/profile?seconds=1")
	wantStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.body, "\x1f\x8b") || r.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("profile: %q, %d bytes starting %q; want a gzipped profile", r.Header.Get("Content-Type"), len(r.body), r.body[:min(len(r.body), 4)])
	}

	// The server is in this process: a profile started here is the one
	// already running.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	r = s.get("/debug/pprof/profile?seconds=1")
	pprof.StopCPUProfile()
	wantStatus(t, r, http.StatusConflict)
}

// TestSiteDoesNotImportNetHTTPPprof: net/http/pprof's init registers its
// handlers on http.DefaultServeMux; the site serves its profile with
// runtime/pprof and links no such package.
func TestSiteDoesNotImportNetHTTPPprof(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/djangosessions/gosessions").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "github.com/djangosessions/gosessions/views") {
		t.Fatalf("go list -deps of the site: %d packages, without views?", len(deps))
	}
	if slices.Contains(deps, "net/http/pprof") {
		t.Error("the site links net/http/pprof, which registers handlers on http.DefaultServeMux")
	}
}
