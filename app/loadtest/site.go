package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// bannerPrefix starts the line the site prints on stdout once it listens.
const bannerPrefix = "Starting development server at "

// startTimeout bounds how long a site may take to migrate and listen.
const startTimeout = time.Minute

// stopTimeout bounds its graceful shutdown; then it is killed.
const stopTimeout = 30 * time.Second

// site is a running site process.
type site struct {
	cmd     *exec.Cmd
	url     string // http://127.0.0.1:port, no trailing slash
	logPath string
	exited  chan struct{}
	waitErr error
}

// siteEnv returns the site's environment: the benchmark's own settings
// over the caller's environment (for duplicate keys exec uses the last).
func siteEnv(base []string, dbPath, secret string, extra ...string) []string {
	env := append([]string(nil), base...)
	env = append(env,
		"ADDR=127.0.0.1:0",
		"DATABASE_URL=sqlite:"+dbPath,
		"SECRET_KEY="+secret,
		"BENCH_ROUTES=1",
		"DEBUG=0",
	)
	return append(env, extra...)
}

// newSecret returns a random SECRET_KEY for one run.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return "bench-" + hex.EncodeToString(b)
}

// startSite starts the site binary bin with env, its log (stderr) going
// to logPath, and waits until it listens on a loopback address.
func startSite(ctx context.Context, bin string, env []string, logPath string) (*site, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("site binary %s: %w", bin, err)
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("site log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(abs)
	cmd.Env = env
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start site: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start site %s: %w", abs, err)
	}
	s := &site{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), bannerPrefix); ok {
				select {
				case found <- u:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case u := <-found:
		base, err := loopbackURL(u)
		if err != nil {
			s.stop()
			return nil, err
		}
		s.url = base
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("the site exited before listening (%v); its log ends with:\n%s", s.waitErr, tail(logPath, 20))
	case <-timer.C:
		s.stop()
		return nil, fmt.Errorf("the site did not listen within %v; its log ends with:\n%s", startTimeout, tail(logPath, 20))
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// loopbackURL checks that the banner's URL is on a loopback address and
// returns it without the trailing slash.
func loopbackURL(banner string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(banner))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("the site announced %q, not an http URL", banner)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() || u.Port() == "" {
		return "", fmt.Errorf("the site announced %q, not a loopback address with a port", banner)
	}
	return "http://" + u.Host, nil
}

// stop interrupts the site (a graceful shutdown) and waits for it, killing
// it after stopTimeout.
func (s *site) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("the site did not stop within %v and was killed", stopTimeout)
	}
}

// rss returns the site's resident memory in bytes, from /proc.
func (s *site) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read the site's memory: %w", err)
	}
	return vmRSS(b)
}

// clockTicks is the unit of the CPU times in /proc/PID/stat (USER_HZ),
// 100 per second on Linux.
const clockTicks = 100

// cpuTime returns the CPU time (user and system) the site has used so
// far, from /proc.
func (s *site) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read the site's CPU time: %w", err)
	}
	return statCPU(b)
}

// statCPU parses utime and stime, fields 14 and 15, of a /proc/PID/stat
// line. The command name, field 2, is in parentheses and may hold spaces,
// so fields are counted after its closing parenthesis.
func statCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("unexpected process stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0, errors.New("unexpected process stat: too few fields")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected process stat: CPU time %q", s)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// vmRSS parses the VmRSS line of a /proc/PID/status file.
func vmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected VmRSS line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS line in the process status")
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
