package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{}) // as main does: the tests of unreachable Redis would print dial errors
	os.Exit(redistest.Main(m))
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// visitor is a browser: its own cookie jar.
func visitor(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

// visits GETs /visits on base and returns the count the page says.
func visits(t *testing.T, c *http.Client, base string) int {
	t.Helper()
	resp, err := c.Get(base + "/visits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var n int
	if _, err := fmt.Sscanf(between(string(body), "You have visited this page ", " times"), "%d", &n); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/visits: %d %.200s", base, resp.StatusCode, body)
	}
	return n
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestRunRedisEngines: SESSION_ENGINE=cache and cached_db with CACHE_URL.
// Two site processes (two Run calls) share the sessions: a visit counted
// on one is seen by the other, for both engines.
func TestRunRedisEngines(t *testing.T) {
	redisURL := redistest.URL(t)
	for _, engine := range []string{"cache", "cached_db"} {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{
				"SESSION_ENGINE": engine, "CACHE_URL": redisURL, "SECRET_KEY": "redis-run-test",
				"DATABASE_URL": "sqlite:" + filepath.Join(dir, "db.sqlite3"),
			}
			a, b := startSite(t, env), startSite(t, env)
			c := visitor(t)
			for i, base := range []string{a.url, b.url, a.url, b.url} {
				if n := visits(t, c, base); n != i+1 {
					t.Fatalf("visit %d (%s) counted %d", i+1, base, n)
				}
			}
			if strings.Contains(a.logs.String(), "process's memory") {
				t.Errorf("the site warned of process memory with CACHE_URL set:\n%s", a.logs)
			}
		})
	}
}

// TestRunRedisUnreachable: a Redis that is not there is an error at start
// for the cache engine (the sessions would have nowhere to go) and a
// warning for cached_db, which serves from the database meanwhile; CACHE_URL
// never shows its password.
func TestRunRedisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	url := "redis://:hunter2@" + closed + "/0?dial_timeout=200ms&max_retries=-1"
	dir := t.TempDir()
	env := map[string]string{"SESSION_ENGINE": "cache", "CACHE_URL": url, "SECRET_KEY": "k", "DATABASE_URL": "sqlite:" + filepath.Join(dir, "db.sqlite3")}
	var stdout, stderr syncBuffer
	err = RunWith(t.Context(), Options{}, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), closed) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Run with an unreachable Redis (cache) = %v, want one line naming the address without the password", err)
	}

	env["SESSION_ENGINE"] = "cached_db"
	s := startSite(t, env)
	if n := visits(t, visitor(t), s.url); n != 1 {
		t.Errorf("cached_db without Redis counted %d", n)
	}
	if !strings.Contains(s.logs.String(), "Redis does not answer") || strings.Contains(s.logs.String(), "hunter2") {
		t.Errorf("no warning (or the password) in the log:\n%s", s.logs)
	}

	env["CACHE_URL"] = "mysql://" + closed
	if _, err := LoadConfig(nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "CACHE_URL") {
		t.Errorf("a malformed CACHE_URL: %v, want an error naming the setting", err)
	}
}
