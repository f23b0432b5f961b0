package faults

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", to read what the site stored
)

// Eight concurrent 40 MB multipart POSTs to /session, with a real CSRF
// cookie and no form token, and eight more without a Content-Length: all
// get 413 before CSRF reads a byte, and the site's peak memory stays
// within 100 MB of idle. Before the body limit: 403 after parsing every
// body, and a peak of 955 MB from 23 MB idle.
func TestBodyLimitBoundsMemory(t *testing.T) {
	s := startSite(t)
	ck := s.csrfCookie()
	idle := s.memoryKB("VmHWM")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormField("value")
	w.Write(bytes.Repeat([]byte("a"), 40<<20))
	mw.WriteField("key", "k")
	mw.Close()

	var wg sync.WaitGroup
	statuses := make(chan string, 16)
	for i := range 16 {
		wg.Go(func() {
			var r io.Reader = bytes.NewReader(body.Bytes())
			if i%2 == 1 {
				r = struct{ io.Reader }{r} // no length known: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, s.url+"/session", r)
			if err != nil {
				statuses <- err.Error()
				return
			}
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.AddCookie(ck)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- err.Error()
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- fmt.Sprintf("%d (chunked %v)", resp.StatusCode, i%2 == 1)
		})
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if !strings.HasPrefix(st, "413 ") {
			t.Errorf("a 40 MB POST got %s, want 413", st)
		}
	}
	peak := s.memoryKB("VmHWM")
	t.Logf("memory: idle %d kB, peak %d kB under 16 × 40 MB POSTs (+%d kB)", idle, peak, peak-idle)
	if peak-idle > 100<<10 {
		t.Errorf("peak memory %d kB is %d kB above idle (%d kB), want at most 100 MB", peak, peak-idle, idle)
	}
	resp, err := http.Get(s.url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the site no longer answers: %v %v", resp, err)
	}
	resp.Body.Close()
}

// SIGTERM under load and with a client sending its declared 100,000-byte
// body one byte every 2 s: READ_TIMEOUT cuts the slow client off, the
// requests in flight finish, the process exits 0 well inside the grace
// period, and every visit acknowledged with a 200 is stored. Before the
// timeouts: the slow client held the shutdown for the whole 25 s grace,
// then the site exited 1.
func TestSlowBodyDoesNotHoldShutdown(t *testing.T) {
	const grace = 10 * time.Second
	s := startSite(t, "READ_TIMEOUT=2", "WRITE_TIMEOUT=9", fmt.Sprintf("SHUTDOWN_TIMEOUT=%d", int(grace.Seconds())), "DEBUG=True")
	ck := s.csrfCookie()

	// The slow client: headers, then one byte of its body every 2 s.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /session HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\nCookie: csrftoken=%s\r\n\r\n", ck.Value)
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			if _, err := conn.Write([]byte("k")); err != nil {
				return
			}
			<-tick.C
		}
	}()

	// The load: clients of their own sessions counting visits.
	const workers = 4
	type worker struct {
		client *http.Client
		acked  atomic.Int64 // visits answered 200
	}
	ws := make([]*worker, workers)
	var load sync.WaitGroup
	for i := range ws {
		jar, _ := cookiejar.New(nil)
		ws[i] = &worker{client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
		w := ws[i]
		load.Go(func() {
			for {
				resp, err := w.client.Get(s.url + "/visits")
				if err != nil {
					return // the site has stopped
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return
				}
				w.acked.Add(1)
			}
		})
	}
	s.waitFor("the slow request and every worker under way", func() bool {
		if len(s.logLines("request started", "method=POST", "path=/session")) == 0 {
			return false
		}
		for _, w := range ws {
			if w.acked.Load() == 0 {
				return false
			}
		}
		return true
	})

	took, code := s.sigterm()
	load.Wait()
	t.Logf("SIGTERM with a slow client and %d clients under load: exit %d after %v (grace %v)", workers, code, took.Round(10*time.Millisecond), grace)
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if took > grace/2 {
		t.Errorf("the shutdown took %v, want well inside the %v grace", took, grace)
	}
	if got := s.logLines("status=408"); len(got) != 1 || !strings.Contains(got[0], "path=/session") {
		t.Errorf("want one log line, the slow request's 408 (READ_TIMEOUT); got %q", got)
	}
	<-slowDone

	db, err := sql.Open("sqlite3", s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	signer := signing.NewTimestampSigner(s.secret, nil, session.SessionSalt)
	for i, w := range ws {
		key := sessionKey(w.client, s.url)
		var raw string
		if err := db.QueryRow("SELECT session_data FROM django_session WHERE session_key = ?", key).Scan(&raw); err != nil {
			t.Fatalf("worker %d: session %q: %v", i, key, err)
		}
		data, err := signer.Loads(raw)
		if err != nil {
			t.Fatal(err)
		}
		stored, acked := fmt.Sprint(data["visits"]), w.acked.Load()
		// A visit stored but cut off before its 200 arrived is one more.
		if stored != fmt.Sprint(acked) && stored != fmt.Sprint(acked+1) {
			t.Errorf("worker %d: %d visits acknowledged, %s stored", i, acked, stored)
		}
	}
}

// sessionKey is the session cookie client holds for the site at u.
func sessionKey(client *http.Client, u string) string {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for _, c := range client.Jar.Cookies(req.URL) {
		if c.Name == "sessionid" {
			return c.Value
		}
	}
	return ""
}

// A store outage (the sessions table dropped under the running site):
// every request gets the 503 page, with the security headers; the log has
// one ERROR line for the first failure and, at shutdown, one line counting
// the identical failures after it; the process still exits 0. Before: three
// ERROR lines per 503 (the session's error hook, the error page, the
// request line).
func TestStoreOutageLogsOnce(t *testing.T) {
	s := startSite(t)
	db, err := sql.Open("sqlite3", s.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DROP TABLE django_session"); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		path := "/set" // the page replaced by a 503 when the session save fails
		if i%2 == 1 {
			path = "/visits" // the handler's Save fails
		}
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "The session store is unavailable") {
			t.Fatalf("GET %s during the outage: %d\n%.300s", path, resp.StatusCode, body)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("GET %s: the 503 page has no %s", path, h)
			}
		}
	}
	if got := s.logLines("level=ERROR"); len(got) != 1 {
		t.Errorf("%d failed requests wrote %d ERROR lines, want 1:\n%s", n, len(got), strings.Join(got, "\n"))
	}
	if _, code := s.sigterm(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	errs := s.logLines("level=ERROR")
	t.Logf("%d failed requests: %d ERROR lines in all", n, len(errs))
	if len(errs) != 2 || !strings.Contains(errs[1], fmt.Sprintf("count=%d", n-1)) || !strings.Contains(errs[1], "no such table: django_session") {
		t.Errorf("want the first failure and one line counting the %d others:\n%s", n-1, strings.Join(errs, "\n"))
	}
}
