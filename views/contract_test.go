package views_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// apiSession reads /api/session and decodes it.
func (s *site) apiSession() (map[string]any, float64, bool) {
	s.t.Helper()
	r := s.get("/api/session")
	wantStatus(s.t, r, http.StatusOK)
	var body struct {
		Data                 map[string]any `json:"data"`
		ExpiryAge            *float64       `json:"expiry_age"`
		ExpireAtBrowserClose *bool          `json:"expire_at_browser_close"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		s.t.Fatalf("/api/session: %v; body %s", err, r.body)
	}
	if body.Data == nil || body.ExpiryAge == nil || body.ExpireAtBrowserClose == nil {
		s.t.Fatalf("/api/session: missing field in %s", r.body)
	}
	return body.Data, *body.ExpiryAge, *body.ExpireAtBrowserClose
}

func TestGetDefaultsOnAFreshClient(t *testing.T) {
	s := newSite(t)
	r := s.get("/get")
	wantStatus(t, r, http.StatusOK)
	if got, want := r.message(), "User: Guest, Role: none, Logins: 0"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if c := r.setCookie("sessionid"); c != nil {
		t.Errorf("reading an empty session set a cookie: %v", c)
	}
}

// TestDemoWalk follows the contract table in order with one client: each
// route's sentence, its effect on the session (seen through /get and
// /api/session) and the session cookie.
func TestDemoWalk(t *testing.T) {
	s := newSite(t)

	r := s.get("/set")
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Session data set." {
		t.Errorf("/set message %q", got)
	}
	ck := r.setCookie("sessionid")
	if ck == nil {
		t.Fatal("/set sent no session cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != 1209600 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Max-Age=1209600", ck)
	}
	if !strings.Contains(r.Header.Get("Vary"), "Cookie") {
		t.Errorf("/set: Vary %q lacks Cookie", r.Header.Get("Vary"))
	}
	key := ck.Value

	r = s.get("/get")
	if got, want := r.message(), "User: harun_dev, Role: admin, Logins: 1"; got != want {
		t.Errorf("/get after /set: %q, want %q", got, want)
	}
	if c := r.setCookie("sessionid"); c != nil {
		t.Errorf("/get (a read) set the cookie again: %v", c)
	}

	wantStatus(t, s.get("/set"), http.StatusOK)
	if got, want := s.get("/get").message(), "User: harun_dev, Role: admin, Logins: 2"; got != want {
		t.Errorf("/get after a second /set: %q, want %q (login_count += 1)", got, want)
	}

	r = s.get("/pop")
	if got := r.message(); got != "Role session key popped." {
		t.Errorf("/pop message %q", got)
	}
	if got, want := s.get("/get").message(), "User: harun_dev, Role: none, Logins: 2"; got != want {
		t.Errorf("/get after /pop: %q, want %q", got, want)
	}
	wantStatus(t, s.get("/pop"), http.StatusOK) // popping a missing key is fine

	r = s.get("/delete")
	if got := r.message(); got != "Username session key deleted." {
		t.Errorf("/delete message %q", got)
	}
	if got, want := s.get("/get").message(), "User: Guest, Role: none, Logins: 2"; got != want {
		t.Errorf("/get after /delete: %q, want %q", got, want)
	}
	r = s.get("/delete") // a missing key is not an error
	wantStatus(t, r, http.StatusOK)
	if got := r.message(); got != "Username session key deleted." {
		t.Errorf("second /delete message %q", got)
	}

	r = s.get("/clear")
	if got := r.message(); got != "Session data cleared." {
		t.Errorf("/clear message %q", got)
	}
	if got := s.cookie("sessionid"); got != key {
		t.Errorf("/clear changed the session key: %q, want %q", got, key)
	}
	if data, _, _ := s.apiSession(); len(data) != 0 {
		t.Errorf("data after /clear: %v, want none", data)
	}

	wantStatus(t, s.get("/set"), http.StatusOK)
	r = s.get("/flush")
	if got := r.message(); got != "Session flushed." {
		t.Errorf("/flush message %q", got)
	}
	if c := r.setCookie("sessionid"); c == nil || c.MaxAge >= 0 {
		t.Errorf("/flush: session cookie %v, want it deleted", c)
	}
	if got := s.cookie("sessionid"); got != "" {
		t.Errorf("cookie still held after /flush: %q", got)
	}
	if got, want := s.get("/get").message(), "User: Guest, Role: none, Logins: 0"; got != want {
		t.Errorf("/get after /flush: %q, want %q", got, want)
	}
	// The flushed key opens nothing any more.
	old := newClient(t)
	u, _ := url.Parse(s.srv.URL)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "sessionid", Value: key}})
	s.client = old
	if got, want := s.get("/get").message(), "User: Guest, Role: none, Logins: 0"; got != want {
		t.Errorf("/get with the flushed key: %q, want %q", got, want)
	}
}

func TestPostDemosActLikeGet(t *testing.T) {
	s := newSite(t)
	for _, tc := range []struct{ path, message, after string }{
		{"/set", "Session data set.", "User: harun_dev, Role: admin, Logins: 1"},
		{"/pop", "Role session key popped.", "User: harun_dev, Role: none, Logins: 1"},
		{"/delete", "Username session key deleted.", "User: Guest, Role: none, Logins: 1"},
		{"/clear", "Session data cleared.", "User: Guest, Role: none, Logins: 0"},
		{"/set", "Session data set.", "User: harun_dev, Role: admin, Logins: 1"},
		{"/flush", "Session flushed.", "User: Guest, Role: none, Logins: 0"},
	} {
		r := s.post(tc.path, nil)
		wantStatus(t, r, http.StatusOK)
		if got := r.message(); got != tc.message {
			t.Errorf("POST %s: message %q, want %q", tc.path, got, tc.message)
		}
		if got := s.get("/get").message(); got != tc.after {
			t.Errorf("after POST %s: %q, want %q", tc.path, got, tc.after)
		}
	}
}

func TestSetExpiry(t *testing.T) {
	t.Run("seconds in the query", func(t *testing.T) {
		s := newSite(t)
		r := s.get("/set?expiry=300")
		wantStatus(t, r, http.StatusOK)
		if c := r.setCookie("sessionid"); c == nil || c.MaxAge != 300 {
			t.Fatalf("cookie %v, want Max-Age=300", c)
		}
		data, age, browserClose := s.apiSession()
		if age != 300 || browserClose {
			t.Errorf("expiry_age %v, expire_at_browser_close %v; want 300, false", age, browserClose)
		}
		if got := data["_session_expiry"]; got != float64(300) {
			t.Errorf("_session_expiry %v, want 300", got)
		}
		if got := r.text("inspector-expiry-age"); got != "5 minutes (300 s)" {
			t.Errorf("inspector expiry age %q, want 5 minutes (300 s)", got)
		}
	})
	t.Run("zero: browser close", func(t *testing.T) {
		s := newSite(t)
		r := s.get("/set?expiry=0")
		wantStatus(t, r, http.StatusOK)
		c := r.setCookie("sessionid")
		if c == nil || c.MaxAge != 0 || !c.Expires.IsZero() {
			t.Fatalf("cookie %v, want a browser-session cookie (no Max-Age, no Expires)", c)
		}
		if _, _, browserClose := s.apiSession(); !browserClose {
			t.Error("expire_at_browser_close false after ?expiry=0")
		}
		if got := r.text("inspector-browser-close"); got != "yes" {
			t.Errorf("inspector browser close %q, want yes", got)
		}
	})
	t.Run("in the POST form", func(t *testing.T) {
		s := newSite(t)
		r := s.post("/set", url.Values{"expiry": {"60"}})
		wantStatus(t, r, http.StatusOK)
		if c := r.setCookie("sessionid"); c == nil || c.MaxAge != 60 {
			t.Fatalf("cookie %v, want Max-Age=60", c)
		}
	})
	t.Run("empty form field: no expiry", func(t *testing.T) {
		s := newSite(t)
		r := s.post("/set", url.Values{"expiry": {""}})
		wantStatus(t, r, http.StatusOK)
		if c := r.setCookie("sessionid"); c == nil || c.MaxAge != 1209600 {
			t.Fatalf("cookie %v, want the default Max-Age", c)
		}
	})
	for _, bad := range []string{"abc", "-1", "1.5", "1e3", "99999999999999999999", "315360001"} {
		t.Run("bad "+bad, func(t *testing.T) {
			s := newSite(t)
			wantStatus(t, s.get("/set"), http.StatusOK)
			key := s.cookie("sessionid")
			r := s.get("/set?expiry=" + url.QueryEscape(bad))
			wantStatus(t, r, http.StatusBadRequest)
			if msg := r.text("error-message"); !strings.Contains(msg, "expiry must be a whole number of seconds") {
				t.Errorf("400 message %q does not say what expiry must be", msg)
			}
			if c := r.setCookie("sessionid"); c != nil {
				t.Errorf("a refused /set sent a session cookie: %v", c)
			}
			if got, want := s.get("/get").message(), "User: harun_dev, Role: admin, Logins: 1"; got != want {
				t.Errorf("session changed by a refused /set: %q, want %q", got, want)
			}
			if _, age, _ := s.apiSession(); age != 1209600 {
				t.Errorf("expiry changed by a refused /set: %v", age)
			}
			if s.cookie("sessionid") != key {
				t.Error("session key changed by a refused /set")
			}
		})
	}
}

func TestVisitsCountsEachVisit(t *testing.T) {
	s := newSite(t)
	for i, want := range []string{
		"You have visited this page 1 times.",
		"You have visited this page 2 times.",
		"You have visited this page 3 times.",
	} {
		r := s.get("/visits")
		wantStatus(t, r, http.StatusOK)
		if got := r.message(); got != want {
			t.Errorf("visit %d: %q, want %q", i+1, got, want)
		}
	}
	if data, _, _ := s.apiSession(); data["visits"] != float64(3) {
		t.Errorf("stored visits %v, want 3", data["visits"])
	}
}

func TestLogin(t *testing.T) {
	s := newSite(t)
	wantStatus(t, s.get("/set"), http.StatusOK)
	before := s.cookie("sessionid")

	r := s.get("/login")
	wantStatus(t, r, http.StatusOK)
	if r.doc.Find(`form[method="post"][action="/login"] input[name="username"]`).Length() != 1 {
		t.Fatal("GET /login has no username form")
	}
	if got := s.cookie("sessionid"); got != before {
		t.Error("GET /login changed the session")
	}

	r = s.post("/login", url.Values{"username": {"  ada  "}})
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/" {
		t.Errorf("Location %q, want /", got)
	}
	after := s.cookie("sessionid")
	if after == "" || after == before {
		t.Fatalf("login did not cycle the session key: before %q, after %q", before, after)
	}
	home := s.get("/")
	if got := home.text("welcome"); got != "Welcome ada" {
		t.Errorf("header %q, want %q", got, "Welcome ada")
	}
	data, _, _ := s.apiSession()
	if data["username"] != "ada" || data["role"] != "admin" || data["login_count"] != float64(1) {
		t.Errorf("data after login %v: want username ada and the earlier data kept", data)
	}
	// The pre-login key is dead (session fixation).
	fixed := newClient(t)
	u, _ := url.Parse(s.srv.URL)
	fixed.Jar.SetCookies(u, []*http.Cookie{{Name: "sessionid", Value: before}})
	s.client, fixed = fixed, s.client
	if got := s.get("/get").message(); got != "User: Guest, Role: none, Logins: 0" {
		t.Errorf("the key from before login still opens the session: %q", got)
	}
	s.client = fixed
}

func TestLoginRefusesBadNames(t *testing.T) {
	for name, username := range map[string]string{
		"empty":    "",
		"spaces":   "   ",
		"too long": strings.Repeat("a", 151),
		"control":  "ad\x00a",
	} {
		t.Run(name, func(t *testing.T) {
			s := newSite(t)
			wantStatus(t, s.get("/set"), http.StatusOK)
			key := s.cookie("sessionid")
			r := s.post("/login", url.Values{"username": {username}})
			wantStatus(t, r, http.StatusBadRequest)
			if r.text("form-error") == "" {
				t.Error("the form shows no error")
			}
			if r.doc.Find(`form[action="/login"] input[name="username"]`).Length() != 1 {
				t.Error("the 400 does not show the form again")
			}
			if s.cookie("sessionid") != key {
				t.Error("a refused login cycled the key")
			}
			if got := s.get("/get").message(); got != "User: harun_dev, Role: admin, Logins: 1" {
				t.Errorf("a refused login changed the session: %q", got)
			}
		})
	}
	t.Run("150 characters is fine", func(t *testing.T) {
		s := newSite(t)
		wantStatus(t, s.post("/login", url.Values{"username": {strings.Repeat("é", 150)}}), http.StatusSeeOther)
	})
}

func TestLogout(t *testing.T) {
	s := newSite(t)
	wantStatus(t, s.post("/login", url.Values{"username": {"ada"}}), http.StatusSeeOther)
	key := s.cookie("sessionid")

	r := s.get("/logout")
	wantStatus(t, r, http.StatusOK)
	if r.doc.Find(`[data-testid="logout-form"][method="post"][action="/logout"]`).Length() != 1 {
		t.Error("GET /logout shows no POST form")
	}
	if got := s.get("/").text("welcome"); got != "Welcome ada" {
		t.Errorf("GET /logout logged out: header %q", got)
	}

	r = s.post("/logout", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != "/" {
		t.Errorf("Location %q, want /", got)
	}
	if c := r.setCookie("sessionid"); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout: cookie %v, want it deleted", c)
	}
	home := s.get("/")
	if home.doc.Find(`[data-testid="welcome"]`).Length() != 0 {
		t.Errorf("still welcomed after logout: %q", home.text("welcome"))
	}
	if data, _, _ := s.apiSession(); len(data) != 0 {
		t.Errorf("data after logout: %v", data)
	}
	if _, err := s.store.Load(t.Context(), key); err == nil {
		t.Error("the session row survived logout")
	}
}

func TestEditor(t *testing.T) {
	s := newSite(t)
	r := s.get("/session")
	wantStatus(t, r, http.StatusOK)
	if r.doc.Find(`form[action="/session"][method="post"] input[name="key"]`).Length() != 1 {
		t.Fatal("GET /session shows no editor form")
	}
	for _, kv := range []struct {
		value string
		want  any
	}{
		{"42", float64(42)},
		{"hello", "hello"},
		{`"42"`, "42"},
		{"true", true},
		{"null", nil},
		{`[1, "a"]`, []any{float64(1), "a"}},
		{`{"a": 1}`, map[string]any{"a": float64(1)}},
		{"", ""},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), nested(100)}, // the deepest allowed
		{"{not json", "{not json"},
	} {
		r := s.post("/session", url.Values{"key": {"k"}, "value": {kv.value}})
		wantStatus(t, r, http.StatusSeeOther)
		if got := r.Header.Get("Location"); got != "/" {
			t.Errorf("Location %q, want /", got)
		}
		data, _, _ := s.apiSession()
		got, _ := json.Marshal(data["k"])
		want, _ := json.Marshal(kv.want)
		if string(got) != string(want) {
			t.Errorf("value %q stored as %s, want %s", kv.value, got, want)
		}
	}
	home := s.get("/")
	var typ string
	home.doc.Find(`[data-testid="inspector-item"]`).Each(func(_ int, row *goquery.Selection) {
		if row.Find(`[data-testid="item-key"]`).Text() == "k" {
			typ = row.Find(`[data-testid="item-type"]`).Text()
		}
	})
	if typ != "string" {
		t.Errorf("inspector type of k %q, want string", typ)
	}

	t.Run("setdefault", func(t *testing.T) {
		for _, tc := range []struct {
			value, setdefault, want string
		}{
			{"first", "1", "first"},  // absent: stored
			{"second", "1", "first"}, // present: kept
			{"third", "", "third"},   // plain assignment replaces
		} {
			wantStatus(t, s.post("/session", url.Values{"key": {"sd"}, "value": {tc.value}, "setdefault": {tc.setdefault}}), http.StatusSeeOther)
			if data, _, _ := s.apiSession(); data["sd"] != tc.want {
				t.Errorf("after %q (setdefault=%q): %v, want %q", tc.value, tc.setdefault, data["sd"], tc.want)
			}
		}
	})

	t.Run("expiry", func(t *testing.T) {
		for _, tc := range []struct {
			expiry  string
			age     float64
			browser bool
		}{
			{"120", 120, false},
			{"0", 1209600, true},
			{s.clock.Now().Add(24 * time.Hour).Format(time.RFC3339), 86400, false},
			{"none", 1209600, false},
		} {
			wantStatus(t, s.post("/session", url.Values{"key": {"k"}, "value": {"v"}, "expiry": {tc.expiry}}), http.StatusSeeOther)
			_, age, browser := s.apiSession()
			if age != tc.age || browser != tc.browser {
				t.Errorf("expiry %q: expiry_age %v, browser close %v; want %v, %v", tc.expiry, age, browser, tc.age, tc.browser)
			}
		}
	})

	for name, form := range map[string]url.Values{
		"empty key":      {"key": {""}, "value": {"v"}},
		"reserved key":   {"key": {"_session_expiry"}, "value": {"1"}},
		"underscore key": {"key": {"_x"}, "value": {"v"}},
		"long key":       {"key": {strings.Repeat("k", 101)}, "value": {"v"}},
		"long value":     {"key": {"k"}, "value": {strings.Repeat("v", 4097)}},
		// Deeper than the session framework stores (1,000): was a 500.
		"1,002 nested lists": {"key": {"k"}, "value": {strings.Repeat("[", 1002) + strings.Repeat("]", 1002)}},
		"2,047 nested lists": {"key": {"k"}, "value": {strings.Repeat("[", 2047) + strings.Repeat("]", 2047)}},
		"101 nested objects": {"key": {"k"}, "value": {strings.Repeat(`{"a":`, 101) + "1" + strings.Repeat("}", 101)}},
		"bad expiry":         {"key": {"k"}, "value": {"v"}, "expiry": {"soon"}},
		"past expiry":        {"key": {"k"}, "value": {"v"}, "expiry": {"2000-01-01T00:00:00Z"}},
		"negative":           {"key": {"k"}, "value": {"v"}, "expiry": {"-5"}},
	} {
		t.Run(name, func(t *testing.T) {
			before, _, _ := s.apiSession()
			r := s.post("/session", form)
			wantStatus(t, r, http.StatusBadRequest)
			if r.text("form-error") == "" {
				t.Error("no error shown in the form")
			}
			after, _, _ := s.apiSession()
			b, _ := json.Marshal(before)
			a, _ := json.Marshal(after)
			if string(a) != string(b) {
				t.Errorf("a refused edit changed the session: %s -> %s", b, a)
			}
		})
	}
}

// nested is n lists, each holding the next, the innermost empty.
func nested(n int) any {
	v := []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func TestAPISessionNeverTouchesTheSession(t *testing.T) {
	t.Run("no cookie", func(t *testing.T) {
		s := newSite(t)
		r := s.get("/api/session")
		wantStatus(t, r, http.StatusOK)
		if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
			t.Errorf("Content-Type %q", got)
		}
		if got, want := strings.TrimSpace(r.body), `{"data":{},"expiry_age":1209600,"expire_at_browser_close":false,"user":null}`; got != want {
			t.Errorf("body %s, want %s", got, want)
		}
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("Set-Cookie %v", r.Header.Values("Set-Cookie"))
		}
	})
	t.Run("save every request", func(t *testing.T) {
		s := newSiteWith(t, siteOptions{saveEveryRequest: true})
		wantStatus(t, s.get("/set?expiry=600"), http.StatusOK)
		key := s.cookie("sessionid")
		rec, err := s.store.Load(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Add(time.Minute)
		r := s.get("/api/session")
		wantStatus(t, r, http.StatusOK)
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("Set-Cookie %v", r.Header.Values("Set-Cookie"))
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatal(err)
		}
		data := body["data"].(map[string]any)
		if data["username"] != "harun_dev" || body["expiry_age"] != float64(600) || body["expire_at_browser_close"] != false {
			t.Errorf("body %s", r.body)
		}
		after, err := s.store.Load(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if after != rec {
			t.Errorf("/api/session rewrote the record: %+v -> %+v", rec, after)
		}
		// A page with the middleware does save it (the control).
		wantStatus(t, s.get("/get"), http.StatusOK)
		if again, _ := s.store.Load(t.Context(), key); again == rec {
			t.Error("the control request did not save: the test cannot tell")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		s := newSite(t)
		u, _ := url.Parse(s.srv.URL)
		s.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sessionid", Value: strings.Repeat("a", 32)}})
		r := s.get("/api/session")
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, `"data":{}`) || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("body %s, Set-Cookie %v", r.body, r.Header.Values("Set-Cookie"))
		}
	})
	t.Run("POST is not allowed", func(t *testing.T) {
		s := newSite(t)
		r := s.postRaw("/api/session", url.Values{})
		wantStatus(t, r, http.StatusMethodNotAllowed)
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("Set-Cookie %v", r.Header.Values("Set-Cookie"))
		}
	})
}

func TestTrailingSlash(t *testing.T) {
	s := newSite(t)
	for _, p := range []string{"/set", "/get", "/delete", "/pop", "/clear", "/flush", "/visits", "/login", "/logout", "/session", "/learn", "/api/session"} {
		r := s.get(p + "/?expiry=5")
		wantStatus(t, r, http.StatusMovedPermanently)
		if got, want := r.Header.Get("Location"), p+"?expiry=5"; got != want {
			t.Errorf("GET %s/: Location %q, want %q", p, got, want)
		}
	}
	for _, p := range []string{"/set", "/delete", "/pop", "/clear", "/flush"} {
		wantStatus(t, s.post(p+"/", nil), http.StatusOK)
	}
	wantStatus(t, s.post("/session/", url.Values{"key": {"a"}, "value": {"1"}}), http.StatusSeeOther)
	wantStatus(t, s.post("/login/", url.Values{"username": {"ada"}}), http.StatusSeeOther)
	wantStatus(t, s.post("/logout/", nil), http.StatusSeeOther)
}
