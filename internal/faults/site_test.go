package faults

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/internal/redistest"
)

// siteBinary is the site built by TestMain.
var siteBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "faults-site-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	siteBinary = filepath.Join(dir, "site")
	build := exec.Command("go", "build", "-o", siteBinary, "github.com/djangosessions/gosessions")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: build the site:", err)
		return 1
	}
	// A Redis server for the tests that need one (redistest.URL).
	return redistest.Main(m)
}

// syncBuffer collects a process's log for a test to read while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// site is one running site process.
type site struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	dbPath string
	secret string
	logs   *syncBuffer
	exited chan struct{}
	exit   error // cmd.Wait's result, once exited is closed
}

// startSite runs the site binary on a free loopback port with a fresh
// SQLite database and env over the defaults, and returns once /readyz
// answers 200. The process is killed when the test ends, if still running.
func startSite(t *testing.T, env ...string) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{
		t: t, dbPath: filepath.Join(dir, "db.sqlite3"), secret: "faults-secret-key",
		logs: new(syncBuffer), exited: make(chan struct{}),
	}
	s.cmd = exec.Command(siteBinary)
	s.cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "DATABASE_URL=sqlite:"+s.dbPath, "SECRET_KEY="+s.secret)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stderr = s.logs
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Starting development server at "); ok {
				found <- strings.TrimSuffix(u, "/")
			}
		}
		s.exit = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("the site's log:\n%s", s.logs)
		}
	})
	select {
	case s.url = <-found:
	case <-s.exited:
		t.Fatalf("the site exited before listening (%v):\n%s", s.exit, s.logs)
	case <-time.After(time.Minute):
		t.Fatalf("the site did not listen within a minute:\n%s", s.logs)
	}
	s.waitFor("/readyz answers 200", func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// waitFor polls cond until it holds, failing the test after 30 s.
func (s *site) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logLines returns the lines of the site's log holding every one of subs.
func (s *site) logLines(subs ...string) []string {
	var out []string
	for _, l := range strings.Split(s.logs.String(), "\n") {
		ok := l != ""
		for _, sub := range subs {
			ok = ok && strings.Contains(l, sub)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// sigterm sends SIGTERM and waits for the process to exit, returning how
// long that took and its exit code.
func (s *site) sigterm() (time.Duration, int) {
	s.t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		s.t.Fatalf("the site did not exit within a minute of SIGTERM")
	}
	return time.Since(start), s.cmd.ProcessState.ExitCode()
}

// memoryKB returns a field of /proc/PID/status in kB: VmRSS, or VmHWM for
// the peak so far.
func (s *site) memoryKB(field string) int64 {
	s.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				s.t.Fatalf("%s: %q", field, l)
			}
			return n
		}
	}
	s.t.Fatalf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
	return 0
}

// csrfCookie returns the csrftoken cookie the site gives a new visitor.
func (s *site) csrfCookie() *http.Cookie {
	s.t.Helper()
	resp, err := http.Get(s.url + "/login")
	if err != nil {
		s.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "csrftoken" {
			return c
		}
	}
	s.t.Fatal("no csrftoken cookie from /login")
	return nil
}
