package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
)

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{ms(7)}, 0.99, ms(7)},
		{hundred, 0.5, ms(50)},
		{hundred, 0.99, ms(99)},
		{hundred, 1, ms(100)},
		{hundred, 0.001, ms(1)},
		{[]time.Duration{ms(1), ms(2), ms(3)}, 0.5, ms(2)},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{0.9, 0.5, 0.7}, 0.7},
		{[]float64{1, 4, 2, 3}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000", 100000: "100,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLoopbackURL(t *testing.T) {
	good := map[string]string{
		"http://127.0.0.1:41234/":  "http://127.0.0.1:41234",
		"http://[::1]:8000/":       "http://[::1]:8000",
		" http://127.0.0.2:80/ \n": "http://127.0.0.2:80",
	}
	for in, want := range good {
		got, err := loopbackURL(in)
		if err != nil || got != want {
			t.Errorf("loopbackURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://10.0.0.1:80/", "http://example.com:80/", "https://127.0.0.1:80/", "http://127.0.0.1/", "127.0.0.1:80", ""} {
		if got, err := loopbackURL(in); err == nil {
			t.Errorf("loopbackURL(%q) = %q, want an error", in, got)
		}
	}
}

func TestProcParsers(t *testing.T) {
	status := []byte("Name:\tsite\nVmPeak:\t  900000 kB\nVmRSS:\t   35612 kB\nThreads:\t7\n")
	if got, err := vmRSS(status); err != nil || got != 35612*1024 {
		t.Errorf("vmRSS = %d, %v; want %d", got, err, 35612*1024)
	}
	if _, err := vmRSS([]byte("Name:\tsite\n")); err == nil {
		t.Error("vmRSS without a VmRSS line: want an error")
	}
	// The command name may hold spaces and parentheses.
	stat := []byte("4242 (my (odd) site) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 130 0 0 20 0 7 0 100 0 0")
	if got, err := statCPU(stat); err != nil || got != 3800*time.Millisecond {
		t.Errorf("statCPU = %v, %v; want 3.8s", got, err)
	}
	for _, bad := range []string{"", "4242 (site) S 1 2", "4242 (site) S 1 4242 4242 0 -1 4194560 900 0 0 0 x 130 0"} {
		if _, err := statCPU([]byte(bad)); err == nil {
			t.Errorf("statCPU(%q): want an error", bad)
		}
	}
}

func TestStoredVisits(t *testing.T) {
	tests := []struct {
		body string
		want int64
		ok   bool
	}{
		{`{"data":{"visits":42,"username":"harun_dev"},"expiry_age":1209600}`, 42, true},
		{`{"data":{}}`, 0, true},
		{`{"data":{"visits":"many"}}`, 0, false},
		{`{"data":{"visits":1.5}}`, 0, false},
		{`{}`, 0, false},
		{`not json`, 0, false},
	}
	for _, tt := range tests {
		got, err := storedVisits([]byte(tt.body))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("storedVisits(%s) = %d, %v; want %d, ok %v", tt.body, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-site", "/tmp/site"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if o.conns != 32 || o.sessions != 1000 || o.memSessions != 100000 || o.expired != 1000000 || o.live != 100000 {
		t.Errorf("defaults %+v: want 32 connections, 1,000 sessions, 100,000 cached, 1,000,000 expired, 100,000 live", o)
	}
	for _, args := range [][]string{
		{},
		{"-site", "s", "-clearsessions"},
		{"-site", "s", "-c", "0"},
		{"-site", "s", "-duration", "0s"},
		{"-site", "s", "-rounds", "0"},
		{"-site", "s", "-requests", "0"},
		{"-site", "s", "-rate", "-1"},
		{"-site", "s", "-open-c", "0"},
		{"-site", "s", "-clearsessions", "-manage", "m", "-live", "10"},
		{"-site", "s", "extra"},
	} {
		if _, err := parseOptions(args, new(bytes.Buffer)); err == nil {
			t.Errorf("parseOptions(%q): want an error", args)
		}
	}
}

// TestFillDB fills a small database and checks it as the site and Django
// would read it: the counts, the key shape, Django's text dates, data
// signed for the site's key, and the expiry index rebuilt.
func TestFillDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fill.sqlite3")
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	live, err := fillDB(t.Context(), path, fillSpec{live: 30, expired: 1070, secret: "fill-secret", now: now, seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 30 {
		t.Fatalf("fillDB returned %d live keys, want 30", len(live))
	}
	ddb, err := openSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ddb.Close()
	db := ddb.SQL()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	cutoff := now.Format("2006-01-02 15:04:05")
	if n := count("SELECT COUNT(*) FROM django_session"); n != 1100 {
		t.Errorf("%d rows, want 1100", n)
	}
	// Django's clearsessions compares the text: expire_date < 'now'.
	if n := count("SELECT COUNT(*) FROM django_session WHERE expire_date < ?", cutoff); n != 1070 {
		t.Errorf("%d expired rows by Django's text comparison, want 1070", n)
	}
	if n := count("SELECT COUNT(*) FROM django_session WHERE expire_date NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]*' OR expire_date GLOB '*[TZ+]*'"); n != 0 {
		t.Errorf("%d rows have a date not in Django's text form", n)
	}
	if n := count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'django_session_expire_date_a5c62663'"); n != 1 {
		t.Errorf("the expiry index is missing after the fill")
	}
	keyShape := regexp.MustCompile(`^[a-z0-9]{32}$`)
	signer := signing.NewTimestampSigner("fill-secret", nil, session.SessionSalt)
	for _, k := range live {
		if !keyShape.MatchString(k) {
			t.Errorf("key %q is not 32 lowercase letters and digits", k)
		}
		var data, expires string
		if err := db.QueryRow("SELECT session_data, expire_date FROM django_session WHERE session_key = ?", k).Scan(&data, &expires); err != nil {
			t.Fatalf("live key %s: %v", k, err)
		}
		if expires <= cutoff {
			t.Errorf("live key %s expires %s, before %s", k, expires, cutoff)
		}
		m, err := signer.Loads(data)
		if err != nil {
			t.Fatalf("live key %s: data does not verify: %v", k, err)
		}
		if m["username"] != "harun_dev" {
			t.Errorf("live key %s: data %v", k, m)
		}
	}

	// The same seed makes the same keys.
	again, err := fillDB(t.Context(), filepath.Join(t.TempDir(), "again.sqlite3"), fillSpec{live: 30, expired: 1070, secret: "other", now: now, seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(again, ",") != strings.Join(live, ",") {
		t.Error("two fills with one seed made different keys")
	}
}

// TestEndToEnd builds the site and manage and runs both modes on tiny
// settings: the benchmark must start the site, measure every route,
// find no lost update and clean up after itself.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the site: not in -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the site with")
	}
	dir := t.TempDir()
	site, manage, lib := filepath.Join(dir, "site"), filepath.Join(dir, "manage"), filepath.Join(dir, "libsite")
	for pkg, out := range map[string]string{"../..": site, "../../manage": manage, "./libsite": lib} {
		cmd := exec.CommandContext(t.Context(), goBin, "build", "-o", out, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	t.Setenv("TMPDIR", t.TempDir()) // the run's own temporary directory goes here
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	getenv := func(string) string { return "" }

	var out, progress bytes.Buffer
	code := run(ctx, []string{"-site", site, "-lib", lib, "-c", "4", "-sessions", "20", "-duration", "150ms", "-rounds", "2", "-warmup", "50ms", "-mem-sessions", "1200", "-open-rounds", "1", "-rate", "200"}, getenv, &out, &progress)
	if code != exitOK {
		t.Fatalf("routes mode: exit %d\n%s\n%s", code, progress.String(), out.String())
	}
	for _, want := range []string{"| `raw Echo` |", "| `/baseline/raw` |", "| `/baseline/get` |", "| `/get` |", "| `/baseline/visits` |", "| `/visits` |",
		"| `library /get` |", "| `library /visits` |", "demo site 0 (", "library 0 (", "Open loop: 200 req/s", "Memory per cached session:", "Targets:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("routes report lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	progress.Reset()
	code = run(ctx, []string{"-clearsessions", "-site", site, "-manage", manage, "-c", "4", "-sessions", "10", "-expired", "3000", "-live", "200", "-before", "150ms", "-warmup", "0s"}, getenv, &out, &progress)
	if code != exitOK {
		t.Fatalf("clearsessions mode: exit %d\n%s\n%s", code, progress.String(), out.String())
	}
	for _, want := range []string{"| `/get` | before clearsessions |", "| `/visits` | during clearsessions |", `Deleted 3000 expired sessions.`, "the longest for ", "Sessions left: 200 (want 200)", "Lost updates of `/visits`: 0 ", "longest write-lock hold ≤ 20ms: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("clearsessions report lacks %q:\n%s", want, out.String())
		}
	}

	left, err := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "gosessions-bench-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("temporary directories left behind: %v %v", left, err)
	}
}

// TestClientCookiesFollow: with a followed cookie, a response that sets it
// replaces it in the client's Cookie header, the other cookies kept; any
// other cookie, or none followed, changes nothing.
func TestClientCookiesFollow(t *testing.T) {
	c := newClientCookies([]string{"csrftoken=x; sessionid=old", "csrftoken=y"}, "sessionid")
	c.update(0, []*http.Cookie{{Name: "other", Value: "z"}, {Name: "sessionid", Value: "new"}})
	c.update(1, []*http.Cookie{{Name: "sessionid", Value: "first"}})
	if got := c.get(0); got != "csrftoken=x; sessionid=new" {
		t.Errorf("client 0: %q", got)
	}
	if got := c.get(1); got != "csrftoken=y; sessionid=first" {
		t.Errorf("client 1: %q", got)
	}
	c.update(0, []*http.Cookie{{Name: "sessionid", Value: ""}}) // a deletion is not followed
	if got := c.get(0); got != "csrftoken=x; sessionid=new" {
		t.Errorf("client 0 after an empty cookie: %q", got)
	}
	fixed := newClientCookies([]string{"sessionid=a"}, "")
	fixed.update(0, []*http.Cookie{{Name: "sessionid", Value: "b"}})
	if got := fixed.get(0); got != "sessionid=a" {
		t.Errorf("without following: %q", got)
	}
}
