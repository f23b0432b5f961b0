package views_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// getRoutes are the paths that answer GET, so HEAD too.
var getRoutes = []string{
	"/", "/set", "/get", "/delete", "/pop", "/clear", "/flush", "/visits", "/login", "/logout",
	"/session", "/learn", "/api/session", "/static/site.css", "/healthz", "/readyz", "/get/", "/nowhere",
}

// TestHead: HEAD answers wherever GET does, with GET's status and headers
// and no body (RFC 9110).
func TestHead(t *testing.T) {
	s := newSite(t)
	s.get("/set") // a session, so that pages show data
	for _, p := range getRoutes {
		get := s.get(p)
		head := s.do(s.request(http.MethodHead, p, nil))
		if head.StatusCode != get.StatusCode {
			t.Errorf("HEAD %s: status %d, GET gave %d", p, head.StatusCode, get.StatusCode)
		}
		if head.body != "" {
			t.Errorf("HEAD %s: body %.80q", p, head.body)
		}
		for _, k := range []string{"Content-Type", "Cache-Control", "Vary", "Location", "Etag", "X-Frame-Options", "Content-Security-Policy"} {
			if g, h := get.Header.Values(k), head.Header.Values(k); strings.Join(g, ",") != strings.Join(h, ",") {
				t.Errorf("HEAD %s: %s %q, GET gave %q", p, k, h, g)
			}
		}
	}
}

// TestHeadSendsNoBody reads the raw bytes: a HEAD answered with a body
// would be read as the start of the next response on the connection.
func TestHeadSendsNoBody(t *testing.T) {
	s := newSite(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "HEAD /learn HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || !strings.HasPrefix(head.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HEAD /learn: %d %q", head.StatusCode, head.Header.Get("Content-Type"))
	}
	next, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("the response after HEAD does not parse (did HEAD send a body?): %v", err)
	}
	body, _ := io.ReadAll(next.Body)
	if next.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz after HEAD: %d %q", next.StatusCode, body)
	}
}

// TestHeadRunsTheView: as in Django, which runs the view for HEAD exactly
// as for GET, a HEAD of a page that changes the session changes it and
// sends the cookie.
func TestHeadRunsTheView(t *testing.T) {
	s := newSite(t)
	for range 2 {
		r := s.do(s.request(http.MethodHead, "/visits", nil))
		wantStatus(t, r, http.StatusOK)
	}
	if got := s.get("/visits").message(); got != "You have visited this page 3 times." {
		t.Errorf("after two HEADs and a GET: %q", got)
	}
	r := s.do(s.request(http.MethodHead, "/flush", nil))
	wantStatus(t, r, http.StatusOK)
	if ck := r.setCookie("sessionid"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("HEAD /flush: session cookie %v, want it deleted", ck)
	}
}
