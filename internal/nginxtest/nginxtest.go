// Package nginxtest runs Debian's nginx for the tests, as a reverse proxy
// in front of the sites a test starts: one process on loopback ports, with
// a private prefix (its configuration, logs, pid and temporary files in a
// temporary directory), stopped when the test ends.
//
// The server blocks are the real configuration files a deployment uses,
// with only their addresses replaced ([Site]), so that what is tested is
// what the docs show.
//
// Without nginx the tests are skipped, or fail when the environment
// variable CI is set, so that a CI run can never pass without them.
package nginxtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary is Debian's nginx (make deps installs it).
const Binary = "/usr/sbin/nginx"

// Require returns nginx's version line. Without nginx the test fails
// under CI and is skipped elsewhere.
func Require(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(Binary, "-v").CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("nginx is not installed (make deps installs Debian's nginx): %v %s", err, bytes.TrimSpace(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return strings.TrimSpace(string(out))
}

// Site is one server block (or several) of the proxy: the text of a
// configuration file as it is deployed, and the replacements that point
// it at the test's sites.
type Site struct {
	// Conf is the configuration: what goes in nginx's http block
	// (upstream and server blocks).
	Conf string
	// Replace maps words of Conf to their test values: the addresses it
	// listens on and proxies to, the names of its upstreams (which must
	// differ between the sites of one nginx). A key is replaced where it
	// stands as a whole word ("go_site" is not replaced inside
	// "django_site"), and must stand somewhere, so that a changed file is
	// an error rather than a test of something else.
	Replace map[string]string
	// Listen is the key of Replace whose value is the address nginx
	// listens on for this site ("127.0.0.1:8080"): Start gives it a free
	// loopback port.
	Listen string
}

// Server is a running nginx.
type Server struct {
	dir  string
	cmd  *exec.Cmd
	log  string
	urls []string
	mu   sync.Mutex
	done chan struct{}
	err  error
}

// URL returns the base URL of the i-th site ("http://127.0.0.1:PORT").
func (s *Server) URL(i int) string { return s.urls[i] }

// Request is one line of the access log.
type Request struct {
	Status int
	Method string
	URI    string
}

// Requests returns the requests the i-th site has answered so far, in
// order. nginx logs a request once its response is sent, so the last
// lines may come a moment after the client read the response: Requests
// waits until the log has stopped growing for 50 ms (2 s at most).
func (s *Server) Requests(i int) []Request {
	prev := s.requests(i)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		cur := s.requests(i)
		if len(cur) == len(prev) {
			return cur
		}
		prev = cur
	}
	return prev
}

func (s *Server) requests(i int) []Request {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.urls[i], "http://"))
	b, _ := os.ReadFile(filepath.Join(s.dir, "access.log"))
	var out []Request
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != port {
			continue
		}
		status, _ := strconv.Atoi(f[1])
		out = append(out, Request{Status: status, Method: f[2], URI: f[3]})
	}
	return out
}

// ErrorLog returns nginx's error log so far.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Start runs one nginx serving every site until the test ends. Each
// site's Listen address is replaced by a free loopback port, and the
// site's URL is Server.URL(i). A port taken between choosing and binding
// is retried with another.
func Start(t testing.TB, sites ...Site) *Server {
	t.Helper()
	Require(t)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(t, sites)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("nginxtest: %v", lastErr)
	return nil
}

var errAddrInUse = errors.New("address in use")

func start(t testing.TB, sites []Site) (*Server, error) {
	dir := t.TempDir()
	s := &Server{dir: dir, log: filepath.Join(dir, "error.log"), done: make(chan struct{})}
	var includes []string
	var listens []string
	for i, site := range sites {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		repl := map[string]string{}
		for k, v := range site.Replace {
			repl[k] = v
		}
		if site.Listen == "" {
			return nil, fmt.Errorf("site %d: Listen names no address to replace", i)
		}
		repl[site.Listen] = addr
		conf, err := Substitute(site.Conf, repl)
		if err != nil {
			return nil, fmt.Errorf("site %d: %w", i, err)
		}
		name := filepath.Join(dir, fmt.Sprintf("site%d.conf", i))
		if err := os.WriteFile(name, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		includes = append(includes, "    include "+name+";")
		listens = append(listens, addr)
		s.urls = append(s.urls, "http://"+addr)
	}
	for _, sub := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	// One process (master_process off) in the foreground: the process
	// started is the one stopped. Running as root, it keeps root's
	// identity, with every file in dir.
	main := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 512; }
http {
    log_format nginxtest '$server_port $status $request_method $request_uri';
    access_log %[1]s/access.log nginxtest;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, strings.Join(includes, "\n"))
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(main), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command(Binary, "-t", "-p", dir, "-e", s.log, "-c", confPath).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	s.cmd = exec.Command(Binary, "-p", dir, "-e", s.log, "-c", confPath)
	s.cmd.SysProcAttr = procAttr()
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range listens {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.done:
				log := s.ErrorLog() + stderr.String()
				if strings.Contains(log, "Address already in use") {
					return nil, fmt.Errorf("%w: %s", errAddrInUse, log)
				}
				return nil, fmt.Errorf("nginx exited: %v\n%s", s.err, log)
			default:
			}
			if time.Now().After(deadline) {
				s.stop()
				return nil, fmt.Errorf("nginx does not listen on %s after 10 s\n%s", addr, s.ErrorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s, nil
}

// stop ends nginx (SIGQUIT would wait for keep-alive connections; the
// test is over, so it is killed) and waits for it.
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Substitute returns conf with each key of repl replaced by its value
// where it stands as a whole word (not inside a longer run of letters,
// digits, "_" or "."), and an error naming any key that stands nowhere.
// Longer keys are replaced first.
func Substitute(conf string, repl map[string]string) (string, error) {
	keys := make([]string, 0, len(repl))
	for k := range repl {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	var missing []string
	for _, k := range keys {
		out, n := replaceWord(conf, k, repl[k])
		if n == 0 {
			missing = append(missing, strconv.Quote(k))
		}
		conf = out
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("the configuration has none of %s to replace", strings.Join(missing, ", "))
	}
	return conf, nil
}

// replaceWord replaces every whole-word k in s by v, and says how many.
func replaceWord(s, k, v string) (string, int) {
	if k == "" {
		return s, 0
	}
	var b strings.Builder
	n := 0
	for {
		i := strings.Index(s, k)
		if i < 0 {
			b.WriteString(s)
			return b.String(), n
		}
		end := i + len(k)
		if (i > 0 && isWord(s[i-1])) || (end < len(s) && isWord(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[end:]
		n++
	}
}

func isWord(c byte) bool {
	return c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}
