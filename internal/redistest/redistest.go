// Package redistest gives tests a real Redis: the server that the
// environment variable TEST_REDIS_URL names, or one that the test binary
// starts for itself from Debian's redis-server (make deps installs it) on
// a free loopback port, in a temporary directory.
//
// A package's TestMain calls [Main] once; each test then calls [Client]
// for a client of its own and [Prefix] for a key prefix of its own, so
// tests never see each other's keys (and a shared TEST_REDIS_URL server is
// never flushed). Tests that must stop, restart or freeze Redis start a
// private server with [Start].
//
// Without redis-server and without TEST_REDIS_URL the tests that need
// Redis are skipped, or fail when the environment variable CI is set, so
// that a CI run can never pass without them.
package redistest

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable holding the test server's URL.
const EnvURL = "TEST_REDIS_URL"

// Main runs the package's tests (m.Run) with a Redis server: the one
// TEST_REDIS_URL names, or else one it starts, whose URL it puts in
// TEST_REDIS_URL for the tests (and for child processes they start), and
// which it stops afterwards. Without either, tests that need Redis skip
// (or fail under CI), and runnable examples, which cannot skip, are left
// out with a note. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	flag.Parse()
	if os.Getenv(EnvURL) != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(dir, 0)
	if err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintf(os.Stderr, "redistest: %v: CI must test Redis (make deps installs redis-server)\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "redistest: %v: skipping the tests and examples that need Redis\n", err)
		if f := flag.Lookup("test.skip"); f != nil && f.Value.String() == "" {
			f.Value.Set("^Example")
		}
		return m.Run()
	}
	defer srv.stop()
	os.Setenv(EnvURL, srv.URL())
	return m.Run()
}

// URL returns the URL of the test server, skipping the test when there is
// none, or failing it when the environment variable CI is set.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set and no redis-server could be started: CI must test Redis (make deps installs it)", EnvURL)
		}
		t.Skipf("%s is not set and no redis-server could be started: skipping a Redis test (make deps installs it)", EnvURL)
	}
	return u
}

// Options returns client options for url with short timeouts, so that a
// test against a dead server fails fast.
func Options(t testing.TB, url string) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = 2 * time.Second
	opt.WriteTimeout = 2 * time.Second
	opt.ContextTimeoutEnabled = true
	return opt
}

// Client returns a new client (with a connection pool of its own, as a
// separate process would have) to the test server, closed when the test
// ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	return ClientFor(t, URL(t))
}

// ClientFor returns a new client to the server at url, closed when the
// test ends.
func ClientFor(t testing.TB, url string) *redis.Client {
	t.Helper()
	c := redis.NewClient(Options(t, url))
	t.Cleanup(func() { c.Close() })
	return c
}

// Prefix returns a key prefix of the test's own, and deletes the keys
// under it when the test ends.
func Prefix(t testing.TB) string {
	t.Helper()
	prefix := "redistest:" + strings.ToLower(rand.Text()[:12]) + ":"
	url := URL(t)
	t.Cleanup(func() {
		c := redis.NewClient(Options(t, url))
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				c.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			c.Unlink(ctx, keys...)
		}
	})
	return prefix
}

// Server is a redis-server process of the test's own, which the test may
// kill, restart and freeze.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// Start starts a private redis-server for t, in a directory of its own,
// stopped when the test ends. Its data lives in that directory
// (dump.rdb), written only by SAVE: a restart then loads what the last
// SAVE wrote.
func Start(t testing.TB) *Server {
	t.Helper()
	srv, err := startServer(t.TempDir(), 0)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("start redis-server: %v (make deps installs it)", err)
		}
		t.Skipf("start redis-server: %v: skipping (make deps installs it)", err)
	}
	t.Cleanup(srv.stop)
	return srv
}

// URL returns the server's URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Kill kills the server (SIGKILL): what it did not SAVE is lost, and
// clients' connections break.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill redis-server: %v", err)
	}
	<-s.done
}

// Restart starts the server again on the same port with the same data
// directory, after Kill: it loads the last SAVE.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	srv, err := startServer(s.dir, s.port)
	if err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	s.cmd, s.done = srv.cmd, srv.done
}

// Pause freezes the server (SIGSTOP): it keeps its connections but answers
// nothing, like a host that hangs. Resume undoes it.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("pause redis-server: %v", err)
	}
}

// Resume lets a paused server run again.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("resume redis-server: %v", err)
	}
}

// startServer starts redis-server in dir on port (a free one when 0) and
// waits until it answers.
func startServer(dir string, port int) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is not installed")
	}
	var lastErr error
	for range 10 {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return nil, err
			}
		}
		srv, err := launch(bin, dir, p)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if port != 0 {
			// The same port is wanted: it may take a moment to be free.
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launch(bin, dir string, port int) (*Server, error) {
	log := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--protected-mode", "no",
		"--dir", dir, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
		"--logfile", log, "--daemonize", "no", "--enable-debug-command", "local")
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &Server{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	// Wait until it answers PING, or exits (port taken, bad option).
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			out, _ := os.ReadFile(log)
			return nil, fmt.Errorf("redis-server exited at start: %s", lastLine(string(out)))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on port %d does not answer: %w", port, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// stop kills the server if it runs (a paused one too).
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}
