package onedomain_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/djangosessions/gosessions/app/csrf"
)

// TestOneDomain starts, for each Django release of the matrix, the Go
// site and the Django reference site behind one nginx (nginx.conf) on one
// SQLite file, once with the CSRF secret in the cookie and once with
// CSRF_USE_SESSIONS on both sides, then checks that tokens cross between
// the sites both ways (a plain client) and walks through both in
// Chromium, one browser for all. The same on PostgreSQL, with the newest
// Django.
func TestOneDomain(t *testing.T) {
	domains := setupDomains(t)
	browser := newBrowser(t)
	for _, d := range domains {
		if d.useSessions {
			t.Run("sessions/django"+d.django.Series, func(t *testing.T) { testSessionTokens(t, d) })
		} else {
			t.Run("tokens/django"+d.django.Series, func(t *testing.T) { testCookieTokens(t, d) })
		}
	}
	t.Run("browser", func(t *testing.T) { testBrowserWalks(t, browser, domains) })
	t.Run("postgres", func(t *testing.T) {
		d := setupPostgresDomain(t)
		t.Run("tokens/django"+d.django.Series, func(t *testing.T) { testCookieTokens(t, d) })
		t.Run("browser/django"+d.django.Series, func(t *testing.T) {
			if browser == nil {
				t.Skip("no chromium")
			}
			walk(t, browser, d)
		})
	})
}

// storedLen is how long a release writes the secret: Django 3.2 keeps it
// masked (64 characters), 4.1 and later the secret (32); the Go site
// follows DJANGO_VERSION.
func storedLen(d *domain) int {
	if d.django.Series == "3.2" {
		return csrf.TokenLength
	}
	return csrf.SecretLength
}

// want fails the test unless p has status and was served by site.
func want(t *testing.T, what string, p *page, status int, site string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, p.body)
	}
	if site != "" && p.site() != site {
		t.Fatalf("%s: served by the %s site, want %s", what, p.site(), site)
	}
}

// testCookieTokens: a POST carrying a token either site issued is accepted
// by the other, both ways, through the proxy, with the csrftoken cookie
// in either form (the 32-character secret and the 64-character masked
// secret) and the token in the form field or the X-CSRFToken header,
// masked or not; a token issued before the other site's page stays valid;
// another visitor's token and a foreign Origin are refused by both.
func testCookieTokens(t *testing.T, d *domain) {
	c := newClient(t, d.base)

	p := c.get("/login")
	want(t, "Django's login form", p, http.StatusOK, "django")
	djangoToken, cookie := p.token(t), c.cookie("csrftoken")
	if len(cookie) != storedLen(d) || csrf.CheckFormat(cookie) != "" || !csrf.Matches(djangoToken, csrf.SecretOf(cookie)) {
		t.Fatalf("Django %s set csrftoken %q for form token %q", d.django.Series, cookie, djangoToken)
	}
	secret := csrf.SecretOf(cookie)

	want(t, "Django's token posted to Go", c.post("/session", url.Values{"key": {"from_django"}, "value": {"1"}}, djangoToken), http.StatusSeeOther, "")

	p = c.get("/session")
	want(t, "Go's editor", p, http.StatusOK, "go")
	goToken := p.token(t)
	if now := c.cookie("csrftoken"); csrf.SecretOf(now) != secret || len(now) != storedLen(d) {
		t.Fatalf("the Go page replaced the secret: csrftoken %q, was %q", now, cookie)
	}
	p = c.post("/set", nil, goToken)
	want(t, "Go's token posted to Django", p, http.StatusOK, "django")
	if got := p.text("message"); got != "Session data set." {
		t.Fatalf("Django's /set says %q", got)
	}
	p = c.post("/set", nil, djangoToken)
	want(t, "the token of Django's earlier page, after Go's page", p, http.StatusOK, "django")

	forms := map[string]string{"32-character": secret, "64-character": csrf.Mask(secret)}
	for name, value := range forms {
		c.setCookie("csrftoken", value)
		for _, tok := range []struct {
			name, value string
			header      bool
		}{
			{"Django's form token", djangoToken, false}, {"Go's form token", goToken, false},
			{"the masked token in X-CSRFToken", csrf.Mask(secret), true}, {"the secret in X-CSRFToken", secret, true},
		} {
			form, field, hdr := url.Values{"key": {"k"}, "value": {"v"}}, tok.value, []string(nil)
			if tok.header {
				field, hdr = "", []string{"X-CSRFToken", tok.value}
			}
			want(t, name+" cookie, "+tok.name+", to Go", c.post("/session", form, field, hdr...), http.StatusSeeOther, "")
			want(t, name+" cookie, "+tok.name+", to Django", c.post("/set", nil, field, hdr...), http.StatusOK, "django")
		}
	}

	// The controls: another visitor's token, and a page of another
	// origin, are refused by both.
	c.setCookie("csrftoken", secret)
	other := csrf.Mask(csrf.NewSecret())
	want(t, "another visitor's token to Go", c.post("/session", url.Values{"key": {"k"}, "value": {"v"}}, other), http.StatusForbidden, "")
	want(t, "another visitor's token to Django", c.post("/set", nil, other), http.StatusForbidden, "")
	if d.django.Series != "3.2" { // Django 3.2 has no Origin check
		want(t, "a foreign Origin to Django", c.post("/set", nil, goToken, "Origin", "http://evil.example"), http.StatusForbidden, "")
	}
	want(t, "a foreign Origin to Go", c.post("/session", url.Values{"key": {"k"}, "value": {"v"}}, goToken, "Origin", "http://evil.example"), http.StatusForbidden, "")
}

// testSessionTokens: with CSRF_USE_SESSIONS on both sides the secret is
// in the shared session under _csrftoken, in the form of the release
// (masked for 3.2), never in a cookie; a token stored by either site is
// accepted by the other, whichever site made the session.
func testSessionTokens(t *testing.T, d *domain) {
	for _, first := range []struct{ name, formPage, postTo, site string }{
		{"Django first", "/login", "/session", "django"},
		{"Go first", "/session", "/set", "go"},
	} {
		t.Run(first.name, func(t *testing.T) {
			c := newClient(t, d.base)
			p := c.get(first.formPage)
			want(t, "the first page", p, http.StatusOK, first.site)
			tok := p.token(t)
			if c.cookie("csrftoken") != "" {
				t.Fatalf("a csrftoken cookie with CSRF_USE_SESSIONS: %q", c.cookie("csrftoken"))
			}
			if c.cookie("sessionid") == "" {
				t.Fatal("the page with a form made no session for the secret")
			}
			stored := sessionToken(t, c)
			if len(stored) != storedLen(d) || !csrf.Matches(tok, csrf.SecretOf(stored)) {
				t.Fatalf("the session holds _csrftoken %q for the page's token %q", stored, tok)
			}
			form := url.Values{"key": {"k"}, "value": {"v"}}
			wantStatus := http.StatusSeeOther
			if first.postTo == "/set" {
				form, wantStatus = nil, http.StatusOK
			}
			want(t, "the first site's token posted to the other", c.post(first.postTo, form, tok), wantStatus, "")

			// And back: the other site's page, its token to the first.
			var back *page
			if first.site == "django" {
				back = c.get("/session")
				want(t, "Go's editor", back, http.StatusOK, "go")
				want(t, "Go's token posted to Django", c.post("/set", nil, back.token(t)), http.StatusOK, "django")
			} else {
				back = c.get("/login")
				want(t, "Django's login form", back, http.StatusOK, "django")
				want(t, "Django's token posted to Go", c.post("/session", url.Values{"key": {"k"}, "value": {"v"}}, back.token(t)), http.StatusSeeOther, "")
			}
			if got := sessionToken(t, c); csrf.SecretOf(got) != csrf.SecretOf(stored) {
				t.Errorf("the secret changed from %q to %q", stored, got)
			}
			other := csrf.Mask(csrf.NewSecret())
			want(t, "another visitor's token to Go", c.post("/session", url.Values{"key": {"k"}, "value": {"v"}}, other), http.StatusForbidden, "")
			want(t, "another visitor's token to Django", c.post("/set", nil, other), http.StatusForbidden, "")
		})
	}
}

// sessionToken reads _csrftoken from the session as Django's /api/session
// shows it (it neither saves nor touches the session).
func sessionToken(t *testing.T, c *client) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+"/api/session", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data map[string]any `json:"data"`
	}
	if err := decodeJSON(resp, &body); err != nil {
		t.Fatal(err)
	}
	v, _ := body.Data[csrf.SessionKey].(string)
	return v
}
