// Package exampletest runs the example programs the docs show (in
// docs/examples) as a reader would run them, and checks what they promise:
// a visit counter whose session survives, Django's cookie defaults, a
// login that cycles the key, a logout that flushes, and cross-site POSTs
// refused.
package exampletest

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SecretKey is the SECRET_KEY an example runs with.
const SecretKey = "example-test-key"

// SQLite returns the URL of a fresh SQLite file for an example.
func SQLite(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "app.db")
}

// Start runs main, an example's main function, with its settings in the
// environment (databaseURL, SecretKey, a free port), waits until it
// serves, and returns its address (http://host:port). main never returns;
// it serves until the test binary exits.
func Start(t *testing.T, main func(), databaseURL string) (base string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("ADDR", addr)
	t.Setenv("DATABASE_URL", databaseURL)
	t.Setenv("SECRET_KEY", SecretKey)
	go main()
	base = "http://" + addr
	waitServing(t, base)
	return base
}

// Client is a browser: it keeps cookies and does not follow redirects.
func Client(t *testing.T) (*http.Client, http.CookieJar) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, jar
}

// Check runs the visit counter of the README's programs on databaseURL
// and walks its routes.
func Check(t *testing.T, main func(), databaseURL string) {
	t.Helper()
	base := Start(t, main, databaseURL)
	client, jar := Client(t)

	body, resp := Get(t, client, base+"/visits")
	Want(t, body, "Hello Guest, you have visited this page 1 times.")
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sessionid" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("no sessionid cookie: %v", resp.Header["Set-Cookie"])
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Errorf("cookie %q: want Django's defaults, HttpOnly, SameSite=Lax, Path=/", resp.Header.Get("Set-Cookie"))
	}
	body, _ = Get(t, client, base+"/visits")
	Want(t, body, "you have visited this page 2 times.")

	// A cross-site form post is refused before it reaches the session.
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader("username=mallory"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp = Do(t, client, req)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /login: status %d, want 403", resp.StatusCode)
	}

	old := SessionKey(t, jar, base)
	resp, err := client.PostForm(base+"/login", url.Values{"username": {"ada"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /login: status %d, want 303", resp.StatusCode)
	}
	if k := SessionKey(t, jar, base); k == old || k == "" {
		t.Errorf("login kept the session key %q: want a new one", k)
	}
	body, _ = Get(t, client, base+"/visits")
	Want(t, body, "Hello ada, you have visited this page 3 times.")

	resp, err = client.PostForm(base+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	body, _ = Get(t, client, base+"/visits")
	Want(t, body, "Hello Guest, you have visited this page 1 times.")
}

// waitServing waits until base answers.
func waitServing(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example does not answer at %s: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Get asks for u and returns the body of its 200 answer.
func Get(t *testing.T, client *http.Client, u string) (string, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := Do(t, client, req)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, b)
	}
	return string(b), resp
}

// Do sends req, the body closed when the test ends.
func Do(t *testing.T, client *http.Client, req *http.Request) *http.Response {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Want fails the test unless body contains text.
func Want(t *testing.T, body, text string) {
	t.Helper()
	if !strings.Contains(body, text) {
		t.Errorf("got %q, want %q", body, text)
	}
}

// SessionKey is the session cookie the jar holds for base.
func SessionKey(t *testing.T, jar http.CookieJar, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range jar.Cookies(u) {
		if c.Name == "sessionid" {
			return c.Value
		}
	}
	return ""
}
