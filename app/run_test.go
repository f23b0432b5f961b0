package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", to hold the write lock from outside
)

// site is one Run of the site in the background.
type site struct {
	url    string // http://127.0.0.1:PORT
	cancel context.CancelFunc
	done   chan error // Run's result
	stdout *syncBuffer
	logs   *syncBuffer
}

// startSite runs the site on a free port of 127.0.0.1 with the given
// environment and returns once it listens.
func startSite(t *testing.T, env map[string]string) *site {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &site{cancel: cancel, done: make(chan error, 1), stdout: new(syncBuffer), logs: new(syncBuffer)}
	ready := make(chan string, 1)
	opts := Options{Ready: func(addr string) { ready <- addr }}
	go func() {
		s.done <- RunWith(ctx, opts, []string{"-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, s.stdout, s.logs)
	}()
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-s.done:
		cancel()
		t.Fatalf("Run returned before listening: %v\n%s", err, s.logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("Run did not listen within 30 s:\n%s", s.logs)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return s
}

// stop cancels Run's context and returns Run's result.
func (s *site) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("Run did not return within 15 s of cancel:\n%s", s.logs)
		return nil
	}
}

// waitLog waits until the log holds every one of want on one line.
func (s *site) waitLog(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			if containsAll(line, want) {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no log line with %q within 10 s:\n%s", want, s.logs)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestRunMigratesServesAndStops(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "site.sqlite3")
	env := map[string]string{"DATABASE_URL": "sqlite:" + dbPath}

	s := startSite(t, env)
	s.waitLog(t, "applied migration", "0001_create_django_session")
	if !strings.Contains(s.stdout.String(), "Starting development server at "+s.url+"/") {
		t.Errorf("stdout does not give the bound URL %s: %q", s.url, s.stdout)
	}
	s.waitLog(t, "listening", "url="+s.url+"/")
	s.waitLog(t, "level=INFO", "assuming the Django release", "DJANGO_VERSION=5.2 pbkdf2_iterations=1000000")
	if _, err := os.Stat(dbPath + ".secret_key"); err != nil {
		t.Errorf("no development secret key beside the database: %v", err)
	}
	s.waitLog(t, "level=WARN", "SECRET_KEY is not set")

	resp, body := get(t, s.url+"/")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / = %d, want 200: %.300s", resp.StatusCode, body)
	}
	s.waitLog(t, "msg=request", "path=/", "status=200")

	if err := s.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	s.waitLog(t, "stopped")
	if _, err := http.Get(s.url + "/"); err == nil {
		t.Error("the site still answers after Run returned")
	}

	// A second start finds nothing to migrate and keeps the key.
	key, _ := os.ReadFile(dbPath + ".secret_key")
	s = startSite(t, env)
	if strings.Contains(s.logs.String(), "applied migration") {
		t.Errorf("second start applied migrations again:\n%s", s.logs)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("second Run = %v", err)
	}
	if again, _ := os.ReadFile(dbPath + ".secret_key"); string(again) != string(key) {
		t.Error("the development key changed between starts")
	}
}

func TestRunWithSecretKeyMakesNoKeyFile(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "db.sqlite3")
	s := startSite(t, map[string]string{"DATABASE_URL": dbPath, "SECRET_KEY": "from-the-environment"})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dbPath + ".secret_key"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file made although SECRET_KEY is set (stat: %v)", err)
	}
	if strings.Contains(s.logs.String(), "SECRET_KEY is not set") {
		t.Errorf("warned about SECRET_KEY although it is set:\n%s", s.logs)
	}
}

// SIGTERM while a request that writes its session is in flight: the site
// stops accepting, the request completes with its session saved, and Run
// returns nil. The request is held in flight by another connection's
// write lock on the database, so its session write is what the shutdown
// waits for.
func TestRunShutdownFinishesSessionWriteInFlight(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "db.sqlite3")
	const secret = "shutdown-test-key"
	s := startSite(t, map[string]string{"DATABASE_URL": dbPath, "SECRET_KEY": secret, "DEBUG": "True"})

	locker, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	lock, err := locker.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	type result struct {
		resp *http.Response
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get(s.url + "/visits")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		res <- result{resp, string(body), err}
	}()
	s.waitLog(t, "request started", "path=/visits")

	s.cancel() // SIGTERM
	s.waitLog(t, "shutting down")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), time.Second)
		if err != nil {
			break // no longer accepting
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5 s after the shutdown began")
		}
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		t.Fatalf("Run returned %v while a request was in flight", err)
	case r := <-res:
		t.Fatalf("the request finished while the database was locked: %+v", r)
	default:
	}

	if _, err := lock.ExecContext(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil {
		t.Fatalf("the request in flight failed: %v", r.err)
	}
	if r.resp.StatusCode != http.StatusOK {
		t.Errorf("GET /visits = %d, want 200: %.300s", r.resp.StatusCode, r.body)
	}
	var key string
	for _, c := range r.resp.Cookies() {
		if c.Name == "sessionid" {
			key = c.Value
		}
	}
	if key == "" {
		t.Fatalf("no session cookie in the response: %v", r.resp.Header)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	var data string
	if err := locker.QueryRowContext(t.Context(), "SELECT session_data FROM django_session WHERE session_key = ?", key).Scan(&data); err != nil {
		t.Fatalf("the session write of the request in flight is not in the database: %v", err)
	}
	got, err := signing.NewTimestampSigner(secret, nil, session.SessionSalt).Loads(data)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got["visits"]) != "1" {
		t.Errorf("stored session = %v, want visits 1", got)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad setting", nil, map[string]string{"SESSION_COOKIE_SAMESITE": "sometimes"}, "SESSION_COOKIE_SAMESITE"},
		{"unknown flag", []string{"-port=1"}, nil, "-port"},
		{"missing directory", nil, map[string]string{"DATABASE_URL": filepath.Join(dir, "nope", "db.sqlite3")}, "does not exist"},
		{"postgres", nil, map[string]string{"DATABASE_URL": "postgres://u:pw@localhost/db"}, "postgres"},
		{"address in use", []string{"-addr", busy.Addr().String()}, map[string]string{"DATABASE_URL": filepath.Join(dir, "db.sqlite3"), "SECRET_KEY": "k"}, "listen on " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			ready := false
			err := RunWith(t.Context(), Options{Ready: func(string) { ready = true }}, tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error mentioning %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error shows the database password: %q", err)
			}
			if ready {
				t.Error("Ready was called")
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr syncBuffer
	if err := Run(t.Context(), []string{"-h"}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("Run -h = %v", err)
	}
	for _, want := range []string{"Usage:", "DATABASE_URL", "-database-url", "SESSION_COOKIE_AGE"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stdout.String())
		}
	}
}
