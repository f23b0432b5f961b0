package views_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/session"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// addUser stores a user in the site's auth_user, as manage createuser does.
func (s *site) addUser(username, password string) {
	s.t.Helper()
	a, err := auth.New(auth.Config{DB: s.db, Iterations: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := a.CreateUser(s.t.Context(), username, password); err != nil {
		s.t.Fatal(err)
	}
}

// apiUser returns /api/session's "user".
func (s *site) apiUser() *string {
	s.t.Helper()
	var body struct {
		User *string `json:"user"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/session").body), &body); err != nil {
		s.t.Fatal(err)
	}
	return body.User
}

// TestAccounts walks the contract's /accounts/ rows: login required, a
// wrong password, a login (Django's keys, a new session key and CSRF
// token, the profile), request.user in the header and in /api/session,
// and the logout.
func TestAccounts(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "correct horse")

	r := s.get("/accounts/profile/")
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/accounts/login/?next=/accounts/profile/" {
		t.Fatalf("anonymous profile: %d %q, want 302 to /accounts/login/?next=/accounts/profile/", r.StatusCode, r.Header.Get("Location"))
	}
	r = s.get("/accounts/login/?next=/accounts/profile/")
	wantStatus(t, r, http.StatusOK)
	if next, _ := r.doc.Find(`input[name="next"]`).Attr("value"); next != "/accounts/profile/" {
		t.Errorf("the form carries next=%q", next)
	}
	if r.text("request-user-anonymous") != "AnonymousUser" {
		t.Errorf("header request.user = %q, want AnonymousUser", r.text("request-user"))
	}
	if r := s.get("/accounts/login"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/accounts/login/" {
		t.Errorf("/accounts/login without its slash: %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Some session data before the login, to see the key cycled and the
	// data kept.
	s.post("/set", nil)
	before, beforeToken := s.cookie("sessionid"), s.cookie("csrftoken")

	r = s.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"wrong"}, "next": {"/accounts/profile/"}})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text("form-error"), "Please enter a correct username and password") {
		t.Errorf("wrong password: error %q", r.text("form-error"))
	}
	if s.cookie("sessionid") != before || s.apiUser() != nil {
		t.Error("a wrong password changed the session")
	}

	r = s.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"correct horse"}, "next": {"/accounts/profile/"}})
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/accounts/profile/" {
		t.Fatalf("login: %d %q, want 302 to /accounts/profile/", r.StatusCode, r.Header.Get("Location"))
	}
	after := s.cookie("sessionid")
	if after == before || after == "" {
		t.Error("the session key was not cycled at login")
	}
	if s.cookie("csrftoken") == beforeToken {
		t.Error("the CSRF token was not rotated at login")
	}
	rec, err := s.store.Load(t.Context(), after)
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Store: s.store, SecretKey: "test-secret-key-for-the-views-tests"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Decode(rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	if data[auth.SessionKey] != "1" || data[auth.BackendSessionKey] != auth.ModelBackend || data[auth.HashSessionKey] == nil || data["username"] != "harun_dev" {
		t.Errorf("stored session = %v, want Django's three keys and the earlier data", data)
	}

	r = s.get("/accounts/profile/")
	wantStatus(t, r, http.StatusOK)
	if r.message() != "Signed in as alice" || r.text("request-user-name") != "alice" || r.text("welcome") != "Welcome harun_dev" {
		t.Errorf("profile: message %q, request.user %q, welcome %q", r.message(), r.text("request-user-name"), r.text("welcome"))
	}
	if u := s.apiUser(); u == nil || *u != "alice" {
		t.Errorf("/api/session user = %v, want alice", u)
	}

	r = s.post("/accounts/logout/", nil)
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/" {
		t.Errorf("logout: %d %q, want 302 to /", r.StatusCode, r.Header.Get("Location"))
	}
	if s.cookie("sessionid") != "" || s.apiUser() != nil {
		t.Error("logout did not flush the session")
	}
	if r := s.postRaw("/accounts/logout/", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("logout without a CSRF token: %d, want 403", r.StatusCode)
	}
}

// TestAccountsLoginNext: the page after the login is next only when it is
// on this site (Django's url_has_allowed_host_and_scheme).
func TestAccountsLoginNext(t *testing.T) {
	s := newSite(t)
	s.addUser("bob", "pw")
	for next, want := range map[string]string{
		"":                      "/accounts/profile/",
		"/get":                  "/get",
		"//evil.example/":       "/accounts/profile/",
		"https://evil.example/": "/accounts/profile/",
		`/\evil.example/`:       "/accounts/profile/",
		"javascript:alert(1)":   "/accounts/profile/",
	} {
		s.client.Jar = newClient(t).Jar // a new visitor
		r := s.post("/accounts/login/", url.Values{"username": {"bob"}, "password": {"pw"}, "next": {next}})
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("next=%q: %d %q, want a redirect to %q", next, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
}

// TestAccountsLoginNextAsBrowsersRead: after a login, the Location the
// site sends, read as a browser reads it (the WHATWG URL parser, which
// drops tabs and newlines anywhere, strips leading and trailing C0
// controls and spaces, and reads backslashes as slashes in http and
// https URLs) against the login page's URL, stays on the site.
func TestAccountsLoginNextAsBrowsersRead(t *testing.T) {
	s := newSite(t)
	s.addUser("carol", "pw")
	site, err := whatwg.Parse(s.srv.URL + "/accounts/login/")
	if err != nil {
		t.Fatal(err)
	}
	for _, next := range []string{
		"/\t//evil.example/",
		"/\n//evil.example/",
		"/\r//evil.example/",
		"\t//evil.example/",
		"/\t/\\evil.example/",
		"\\\t\\evil.example/",
		"/\\\t/evil.example/",
		"ht\ttps://evil.example/",
		"https:\t//evil.example/",
		"\x01//evil.example/",
		" //evil.example/",
		"/get\t",
	} {
		s.client.Jar = newClient(t).Jar // a new visitor
		code, loc := s.rawPost("/accounts/login/", url.Values{"username": {"carol"}, "password": {"pw"}, "next": {next}})
		if code != http.StatusFound {
			t.Errorf("next=%q: %d, want 302", next, code)
			continue
		}
		to, err := site.Parse(loc)
		if err != nil {
			continue // a browser goes nowhere
		}
		if to.Host() != site.Host() || to.Protocol() != site.Protocol() {
			t.Errorf("next=%q: Location %q, which a browser follows to %s, off the site %s", next, loc, to.Href(false), site.Host())
		}
	}
}

// rawPost posts form with the client's cookies and CSRF token, as post
// does, but returns the status and the Location header as they came over
// the wire: Go's client refuses to follow (or even return) a Location
// that a browser would follow.
func (s *site) rawPost(path string, form url.Values) (int, string) {
	s.t.Helper()
	form.Set("csrfmiddlewaretoken", s.csrfToken())
	req := s.request(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range s.client.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, err := s.srv.Client().Transport.RoundTrip(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// TestAccountsLoginSecureIsTheSiteRule: whether the login request is
// HTTPS (a next page on plain http is then refused) follows
// SECURE_PROXY_SSL_HEADER alone, as the security headers do: a client's
// X-Forwarded-Proto (here from the loopback address, which Echo's own rule
// believes) means nothing to a site without the setting. The form comes
// with the Referer a browser on https sends (the CSRF check of an HTTPS
// request without an Origin wants it, as Django's).
func TestAccountsLoginSecureIsTheSiteRule(t *testing.T) {
	for _, proxy := range []bool{false, true} {
		s := newSiteWith(t, siteOptions{proxySSL: proxy})
		s.addUser("dave", "pw")
		next := s.srv.URL + "/get" // http://127.0.0.1:port/get
		r := s.post("/accounts/login/", url.Values{"username": {"dave"}, "password": {"pw"}, "next": {next}},
			"X-Forwarded-Proto", "https", "Referer", "https://"+strings.TrimPrefix(s.srv.URL, "http://")+"/accounts/login/")
		want := next // a plain-HTTP request may go on to a plain-HTTP page
		if proxy {
			want = "/accounts/profile/" // an HTTPS request never does
		}
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("SECURE_PROXY_SSL_HEADER set: %v; X-Forwarded-Proto: https, next=%q: %d %q, want a redirect to %q",
				proxy, next, r.StatusCode, r.Header.Get("Location"), want)
		}
		if hsts := r.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("HSTS %q without SECURE_HSTS_SECONDS", hsts)
		}
	}
}
