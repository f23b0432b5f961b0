package views_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/djangosessions/gosessions/app/csrf"
)

// stateChanging are the POST routes with a valid form for each.
var stateChanging = []struct {
	path string
	form url.Values
}{
	{"/set", url.Values{}},
	{"/delete", url.Values{}},
	{"/pop", url.Values{}},
	{"/clear", url.Values{}},
	{"/flush", url.Values{}},
	{"/login", url.Values{"username": {"mallory"}}},
	{"/logout", url.Values{}},
	{"/testcookie", url.Values{}},
	{"/session", url.Values{"key": {"evil"}, "value": {"1"}}},
}

// TestCSRFRefusals: a POST without a valid token gets a 403 and changes
// nothing, on every state-changing route, whatever the client: a plain
// client without token, a browser-like client (Sec-Fetch-Site:
// same-origin, which Echo's own middleware would let through without a
// token), a wrong token, and a cross-site request even with the right
// token.
func TestCSRFRefusals(t *testing.T) {
	for _, route := range stateChanging {
		t.Run(strings.TrimPrefix(route.path, "/"), func(t *testing.T) {
			s := newSite(t)
			wantStatus(t, s.get("/set?expiry=600"), http.StatusOK)
			key := s.cookie("sessionid")
			token := s.csrfToken()
			with := func(tok string) url.Values {
				f := url.Values{}
				for k, v := range route.form {
					f[k] = v
				}
				if tok != "" {
					f.Set("csrfmiddlewaretoken", tok)
				}
				return f
			}
			cases := []struct {
				name string
				send func() *response
			}{
				{"plain client, no token", func() *response { return s.postRaw(route.path, with("")) }},
				{"browser, same-origin, no token", func() *response {
					return s.postRaw(route.path, with(""), "Sec-Fetch-Site", "same-origin", "Origin", s.srv.URL)
				}},
				{"wrong token", func() *response { return s.postRaw(route.path, with(strings.Repeat("A", len(token)))) }},
				{"token in the query only", func() *response { return s.postRaw(route.path+"?csrfmiddlewaretoken="+token, with("")) }},
				{"cross-site with the right token", func() *response {
					return s.postRaw(route.path, with(token), "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example")
				}},
				{"same-site with the right token", func() *response {
					return s.postRaw(route.path, with(token), "Sec-Fetch-Site", "same-site")
				}},
			}
			for _, tc := range cases {
				r := tc.send()
				wantStatus(t, r, http.StatusForbidden)
				if msg := r.text("error-message"); !strings.Contains(msg, "CSRF verification failed") {
					t.Errorf("%s: message %q", tc.name, msg)
				}
				if c := r.setCookie("sessionid"); c != nil {
					t.Errorf("%s: refused POST set the session cookie %v", tc.name, c)
				}
				if s.cookie("sessionid") != key {
					t.Errorf("%s: session key changed", tc.name)
				}
				if got := s.get("/get").message(); got != "User: harun_dev, Role: admin, Logins: 1" {
					t.Errorf("%s: session changed: %q", tc.name, got)
				}
				if data, _, _ := s.apiSession(); data["evil"] != nil {
					t.Errorf("%s: editor stored a key", tc.name)
				}
			}
			// The controls: the same request with the token, as a plain
			// client and as a browser, is accepted.
			if r := s.postRaw(route.path, with(token)); r.StatusCode == http.StatusForbidden {
				t.Errorf("plain client with the token refused: %s", r.text("error-message"))
			}
			if route.path == "/login" {
				token = s.csrfToken() // a login rotates the token
			}
			if r := s.postRaw(route.path, with(token), "Sec-Fetch-Site", "same-origin", "Origin", s.srv.URL); r.StatusCode == http.StatusForbidden {
				t.Errorf("browser with the token refused: %s", r.text("error-message"))
			}
		})
	}
}

func TestCSRFNoCookie(t *testing.T) {
	s := newSite(t)
	token := s.csrfToken()
	s.client = newClient(t) // a fresh client has no csrftoken cookie
	r := s.postRaw("/set", url.Values{"csrfmiddlewaretoken": {token}})
	wantStatus(t, r, http.StatusForbidden)
	if msg := r.text("error-message"); !strings.Contains(msg, "CSRF cookie not set") {
		t.Errorf("message %q", msg)
	}
}

func TestCSRFHeaderToken(t *testing.T) {
	s := newSite(t)
	token := s.csrfToken()
	r := s.postRaw("/set", url.Values{}, "X-CSRFToken", token)
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Session data set." {
		t.Errorf("message %q", got)
	}
}

// TestCSRFCookie: the cookie is Django's (a 32-character secret, Django's
// defaults: a year, Path=/, SameSite=Lax, not HttpOnly) and creates no
// session; every form carries a 64-character token of that secret, masked
// afresh on each page; a later page renews the cookie with the same
// secret, as Django does whenever a page uses the token.
func TestCSRFCookie(t *testing.T) {
	s := newSite(t)
	r := s.get("/login")
	wantStatus(t, r, http.StatusOK)
	c := r.setCookie("csrftoken")
	if c == nil {
		t.Fatal("GET /login set no csrftoken cookie")
	}
	if c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 31449600 || csrf.CheckFormat(c.Value) != "" || len(c.Value) != csrf.SecretLength {
		t.Errorf("csrftoken cookie %+v", c)
	}
	if r.setCookie("sessionid") != nil {
		t.Error("the CSRF token created a session")
	}
	tok, _ := r.doc.Find(`input[name="csrfmiddlewaretoken"]`).Attr("value")
	if len(tok) != csrf.TokenLength || !csrf.Matches(tok, c.Value) {
		t.Errorf("form token %q, cookie %q", tok, c.Value)
	}
	// Later pages renew the cookie with the same secret, and mask it anew.
	r = s.get("/")
	if again := r.setCookie("csrftoken"); again == nil || again.Value != c.Value {
		t.Errorf("the next page sent csrftoken %v, want %q renewed", again, c.Value)
	}
	if tok2, _ := r.doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value"); tok2 == tok || !csrf.Matches(tok2, c.Value) {
		t.Errorf("the next page's token %q (the first page's %q)", tok2, tok)
	}
	// Every form of the site carries a token of the secret.
	wantStatus(t, s.get("/set"), http.StatusOK)
	for _, p := range []string{"/", "/set", "/delete", "/pop", "/clear", "/flush", "/login", "/logout", "/session"} {
		r := s.get(p)
		r.doc.Find(`form[method="post"]`).Each(func(i int, f *goquery.Selection) {
			if v, _ := f.Find(`input[name="csrfmiddlewaretoken"]`).Attr("value"); !csrf.Matches(v, c.Value) {
				action, _ := f.Attr("action")
				t.Errorf("%s: form %d (%s) token %q", p, i, action, v)
			}
		})
		if r.doc.Find(`form[method="get"], form:not([method])`).Length() != 0 {
			t.Errorf("%s: a form without method=post", p)
		}
	}
}
