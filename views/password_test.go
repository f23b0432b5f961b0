package views_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/djangosessions/gosessions/app/auth"
)

// TestLoginRequiredByDefault: every page of the /accounts/ tree needs a
// login (a 302 to LOGIN_URL?next=<the page>) except the login page and
// the logout; the site's public routes stay public; a changed LOGIN_URL
// and LOGIN_REDIRECT_URL are honoured.
func TestLoginRequiredByDefault(t *testing.T) {
	s := newSiteWith(t, siteOptions{metrics: true})
	for _, path := range []string{"/accounts/profile/", "/accounts/password/", "/accounts/password/?x=1"} {
		r := s.get(path)
		want := "/accounts/login/?next=" + strings.ReplaceAll(strings.ReplaceAll(path, "?", "%3F"), "=", "%3D")
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("anonymous GET %s: %d %q, want 302 to %s", path, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	if r := s.post("/accounts/password/", url.Values{"old_password": {"x"}}); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/accounts/login/?next=") {
		t.Errorf("anonymous POST /accounts/password/: %d %q, want 302 to the login page", r.StatusCode, r.Header.Get("Location"))
	}
	if r := s.get("/accounts/password"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/accounts/password/" {
		t.Errorf("/accounts/password without its slash: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	wantStatus(t, s.get("/accounts/login/"), http.StatusOK)
	if r := s.post("/accounts/logout/", nil); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/" {
		t.Errorf("anonymous logout: %d %q, want 302 to /", r.StatusCode, r.Header.Get("Location"))
	}
	// Every public page: the demos, the JSON API, the health endpoints,
	// the metrics, the static files.
	for _, path := range []string{
		"/", "/set", "/get", "/delete", "/pop", "/clear", "/flush", "/visits", "/testcookie", "/login", "/logout",
		"/session", "/learn", "/api/session", "/api/messages", "/healthz", "/readyz", "/metrics", "/static/site.css",
	} {
		if r := s.get(path); r.StatusCode != http.StatusOK {
			t.Errorf("anonymous GET %s: %d, want 200", path, r.StatusCode)
		}
	}

	// Another LOGIN_URL: where anonymous visitors go; the login page at
	// /accounts/login/ stays reachable, being marked. Another
	// LOGIN_REDIRECT_URL: where a login without next goes.
	s = newSiteWith(t, siteOptions{loginURL: "/login", loginRedirectURL: "/get"})
	s.addUser("alice", "pw")
	if r := s.get("/accounts/profile/"); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/login?next=/accounts/profile/" {
		t.Errorf("LOGIN_URL=/login: anonymous profile %d %q, want 302 to /login?next=/accounts/profile/", r.StatusCode, r.Header.Get("Location"))
	}
	wantStatus(t, s.get("/accounts/login/"), http.StatusOK)
	if r := s.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"pw"}}); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/get" {
		t.Errorf("LOGIN_REDIRECT_URL=/get: login %d %q, want 302 to /get", r.StatusCode, r.Header.Get("Location"))
	}
	wantStatus(t, s.get("/accounts/password/"), http.StatusOK)
}

// TestPasswordChange walks the contract's /accounts/password/ row:
// Django's PasswordChangeForm fields; a wrong old password, new
// passwords that differ or a missing field show the form again with
// Django's error, status 200, and change nothing; a valid change keeps
// this session logged in with a new key and ends the user's other
// sessions; the new password logs in and the old one does not.
func TestPasswordChange(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "old password")
	other := *s // a second browser on the same site
	other.client = newClient(t)
	s.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"old password"}})
	other.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"old password"}})

	r := s.get("/accounts/password/")
	wantStatus(t, r, http.StatusOK)
	for _, name := range []string{"old_password", "new_password1", "new_password2", "csrfmiddlewaretoken"} {
		if r.doc.Find(`[data-testid="password-form"] input[name="`+name+`"]`).Length() != 1 {
			t.Errorf("the form has no field %s", name)
		}
	}
	key := s.cookie("sessionid")
	for _, c := range []struct {
		form url.Values
		want []string
	}{
		{url.Values{"old_password": {"wrong"}, "new_password1": {"n"}, "new_password2": {"n"}}, []string{"Your old password was entered incorrectly. Please enter it again."}},
		{url.Values{"old_password": {"old password"}, "new_password1": {"a"}, "new_password2": {"b"}}, []string{"The two password fields didn\u2019t match."}},
		{url.Values{"old_password": {"wrong"}, "new_password1": {"a"}, "new_password2": {"b"}}, []string{"Your old password was entered incorrectly. Please enter it again.", "The two password fields didn\u2019t match."}},
		{url.Values{"old_password": {"old password"}, "new_password1": {""}, "new_password2": {""}}, []string{"This field is required."}},
	} {
		r := s.post("/accounts/password/", c.form)
		wantStatus(t, r, http.StatusOK)
		var got []string
		for _, n := range r.doc.Find(`[data-testid="form-error"]`).Nodes {
			got = append(got, strings.TrimSpace(n.FirstChild.Data))
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%v: errors %q, want %q", c.form, got, c.want)
		}
		if s.cookie("sessionid") != key {
			t.Errorf("%v: the session key changed", c.form)
		}
	}
	if r := other.get("/accounts/profile/"); r.StatusCode != http.StatusOK {
		t.Fatalf("a failed change ended the other session: %d", r.StatusCode)
	}
	if r := s.postRaw("/accounts/password/", url.Values{"old_password": {"old password"}, "new_password1": {"n"}, "new_password2": {"n"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a change without the CSRF token: %d, want 403", r.StatusCode)
	}

	r = s.post("/accounts/password/", url.Values{"old_password": {"old password"}, "new_password1": {"new password"}, "new_password2": {"new password"}})
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/accounts/profile/" {
		t.Fatalf("change: %d %q, want 302 to /accounts/profile/", r.StatusCode, r.Header.Get("Location"))
	}
	if k := s.cookie("sessionid"); k == key || k == "" {
		t.Error("the session key was not cycled by the change")
	}
	r = s.get("/accounts/profile/")
	wantStatus(t, r, http.StatusOK)
	if got := r.text("flash-text"); got != "Your password was changed. Your other sessions are logged out." {
		t.Errorf("the profile after the change shows the message %q", got)
	}
	if r := other.get("/accounts/profile/"); r.StatusCode != http.StatusFound {
		t.Errorf("the other session after the change: %d, want 302 to the login page", r.StatusCode)
	}
	if u := other.apiUser(); u != nil {
		t.Errorf("the other session is still %q", *u)
	}
	other.client.Jar = newClient(t).Jar
	if r := other.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"old password"}}); r.StatusCode != http.StatusOK {
		t.Errorf("the old password after the change: %d, want the form again", r.StatusCode)
	}
	if r := other.post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"new password"}}); r.StatusCode != http.StatusFound {
		t.Errorf("the new password: %d, want a login", r.StatusCode)
	}
}

// TestPasswordChangeBusy: while the site hashes as many passwords as it
// allows, a password change is a 503 with Retry-After and changes
// nothing; with a slot free it goes through.
func TestPasswordChangeBusy(t *testing.T) {
	s := newAuthSite(t, auth.Config{MaxHashing: 1, HashingWait: time.Nanosecond})
	s.setHash(t, "slow", "pbkdf2_sha256$1000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	fast, err := auth.MakePassword("pw", 1)
	if err != nil {
		t.Fatal(err)
	}
	s.setHash(t, "frank", fast)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		res, err := c.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		form.Set("csrfmiddlewaretoken", doc.Find(`input[name="csrfmiddlewaretoken"]`).First().AttrOr("value", ""))
		res, err = c.PostForm(s.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post("/accounts/login/", url.Values{"username": {"frank"}, "password": {"pw"}}); res.StatusCode != http.StatusFound {
		t.Fatalf("login: %d", res.StatusCode)
	}
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		if _, err := s.login("slow", "wrong"); err != nil {
			t.Error(err)
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); s.auth.HashingStats().InFlight == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow login never started hashing")
		}
	}
	change := url.Values{"old_password": {"pw"}, "new_password1": {"new"}, "new_password2": {"new"}}
	if res := post("/accounts/password/", change); res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "2" {
		t.Errorf("a change while busy: %d, Retry-After %q; want 503 and 2", res.StatusCode, res.Header.Get("Retry-After"))
	}
	<-slow
	if got, err := s.login("frank", "pw"); err != nil || got.status != http.StatusFound {
		t.Fatalf("the old password after a refused change: %+v, %v", got, err)
	}
	if res := post("/accounts/password/", change); res.StatusCode != http.StatusFound {
		t.Errorf("a change with a free slot: %d, want 302", res.StatusCode)
	}
}
