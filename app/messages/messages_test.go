package messages_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

const testSecret = "django-insecure-messages-test-key"

// shown is a message as the test site answers it.
type shown struct {
	Level int    `json:"level"`
	Text  string `json:"message"`
	Tags  string `json:"tags"`
}

// testSite serves /add?level=&message=...&tags= (Add, or AddTags), /read
// (Get) and /session (the session's _messages), through the session and
// messages middlewares, on net/http or on Echo.
type testSite struct {
	url      string
	sessions *session.Manager
	msgs     *messages.Manager
}

func newTestSite(t *testing.T, echoSite bool, configure func(*messages.Config)) *testSite {
	t.Helper()
	scfg := session.DefaultConfig()
	scfg.Store = memstore.New(nil)
	scfg.SecretKey = testSecret
	sm, err := session.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	mcfg := messages.Config{SecretKey: testSecret}
	if configure != nil {
		configure(&mcfg)
	}
	mm, err := messages.New(mcfg)
	if err != nil {
		t.Fatal(err)
	}
	add := func(r *http.Request) error {
		level, _ := strconv.Atoi(r.FormValue("level"))
		for _, text := range r.Form["message"] {
			if err := messages.AddTags(r.Context(), messages.Level(level), text, r.FormValue("tags")); err != nil {
				return err
			}
		}
		return nil
	}
	read := func(r *http.Request) []shown {
		out := []shown{}
		for _, m := range messages.Get(r.Context()) {
			out = append(out, shown{int(m.Level), m.Text, m.Tags()})
		}
		return out
	}
	stored := func(r *http.Request) string {
		v, _ := session.FromContext(r.Context()).Get(messages.SessionKey, "").(string)
		return v
	}
	var h http.Handler
	if echoSite {
		e := echo.New()
		e.Use(sm.Middleware(), mm.Middleware())
		e.GET("/add", func(c echo.Context) error { return add(c.Request()) })
		e.GET("/read", func(c echo.Context) error { return c.JSON(http.StatusOK, read(c.Request())) })
		e.GET("/read-then-add", func(c echo.Context) error {
			got := read(c.Request())
			if err := add(c.Request()); err != nil {
				return err
			}
			return c.JSON(http.StatusOK, got)
		})
		e.GET("/session", func(c echo.Context) error { return c.String(http.StatusOK, stored(c.Request())) })
		e.GET("/fail", func(c echo.Context) error {
			add(c.Request())
			return errors.New("boom")
		})
		h = e
	} else {
		mux := http.NewServeMux()
		mux.HandleFunc("/add", func(w http.ResponseWriter, r *http.Request) {
			if err := add(r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		})
		mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(read(r)) })
		mux.HandleFunc("/read-then-add", func(w http.ResponseWriter, r *http.Request) {
			got := read(r)
			add(r)
			json.NewEncoder(w).Encode(got)
		})
		mux.HandleFunc("/session", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, stored(r)) })
		h = sm.Handler(mm.Handler(mux))
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testSite{url: srv.URL, sessions: sm, msgs: mm}
}

// visitor is one browser on the test site.
type visitor struct {
	t      *testing.T
	site   *testSite
	client *http.Client
}

func (s *testSite) visitor(t *testing.T) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, site: s, client: &http.Client{Jar: jar}}
}

func (v *visitor) get(path string) *http.Response {
	v.t.Helper()
	resp, err := v.client.Get(v.site.url + path)
	if err != nil {
		v.t.Fatal(err)
	}
	return resp
}

func (v *visitor) add(level messages.Level, tags string, texts ...string) {
	v.t.Helper()
	q := url.Values{"level": {strconv.Itoa(int(level))}, "message": texts, "tags": {tags}}
	resp := v.get("/add?" + q.Encode())
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		v.t.Fatalf("add: %s", resp.Status)
	}
}

func (v *visitor) read() []shown {
	v.t.Helper()
	return v.decode(v.get("/read"))
}

func (v *visitor) decode(resp *http.Response) []shown {
	v.t.Helper()
	defer resp.Body.Close()
	var got []shown
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		v.t.Fatalf("%s: %v", resp.Request.URL.Path, err)
	}
	return got
}

func (v *visitor) cookie() string {
	u, _ := url.Parse(v.site.url)
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == messages.CookieName {
			return c.Value
		}
	}
	return ""
}

func (v *visitor) sessionMessages() string {
	v.t.Helper()
	resp := v.get("/session")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// noise returns n letters and digits that zlib cannot shrink much, the
// same for a seed on every run.
func noise(n int, seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rnd := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}

func bothRouters(t *testing.T, test func(t *testing.T, echoSite bool)) {
	for _, echoSite := range []bool{false, true} {
		name := "net/http"
		if echoSite {
			name = "Echo"
		}
		t.Run(name, func(t *testing.T) { test(t, echoSite) })
	}
}

// TestShownOnce: a message added by one request is shown by the next
// page that reads, with its level and tags, and never again.
func TestShownOnce(t *testing.T) {
	bothRouters(t, func(t *testing.T, echoSite bool) {
		v := newTestSite(t, echoSite, nil).visitor(t)
		v.add(messages.Success, "", "Saved.")
		v.add(messages.Warning, "sticky", "Check the form.")
		if v.cookie() == "" {
			t.Fatal("no messages cookie after Add")
		}
		want := []shown{{25, "Saved.", "success"}, {30, "Check the form.", "sticky warning"}}
		if got := v.read(); !reflect.DeepEqual(got, want) {
			t.Fatalf("first read: %+v, want %+v", got, want)
		}
		if v.cookie() != "" {
			t.Error("the messages cookie outlived the read")
		}
		if got := v.read(); len(got) != 0 {
			t.Fatalf("second read: %+v, want none", got)
		}
	})
}

// TestLevelsAndEmpty: Django's levels and tags; a message below
// MESSAGE_LEVEL (DEBUG, by default) or with no text is not recorded; a
// level of the site's own has no level tag.
func TestLevelsAndEmpty(t *testing.T) {
	v := newTestSite(t, false, nil).visitor(t)
	v.add(messages.Debug, "", "debug")
	v.add(messages.Info, "", "")
	if got := v.read(); len(got) != 0 {
		t.Fatalf("DEBUG and empty messages were recorded: %+v", got)
	}
	for _, l := range []messages.Level{messages.Info, messages.Success, messages.Warning, messages.Error, 35} {
		v.add(l, "", "at "+strconv.Itoa(int(l)))
	}
	want := []shown{{20, "at 20", "info"}, {25, "at 25", "success"}, {30, "at 30", "warning"}, {40, "at 40", "error"}, {35, "at 35", ""}}
	if got := v.read(); !reflect.DeepEqual(got, want) {
		t.Fatalf("read: %+v, want %+v", got, want)
	}

	v = newTestSite(t, false, func(c *messages.Config) { c.Level = messages.Debug }).visitor(t)
	v.add(messages.Debug, "", "debug")
	if got := v.read(); !reflect.DeepEqual(got, []shown{{10, "debug", "debug"}}) {
		t.Fatalf("with Level Debug: %+v", got)
	}
}

// TestAddedAfterReadWaits: a message added after the page read the
// messages is kept for the next one; a request that reads nothing keeps
// what it found and adds to it.
func TestAddedAfterReadWaits(t *testing.T) {
	bothRouters(t, func(t *testing.T, echoSite bool) {
		v := newTestSite(t, echoSite, nil).visitor(t)
		v.add(messages.Info, "", "one")
		got := v.decode(v.get("/read-then-add?" + url.Values{"level": {"20"}, "message": {"two"}}.Encode()))
		if !reflect.DeepEqual(got, []shown{{20, "one", "info"}}) {
			t.Fatalf("read then add: read %+v", got)
		}
		v.add(messages.Info, "", "three")
		if got := v.read(); !reflect.DeepEqual(got, []shown{{20, "two", "info"}, {20, "three", "info"}}) {
			t.Fatalf("next read: %+v, want two, three", got)
		}
	})
}

// TestTooLargeForTheCookie: what does not fit in 2048 bytes of cookie
// goes to the session, the oldest messages staying in the cookie; all
// are read back in order, and both places are emptied.
func TestTooLargeForTheCookie(t *testing.T) {
	bothRouters(t, func(t *testing.T, echoSite bool) {
		v := newTestSite(t, echoSite, nil).visitor(t)
		var texts []string
		for i := range 4 {
			texts = append(texts, fmt.Sprintf("%d:%s", i, noise(900, uint64(i))))
		}
		v.add(messages.Error, "", texts...)
		if n := len(v.cookie()); n == 0 || n > messages.MaxCookieSize {
			t.Fatalf("cookie of %d bytes, want 1 to %d", n, messages.MaxCookieSize)
		}
		if s := v.sessionMessages(); !strings.Contains(s, texts[3]) || strings.Contains(s, texts[0]) {
			t.Fatalf("session holds %.80q..., want the newest messages only", s)
		}
		got := v.read()
		if len(got) != len(texts) {
			t.Fatalf("read %d messages, want %d", len(got), len(texts))
		}
		for i, m := range got {
			if m.Text != texts[i] || m.Level != 40 {
				t.Errorf("message %d: %d %.20q, want %.20q", i, m.Level, m.Text, texts[i])
			}
		}
		if v.cookie() != "" || v.sessionMessages() != "" {
			t.Error("the messages outlived the read in the cookie or the session")
		}

		// A message too large for any cookie: the cookie holds only the
		// marker, the session the message.
		big := noise(3000, 99)
		v.add(messages.Info, "", big)
		if got := v.read(); len(got) != 1 || got[0].Text != big {
			t.Fatalf("a message over the cookie size: read %d messages", len(got))
		}
	})
}

// TestBadCookie: a messages cookie that fails its signature (another key,
// or tampered) shows nothing and is deleted at the next read.
func TestBadCookie(t *testing.T) {
	s := newTestSite(t, false, nil)
	other := newTestSite(t, false, func(c *messages.Config) { c.SecretKey = "another key" })
	o := other.visitor(t)
	o.add(messages.Info, "", "signed with another key")
	forged := o.cookie()
	for name, value := range map[string]string{"another key": forged, "tampered": forged[:10] + "x" + forged[11:], "garbage": "not:a:cookie"} {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/read", nil)
		req.Header.Set("Cookie", messages.CookieName+"="+value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got []shown
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if len(got) != 0 {
			t.Errorf("%s: read %+v, want nothing", name, got)
		}
		deleted := false
		for _, c := range resp.Cookies() {
			deleted = deleted || c.Name == messages.CookieName && c.MaxAge < 0
		}
		if !deleted {
			t.Errorf("%s: the bad cookie was not deleted: %q", name, resp.Header.Values("Set-Cookie"))
		}
	}
	// Keys rotate: a cookie signed with a fallback key is read.
	rotated := newTestSite(t, false, func(c *messages.Config) { c.SecretKeyFallbacks = []string{"another key"} })
	req, _ := http.NewRequest(http.MethodGet, rotated.url+"/read", nil)
	req.Header.Set("Cookie", messages.CookieName+"="+forged)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got []shown
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if len(got) != 1 || got[0].Text != "signed with another key" {
		t.Errorf("a cookie signed with a fallback key: read %+v", got)
	}
}

// TestNoMiddleware: Add without the middleware is ErrNoMiddleware, and
// Get returns nothing.
func TestNoMiddleware(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if err := messages.Add(r.Context(), messages.Info, "x"); !errors.Is(err, messages.ErrNoMiddleware) {
		t.Errorf("Add without the middleware = %v, want ErrNoMiddleware", err)
	}
	if got := messages.Get(r.Context()); got != nil {
		t.Errorf("Get without the middleware = %v", got)
	}
	if _, err := messages.New(messages.Config{}); err == nil {
		t.Error("New without a SecretKey: no error")
	}
	if _, err := messages.New(messages.Config{SecretKey: "k", DjangoVersion: "five"}); err == nil {
		t.Error("New with DjangoVersion \"five\": no error")
	}
}

// TestCookieSettingsRefused: the messages cookie's attributes are
// checked as the session cookie's are: SameSite=None without Secure
// (browsers drop it) and a SameSite out of range are refused; None with
// Secure, and the attribute left out, are accepted.
func TestCookieSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		cfg messages.Config
		ok  bool
	}{
		{messages.Config{SecretKey: "k", CookieSameSite: http.SameSiteNoneMode}, false},
		{messages.Config{SecretKey: "k", CookieSameSite: 9}, false},
		{messages.Config{SecretKey: "k", CookieSameSite: http.SameSiteNoneMode, CookieSecure: true}, true},
		{messages.Config{SecretKey: "k", CookieSameSite: http.SameSiteDefaultMode}, true},
	} {
		_, err := messages.New(c.cfg)
		if (err == nil) != c.ok {
			t.Errorf("New(SameSite %d, Secure %v) = %v, want ok %v", c.cfg.CookieSameSite, c.cfg.CookieSecure, err, c.ok)
		}
	}
}

// TestErrorPageStoresMessages: on Echo, a handler that fails has its
// error page rendered inside the middleware, so the messages it added
// are stored all the same, as Django's middleware stores them on any
// response.
func TestErrorPageStoresMessages(t *testing.T) {
	v := newTestSite(t, true, nil).visitor(t)
	resp := v.get("/fail?level=40&message=failed")
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("fail: %s", resp.Status)
	}
	if got := v.read(); !reflect.DeepEqual(got, []shown{{40, "failed", "error"}}) {
		t.Fatalf("after a failed request: %+v", got)
	}
}
