package views_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/djangosessions/gosessions/app/engine"
)

// Browsers' user agents, as the index records them.
const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safariIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	chromeWin    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// browserOn is another browser (a cookie jar of its own) on s's site,
// sending ua as its User-Agent.
func browserOn(s *site, ua string) *site {
	b := *s
	b.client = newClient(s.t)
	b.client.Transport = uaTransport(ua)
	return &b
}

type uaTransport string

func (ua uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(ua))
	return http.DefaultTransport.RoundTrip(r)
}

func (s *site) loginAs(username, password string) {
	s.t.Helper()
	r := s.post("/accounts/login/", url.Values{"username": {username}, "password": {password}})
	if r.StatusCode != http.StatusFound {
		s.t.Fatalf("login as %s: %d", username, r.StatusCode)
	}
}

// device is one entry of the page.
type device struct{ id, browser, system string }

func devicesOf(t *testing.T, r *response) []device {
	t.Helper()
	var out []device
	r.doc.Find(`[data-testid="device"]`).Each(func(_ int, d *goquery.Selection) {
		dev := device{browser: strings.TrimSpace(d.Find(`[data-testid="device-browser"]`).Text()), system: strings.TrimSpace(d.Find(`[data-testid="device-system"]`).Text())}
		if d.Find(`[data-testid="this-device"]`).Length() > 0 {
			dev.id = "this"
		} else {
			dev.id, _ = d.Find(`input[name="signout"]`).Attr("value")
		}
		out = append(out, dev)
	})
	return out
}

// TestDevicesPage walks /accounts/sessions/: login required; the user's
// sessions listed as devices with their browsers and systems, this device
// first and without a sign-out button; no session key anywhere on the
// page; a device signed out (303 back) is logged out at its next request;
// "sign out all other devices" leaves this one; a POST without the CSRF
// token is refused; a malformed form is a 400.
func TestDevicesPage(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "correct horse")
	s.addUser("bob", "battery staple")

	if r := s.get("/accounts/sessions/"); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/accounts/login/?next=/accounts/sessions/" {
		t.Fatalf("anonymous: %d %q, want 302 to the login", r.StatusCode, r.Header.Get("Location"))
	}
	laptop, phone, desk, bob := browserOn(s, firefoxLinux), browserOn(s, safariIPhone), browserOn(s, chromeWin), browserOn(s, chromeWin)
	for _, b := range []*site{laptop, phone, desk} {
		b.loginAs("alice", "correct horse")
	}
	bob.loginAs("bob", "battery staple")

	r := laptop.get("/accounts/sessions/")
	wantStatus(t, r, http.StatusOK)
	ds := devicesOf(t, r)
	if len(ds) != 3 || ds[0] != (device{"this", "Firefox 128", "Linux"}) {
		t.Fatalf("devices = %+v, want 3, this Firefox on Linux first", ds)
	}
	systems := map[string]string{}
	for _, d := range ds[1:] {
		systems[d.browser] = d.system
		if len(d.id) != 16 {
			t.Errorf("device id %q: want 16 opaque characters", d.id)
		}
	}
	if systems["Safari 17"] != "iOS 17.5" || systems["Chrome 131"] != "Windows 10" {
		t.Errorf("the other devices: %v", systems)
	}
	if r.text("message") != "You are signed in on 3 devices." {
		t.Errorf("message %q", r.text("message"))
	}
	for _, b := range []*site{laptop, phone, desk, bob} {
		if k := b.cookie("sessionid"); strings.Contains(r.body, k) || strings.Contains(r.body, k[:12]) {
			t.Errorf("the page shows a session key (%s…)", k[:8])
		}
	}
	if n := len(devicesOf(t, bob.get("/accounts/sessions/"))); n != 1 {
		t.Errorf("bob sees %d devices, want his one", n)
	}

	// Sign out the phone: a 303 back; the phone is logged out.
	var phoneID string
	for _, d := range ds {
		if d.browser == "Safari 17" {
			phoneID = d.id
		}
	}
	if r := laptop.postRaw("/accounts/sessions/", url.Values{"signout": {phoneID}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a sign-out without the CSRF token: %d, want 403", r.StatusCode)
	}
	r = laptop.post("/accounts/sessions/", url.Values{"signout": {phoneID}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/accounts/sessions/" {
		t.Fatalf("sign out a device: %d %q, want 303 back", r.StatusCode, r.Header.Get("Location"))
	}
	if r := phone.get("/accounts/profile/"); r.StatusCode != http.StatusFound {
		t.Errorf("the signed-out phone still reaches the profile: %d", r.StatusCode)
	}
	r = laptop.get("/accounts/sessions/")
	if n := len(devicesOf(t, r)); n != 2 {
		t.Errorf("%d devices after signing out one, want 2", n)
	}
	if got := r.text("flash-text"); got != "Signed out 1 session." {
		t.Errorf("flash message after the sign-out: %q", got)
	}

	// Sign out all the others: the desk goes, the laptop stays.
	r = laptop.post("/accounts/sessions/", url.Values{"signout_others": {"1"}})
	wantStatus(t, r, http.StatusSeeOther)
	if r := desk.get("/accounts/profile/"); r.StatusCode != http.StatusFound {
		t.Errorf("the desk still reaches the profile after sign out all others: %d", r.StatusCode)
	}
	r = laptop.get("/accounts/sessions/")
	if ds := devicesOf(t, r); len(ds) != 1 || ds[0].id != "this" {
		t.Errorf("devices after signing out the others: %+v", ds)
	}
	if r.doc.Find(`[data-testid="signout-others"]`).Length() != 0 {
		t.Error("the page offers to sign out other devices when there are none")
	}
	if r := bob.get("/accounts/profile/"); r.StatusCode != http.StatusOK {
		t.Errorf("bob after alice's sign-outs: %d", r.StatusCode)
	}

	for _, form := range []url.Values{{}, {"signout": {"not-an-id"}}, {"signout_others": {"yes"}}} {
		if r := laptop.post("/accounts/sessions/", form); r.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %v: %d, want 400", form, r.StatusCode)
		}
	}
}

// TestAPISessions: /api/sessions is the same list as JSON, opaque ids
// and never a key; anonymous visitors get a 403 with a JSON error; it
// sets no cookie.
func TestAPISessions(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "correct horse")
	r := s.get("/api/sessions")
	if r.StatusCode != http.StatusForbidden || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("anonymous: %d %q, want a 403 in JSON", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
		t.Errorf("anonymous body %q: want {\"error\": ...}", r.body)
	}

	laptop, phone := browserOn(s, firefoxLinux), browserOn(s, safariIPhone)
	laptop.loginAs("alice", "correct horse")
	phone.loginAs("alice", "correct horse")
	r = laptop.get("/api/sessions")
	wantStatus(t, r, http.StatusOK)
	if len(r.Cookies()) != 0 {
		t.Errorf("/api/sessions set cookies: %v", r.Cookies())
	}
	var body struct {
		Sessions []struct {
			ID        string `json:"id"`
			Current   bool   `json:"current"`
			UserAgent string `json:"user_agent"`
			IP        string `json:"ip"`
			Created   string `json:"created"`
			LastSeen  string `json:"last_seen"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if len(body.Sessions) != 2 || !body.Sessions[0].Current || body.Sessions[0].UserAgent != firefoxLinux || body.Sessions[1].UserAgent != safariIPhone || body.Sessions[0].IP != "127.0.0.1" {
		t.Fatalf("sessions = %+v", body.Sessions)
	}
	for _, k := range []string{laptop.cookie("sessionid"), phone.cookie("sessionid")} {
		if strings.Contains(r.body, k[:12]) {
			t.Error("/api/sessions shows a session key")
		}
	}
}

// TestDevicesSignedCookies: with signed cookies the page says there is
// nothing on the server to list, and a sign-out is refused.
func TestDevicesSignedCookies(t *testing.T) {
	s := newSiteWith(t, siteOptions{engine: engine.SignedCookies})
	s.addUser("alice", "correct horse")
	s.loginAs("alice", "correct horse")
	r := s.get("/accounts/sessions/")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.text("devices-unavailable"), "nothing is kept on the server") {
		t.Errorf("signed cookies: %q", r.text("devices-unavailable"))
	}
	if r := s.post("/accounts/sessions/", url.Values{"signout_others": {"1"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a sign-out with signed cookies: %d, want 400", r.StatusCode)
	}
}

// TestInspectorShowsTimeouts: with SESSION_IDLE_TIMEOUT and
// SESSION_ABSOLUTE_TIMEOUT the inspector says when the session ends by
// each; without them it shows neither.
func TestInspectorShowsTimeouts(t *testing.T) {
	s := newSiteWith(t, siteOptions{idle: 30 * time.Minute, absolute: 8 * time.Hour})
	r := s.get("/set")
	now := s.clock.Now()
	if got, want := r.text("inspector-idle-timeout"), now.Add(30*time.Minute).Format("2006-01-02 15:04:05 UTC")+" unless used"; got != want {
		t.Errorf("idle timeout %q, want %q", got, want)
	}
	if got, want := r.text("inspector-absolute-timeout"), now.Add(8*time.Hour).Format("2006-01-02 15:04:05 UTC"); got != want {
		t.Errorf("absolute timeout %q, want %q", got, want)
	}
	plain := newSite(t).get("/set")
	if plain.doc.Find(`[data-testid="inspector-idle-timeout"], [data-testid="inspector-absolute-timeout"]`).Length() != 0 {
		t.Error("the inspector shows timeouts that are off")
	}
}

// TestPasswordPageSignsOutOtherDevices: /accounts/password/ keeps this
// device logged in and signs out the user's other devices at once,
// through the per-user index: they are gone from the list right away,
// not only refused at their next request.
func TestPasswordPageSignsOutOtherDevices(t *testing.T) {
	s := newSite(t)
	s.addUser("alice", "correct horse")
	laptop, phone := browserOn(s, firefoxLinux), browserOn(s, safariIPhone)
	laptop.loginAs("alice", "correct horse")
	phone.loginAs("alice", "correct horse")
	if n := len(devicesOf(t, laptop.get("/accounts/sessions/"))); n != 2 {
		t.Fatalf("%d devices before, want 2", n)
	}
	r := laptop.post("/accounts/password/", url.Values{"old_password": {"correct horse"}, "new_password1": {"battery staple"}, "new_password2": {"battery staple"}})
	if r.StatusCode != http.StatusFound && r.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", r.StatusCode)
	}
	ds := devicesOf(t, laptop.get("/accounts/sessions/"))
	if len(ds) != 1 || ds[0].id != "this" {
		t.Errorf("devices right after the password change: %+v, want this device alone", ds)
	}
	if r := phone.get("/accounts/profile/"); r.StatusCode != http.StatusFound {
		t.Errorf("the phone after the password change: %d, want logged out", r.StatusCode)
	}
}
