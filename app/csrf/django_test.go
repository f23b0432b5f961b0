package csrf

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// A request both Django's CsrfViewMiddleware (testdata/django/vectors.py
// check) and the Guard answer; see vectors.py for the fields.
type djangoCase struct {
	Name         string         `json:"name"`
	Method       string         `json:"method"`
	Host         string         `json:"host"`
	Secure       bool           `json:"secure"`
	Cookie       *string        `json:"cookie"`
	Session      *string        `json:"session"`
	PostToken    *string        `json:"post_token"`
	Header       *string        `json:"header"`
	Origin       *string        `json:"origin"`
	Referer      *string        `json:"referer"`
	SecFetchSite *string        `json:"sec_fetch_site"`
	GetToken     bool           `json:"get_token"`
	Rotate       bool           `json:"rotate"`
	Settings     map[string]any `json:"settings,omitempty"`

	// goStricter: Go refuses what Django accepts (the Sec-Fetch-Site
	// check). agreeFrom: the Django release from which on the two agree
	// ("" always), where older ones decide otherwise.
	goStricter bool
	agreeFrom  string
}

// djangoAnswer is what vectors.py check prints for a case, and what the
// Go side is reduced to.
type djangoAnswer struct {
	Name      string   `json:"name"`
	Accepted  bool     `json:"accepted"`
	Reason    string   `json:"reason"`
	SetCookie *string  `json:"set_cookie"`
	MaxAge    *string  `json:"cookie_max_age"`
	Vary      string   `json:"vary"`
	Session   *string  `json:"session"`
	Tokens    []string `json:"tokens"`
}

func str(s string) *string { return &s }

// The secrets of the cases; secretB is another user's.
const (
	secretA = "abcdefghijklmnopqrstuvwxyzABCDEF"
	secretB = "0123456789ZYXWVUTSRQPONMLKJIHGFE"
)

// djangoCases are the requests of the differential test: every way a
// token can come and go, every refusal, and the settings that change them.
func djangoCases() []djangoCase {
	maskedA, maskedB := Mask(secretA), Mask(secretB)
	post := func(name string) djangoCase {
		return djangoCase{Name: name, Method: "POST", Host: "testserver", Cookie: str(secretA), PostToken: str(Mask(secretA))}
	}
	with := func(c djangoCase, f func(*djangoCase)) djangoCase { f(&c); return c }
	cases := []djangoCase{
		{Name: "GET no cookie, get_token: a new secret", Method: "GET", Host: "testserver", GetToken: true},
		{Name: "GET 32-char cookie, get_token: renewed", Method: "GET", Host: "testserver", Cookie: str(secretA), GetToken: true},
		{Name: "GET 64-char cookie, get_token: renewed", Method: "GET", Host: "testserver", Cookie: str(maskedA), GetToken: true},
		{Name: "GET cookie, no token asked: nothing sent", Method: "GET", Host: "testserver", Cookie: str(secretA)},
		{Name: "GET malformed cookie, get_token: replaced", Method: "GET", Host: "testserver", Cookie: str(strings.Repeat("x", 43)), GetToken: true},
		{Name: "GET cookie, rotate_token and get_token: a new secret", Method: "GET", Host: "testserver", Cookie: str(secretA), Rotate: true, GetToken: true},
		post("POST 32-char cookie, masked form token"),
		with(post("POST 32-char cookie, unmasked form token"), func(c *djangoCase) { c.PostToken = str(secretA) }),
		with(post("POST 64-char cookie, masked form token"), func(c *djangoCase) { c.Cookie = str(maskedA) }),
		with(post("POST 64-char cookie, unmasked form token"), func(c *djangoCase) { c.Cookie, c.PostToken = str(maskedA), str(secretA) }),
		with(post("POST header token, masked"), func(c *djangoCase) { c.PostToken, c.Header = nil, str(Mask(secretA)) }),
		with(post("POST header token, unmasked"), func(c *djangoCase) { c.PostToken, c.Header = nil, str(secretA) }),
		with(post("POST empty form token falls back to the header"), func(c *djangoCase) { c.PostToken, c.Header = str(""), str(Mask(secretA)) }),
		with(post("PUT header token"), func(c *djangoCase) { c.Method, c.PostToken, c.Header = "PUT", nil, str(Mask(secretA)) }),
		with(post("DELETE without token"), func(c *djangoCase) { c.Method, c.PostToken = "DELETE", nil }),
		with(post("POST, then get_token: the cookie renewed"), func(c *djangoCase) { c.GetToken = true }),
		with(post("POST no cookie"), func(c *djangoCase) { c.Cookie = nil }),
		with(post("POST no token"), func(c *djangoCase) { c.PostToken = nil }),
		with(post("POST another secret's token"), func(c *djangoCase) { c.PostToken = str(maskedB) }),
		with(post("POST form token of 43 characters"), func(c *djangoCase) { c.PostToken = str(strings.Repeat("x", 43)) }),
		with(post("POST form token with a dash"), func(c *djangoCase) { c.PostToken = str(secretA[:31] + "-") }),
		with(post("POST empty header token"), func(c *djangoCase) { c.PostToken, c.Header = nil, str("") }),
		with(post("POST header token with a dash"), func(c *djangoCase) { c.PostToken, c.Header = nil, str(secretA[:31]+"-") }),
		with(post("POST malformed cookie: refused and replaced"), func(c *djangoCase) { c.Cookie = str(strings.Repeat("x", 43)) }),
		with(post("POST cookie with a dash"), func(c *djangoCase) { c.Cookie = str(secretA[:31] + "-") }),
		with(post("POST same Origin"), func(c *djangoCase) { c.Origin = str("http://testserver") }),
		with(post("POST foreign Origin"), func(c *djangoCase) { c.Origin, c.agreeFrom = str("http://evil.example"), "4.0" }),
		with(post("POST null Origin"), func(c *djangoCase) { c.Origin, c.agreeFrom = str("null"), "4.0" }),
		with(post("POST https Origin on http"), func(c *djangoCase) { c.Origin, c.agreeFrom = str("https://testserver"), "4.0" }),
		with(post("POST trusted Origin"), func(c *djangoCase) {
			c.agreeFrom = "4.0"
			c.Origin, c.Settings = str("http://evil.example"), map[string]any{"CSRF_TRUSTED_ORIGINS": []string{"http://evil.example"}}
		}),
		with(post("POST wildcard-trusted subdomain Origin"), func(c *djangoCase) {
			c.agreeFrom = "4.0"
			c.Secure, c.Origin, c.Referer = true, str("https://a.example.com"), str("https://a.example.com/")
			c.Settings = map[string]any{"CSRF_TRUSTED_ORIGINS": []string{"https://*.example.com"}}
		}),
		with(post("POST wildcard-trusted Origin, other scheme"), func(c *djangoCase) {
			c.Origin, c.agreeFrom = str("http://a.example.com"), "4.0"
			c.Settings = map[string]any{"CSRF_TRUSTED_ORIGINS": []string{"https://*.example.com"}}
		}),
		with(post("POST secure, no Origin, no Referer"), func(c *djangoCase) { c.Secure = true }),
		with(post("POST secure, own Referer"), func(c *djangoCase) { c.Secure, c.Referer = true, str("https://testserver/form") }),
		with(post("POST secure, plain-http Referer"), func(c *djangoCase) { c.Secure, c.Referer = true, str("http://testserver/form") }),
		with(post("POST secure, foreign Referer"), func(c *djangoCase) { c.Secure, c.Referer = true, str("https://evil.example/") }),
		with(post("POST secure, malformed Referer"), func(c *djangoCase) { c.Secure, c.Referer = true, str("not a url") }),
		with(post("POST secure, Referer of the cookie domain"), func(c *djangoCase) {
			c.Secure, c.Host, c.Referer = true, "www.example.com", str("https://shop.example.com/cart")
			c.Settings = map[string]any{"CSRF_COOKIE_DOMAIN": ".example.com"}
		}),
		with(post("POST secure, Referer of a trusted origin"), func(c *djangoCase) {
			c.agreeFrom = "4.0"
			c.Secure, c.Referer = true, str("https://login.example.org/")
			c.Settings = map[string]any{"CSRF_TRUSTED_ORIGINS": []string{"https://login.example.org"}}
		}),
		with(post("POST same-origin fetch"), func(c *djangoCase) { c.SecFetchSite, c.Origin = str("same-origin"), str("http://testserver") }),
		with(post("POST cross-site fetch without Origin"), func(c *djangoCase) { c.SecFetchSite, c.goStricter = str("cross-site"), true }),
		with(post("POST same-site fetch without Origin"), func(c *djangoCase) { c.SecFetchSite, c.goStricter = str("same-site"), true }),
		with(post("POST cross-site fetch from a trusted Origin"), func(c *djangoCase) {
			c.agreeFrom = "4.0"
			c.SecFetchSite, c.Origin = str("cross-site"), str("http://evil.example")
			c.Settings = map[string]any{"CSRF_TRUSTED_ORIGINS": []string{"http://evil.example"}}
		}),
		with(post("POST header named by CSRF_HEADER_NAME"), func(c *djangoCase) {
			c.PostToken, c.Header = nil, str(Mask(secretA))
			c.Settings = map[string]any{"CSRF_HEADER_NAME": "HTTP_X_XSRF_TOKEN"}
		}),
		with(post("POST bad token in CSRF_HEADER_NAME"), func(c *djangoCase) {
			c.PostToken, c.Header = nil, str("x")
			c.Settings = map[string]any{"CSRF_HEADER_NAME": "HTTP_X_XSRF_TOKEN"}
		}),
		{Name: "GET cookie age None", Method: "GET", Host: "testserver", GetToken: true, Settings: map[string]any{"CSRF_COOKIE_AGE": nil}},
	}
	sessions := map[string]any{"CSRF_USE_SESSIONS": true}
	cases = append(cases,
		djangoCase{Name: "sessions: GET, get_token: a new secret in the session", Method: "GET", Host: "testserver", GetToken: true, Settings: sessions},
		djangoCase{Name: "sessions: GET, no token asked: nothing stored", Method: "GET", Host: "testserver", Settings: sessions},
		djangoCase{Name: "sessions: GET 64-char session, get_token", Method: "GET", Host: "testserver", Session: str(maskedA), GetToken: true, Settings: sessions},
		djangoCase{Name: "sessions: POST 64-char session, masked token", Method: "POST", Host: "testserver", Session: str(maskedA), PostToken: str(Mask(secretA)), Settings: sessions},
		djangoCase{Name: "sessions: POST 64-char session, unmasked token", Method: "POST", Host: "testserver", Session: str(maskedA), PostToken: str(secretA), Settings: sessions},
		// Django 3.2 reads the session's value as a masked token only.
		djangoCase{Name: "sessions: POST 32-char session", Method: "POST", Host: "testserver", Session: str(secretA), PostToken: str(Mask(secretA)), Settings: sessions, agreeFrom: "4.0"},
		djangoCase{Name: "sessions: POST no secret in the session", Method: "POST", Host: "testserver", PostToken: str(Mask(secretA)), Settings: sessions},
		djangoCase{Name: "sessions: POST the cookie is not read", Method: "POST", Host: "testserver", Cookie: str(secretA), PostToken: str(Mask(secretA)), Settings: sessions},
		djangoCase{Name: "sessions: POST rotate_token", Method: "POST", Host: "testserver", Session: str(maskedA), PostToken: str(maskedA), Rotate: true, Settings: sessions},
	)
	return cases
}

// runDjango answers cases with the Django release d.
func runDjango(t *testing.T, d djangotest.Django, cases []djangoCase) map[string]djangoAnswer {
	t.Helper()
	var answers []djangoAnswer
	d.RunJSON(t, cases, &answers, "testdata/django/vectors.py", "check")
	byName := map[string]djangoAnswer{}
	for _, a := range answers {
		byName[a.Name] = a
	}
	return byName
}

// runGo answers c with a Guard configured as Django is by c.Settings,
// for the Django release series (3.2 keeps the secret masked).
func runGo(t *testing.T, c djangoCase, series string) djangoAnswer {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CookieMasked = versionBefore(series, "4.1")
	for k, v := range c.Settings {
		switch k {
		case "CSRF_USE_SESSIONS":
			cfg.UseSessions = v.(bool)
		case "CSRF_TRUSTED_ORIGINS":
			cfg.TrustedOrigins = v.([]string)
		case "CSRF_COOKIE_DOMAIN":
			cfg.CookieDomain = v.(string)
		case "CSRF_HEADER_NAME":
			cfg.HeaderName = v.(string)
		case "CSRF_COOKIE_AGE":
			cfg.CookieAge = BrowserSession // None
		default:
			t.Fatalf("case %q: setting %s unknown to the Go side", c.Name, k)
		}
	}
	cfg.IsSecure = func(r *http.Request) bool { return r.TLS != nil }
	var ans djangoAnswer
	cfg.Failure = func(w http.ResponseWriter, r *http.Request, reason string) {
		ans.Reason = reason
		w.WriteHeader(http.StatusForbidden)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("case %q: %v", c.Name, err)
	}
	sessions, err := session.New(session.Config{Store: memstore.New(time.Now), SecretKey: "k", CookieName: "sessionid"})
	if err != nil {
		t.Fatal(err)
	}
	var key string
	if c.Session != nil {
		s := sessions.Open(context.Background(), "")
		s.Set(SessionKey, *c.Session)
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		key = s.Key()
	}
	var stored *string
	view := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans.Accepted = true
		if c.Rotate {
			Rotate(w, r)
		}
		if c.GetToken {
			ans.Tokens = append(ans.Tokens, Token(r))
		}
		_, _ = w.Write([]byte("ok"))
	})
	// The session's value as the response leaves the Guard (before the
	// session middleware saves it).
	probe := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if s := session.FromContext(r.Context()); s != nil {
				if v, ok := s.Get(SessionKey, nil).(string); ok {
					stored = &v
				}
			}
		})
	}
	h := sessions.Handler(probe(g.Handler(view)))

	form := url.Values{}
	if c.PostToken != nil {
		form.Set(FormField, *c.PostToken)
	}
	req := httptest.NewRequest(c.Method, "http://"+c.Host+"/form", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.Secure {
		req.TLS = &tls.ConnectionState{}
	}
	if c.Cookie != nil {
		req.AddCookie(&http.Cookie{Name: "csrftoken", Value: *c.Cookie})
	}
	if key != "" {
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: key})
	}
	for name, v := range map[string]*string{"Origin": c.Origin, "Referer": c.Referer, "Sec-Fetch-Site": c.SecFetchSite} {
		if v != nil {
			req.Header.Set(name, *v)
		}
	}
	if c.Header != nil {
		req.Header.Set(g.cfg.HeaderName, *c.Header)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "csrftoken" {
			ans.SetCookie = str(ck.Value)
			if ck.MaxAge > 0 {
				ans.MaxAge = str(strconv.Itoa(ck.MaxAge))
			} else {
				ans.MaxAge = str("")
			}
		}
	}
	ans.Vary = strings.Join(rec.Result().Header.Values("Vary"), ", ")
	ans.Session = stored
	return ans
}

// TestAgainstDjango runs every case through Django's own
// CsrfViewMiddleware, of each Django release of the matrix, and through
// the Guard configured alike, and compares: accepted or refused, the
// reason (Django 4.1 and later, whose reasons Go uses), whether a cookie
// or session value is written, its form (32 or 64 characters, as that
// release writes it), its secret when it is the request's own, its age,
// and that the tokens of the page are valid for it.
func TestAgainstDjango(t *testing.T) {
	cases := djangoCases()
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
		answers := runDjango(t, d, cases)
		for _, c := range cases {
			dj, ok := answers[c.Name]
			if !ok {
				t.Fatalf("Django gave no answer to %q", c.Name)
			}
			goAns := runGo(t, c, d.Series)
			t.Run(c.Name, func(t *testing.T) { compareAnswers(t, d.Series, c, dj, goAns) })
		}
	})
}

func compareAnswers(t *testing.T, series string, c djangoCase, dj, g djangoAnswer) {
	switch {
	case c.goStricter:
		if !dj.Accepted || g.Accepted {
			t.Errorf("want Django to accept and Go to refuse: Django accepted=%v %q, Go accepted=%v %q", dj.Accepted, dj.Reason, g.Accepted, g.Reason)
		}
		return
	case c.agreeFrom != "" && versionBefore(series, c.agreeFrom):
		// A Django older than agreeFrom decides otherwise (no Origin
		// check before 4.0, trusted origins without a scheme, a 32-character
		// secret in the session not read): the Go side follows the newer.
		t.Logf("Django %s accepted=%v %q; Go (as Django %s) accepted=%v %q", series, dj.Accepted, dj.Reason, c.agreeFrom, g.Accepted, g.Reason)
		return
	case dj.Accepted != g.Accepted:
		t.Fatalf("Django accepted=%v (%q), Go accepted=%v (%q)", dj.Accepted, dj.Reason, g.Accepted, g.Reason)
	case !dj.Accepted && !versionBefore(series, "4.1") && dj.Reason != g.Reason:
		t.Errorf("reason: Django %q, Go %q", dj.Reason, g.Reason)
	}
	// Django 3.2 writes no cookie for a malformed one until a token is
	// asked for; Go replaces it at once, as 4.0 and later do.
	lazy32 := versionBefore(series, "4.0") && c.Cookie != nil && CheckFormat(*c.Cookie) != "" && !c.GetToken
	if (dj.SetCookie == nil) != (g.SetCookie == nil) && !(lazy32 && dj.SetCookie == nil) {
		t.Fatalf("cookie set: Django %v, Go %v", show(dj.SetCookie), show(g.SetCookie))
	}
	compareStored(t, "cookie", c, c.Cookie, dj.SetCookie, g.SetCookie)
	if dj.SetCookie != nil && g.SetCookie != nil {
		if *dj.MaxAge != *g.MaxAge {
			t.Errorf("cookie max-age: Django %q, Go %q", *dj.MaxAge, *g.MaxAge)
		}
		if !strings.Contains(g.Vary, "Cookie") || !strings.Contains(dj.Vary, "Cookie") {
			t.Errorf("Vary: Django %q, Go %q", dj.Vary, g.Vary)
		}
	}
	if (dj.Session == nil) != (g.Session == nil) {
		t.Fatalf("session value: Django %v, Go %v", show(dj.Session), show(g.Session))
	}
	compareStored(t, "session", c, c.Session, dj.Session, g.Session)
	if len(dj.Tokens) != len(g.Tokens) {
		t.Fatalf("tokens: Django %v, Go %v", dj.Tokens, g.Tokens)
	}
	for i := range g.Tokens {
		for _, side := range []struct {
			name   string
			token  string
			stored *string
		}{{"Django", dj.Tokens[i], firstOf(dj.SetCookie, dj.Session)}, {"Go", g.Tokens[i], firstOf(g.SetCookie, g.Session)}} {
			if len(side.token) != TokenLength || side.stored == nil || !Matches(side.token, SecretOf(*side.stored)) {
				t.Errorf("%s's page token %q does not match what it stored (%v)", side.name, side.token, show(side.stored))
			}
		}
	}
}

// compareStored compares the values Django and Go write (cookie or
// session): the same length (the release's form), and, when the request
// came with a valid secret and did not rotate it, that secret.
func compareStored(t *testing.T, what string, c djangoCase, in, dj, g *string) {
	t.Helper()
	if dj == nil || g == nil {
		return
	}
	if len(*dj) != len(*g) || CheckFormat(*g) != "" {
		t.Errorf("%s written: Django %q, Go %q: not the same form", what, *dj, *g)
	}
	if in != nil && CheckFormat(*in) == "" && !c.Rotate {
		want := SecretOf(*in)
		if SecretOf(*dj) != want || SecretOf(*g) != want {
			t.Errorf("%s written: Django %q, Go %q: want the request's secret %q kept", what, *dj, *g, want)
		}
	}
	if c.Rotate && in != nil && (SecretOf(*g) == SecretOf(*in) || SecretOf(*dj) == SecretOf(*in)) {
		t.Errorf("%s after rotate_token: Django %q, Go %q: the old secret %q kept", what, *dj, *g, *in)
	}
}

func firstOf(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

func show(s *string) string {
	if s == nil {
		return "none"
	}
	return strconv.Quote(*s)
}
