package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/models"
)

// testIterations keeps the tests' hashing fast; the iteration count is
// part of each hash, so any count checks.
const testIterations = 1000

// site is a Go site with the session middleware and package auth on a
// migrated SQLite file, driven over HTTP like a browser.
type site struct {
	base     string // the net/http site
	echoBase string // the same routes on Echo, through the adapters
	db       *database.DB
	auth     *auth.Auth
	sessions *session.Manager
	rotated  atomic.Int64 // CSRF rotations Login asked for
}

func newSite(t *testing.T, mutate func(*auth.Config)) *site {
	t.Helper()
	return newSiteOn(t, dbtest.SQLite(t), mutate)
}

func newSiteOn(t *testing.T, db *database.DB, mutate func(*auth.Config)) *site {
	t.Helper()
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newSiteWith(t, db, store, mutate)
}

// newSiteWith is newSiteOn with the sessions in store.
func newSiteWith(t *testing.T, db *database.DB, store session.Store, mutate func(*auth.Config)) *site {
	t.Helper()
	cfg := session.DefaultConfig()
	cfg.Store = store
	cfg.SecretKey = "test-secret"
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	acfg := auth.Config{DB: db.Gorm, SecretKey: "test-secret", Iterations: testIterations}
	if mutate != nil {
		mutate(&acfg)
	}
	a, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{db: db, auth: a, sessions: m}

	// The core, on net/http: the session middleware, then package
	// auth's own (request.user remembered per request).
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.User(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		// Asked twice: the second answer comes from the request's cache.
		if again, _ := a.User(r); again != u {
			http.Error(w, "User is not cached per request", http.StatusInternalServerError)
			return
		}
		if u == nil {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, u.Username)
	})
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(session.FromContext(r.Context()).Items())
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.Authenticate(r.Context(), r.FormValue("username"), r.FormValue("password"))
		if err != nil {
			io.WriteString(w, "error: "+err.Error())
			return
		}
		if u == nil {
			io.WriteString(w, "wrong credentials")
			return
		}
		if err := a.Login(w, r, u, func(http.ResponseWriter, *http.Request) { s.rotated.Add(1) }); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if me, _ := a.User(r); me != u {
			http.Error(w, "request.user is not the user just logged in", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, a.RedirectAfterLogin(r, r.FormValue("next")), http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		a.Logout(r)
		if me, _ := a.User(r); me != nil {
			http.Error(w, "request.user is not anonymous after Logout", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "logged out")
	})
	mux.Handle("GET /accounts/profile/", a.LoginRequired(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := a.User(r)
		io.WriteString(w, "Signed in as "+u.Username)
	})))
	srv := httptest.NewServer(m.Handler(a.Handler(mux)))
	t.Cleanup(srv.Close)
	s.base = srv.URL

	// The same routes on Echo, through the adapters.
	e := echo.New()
	e.HideBanner = true
	e.Use(m.Middleware(), a.Middleware())
	e.GET("/whoami", func(c echo.Context) error {
		u, err := a.User(c.Request())
		if err != nil {
			return err
		}
		if again, _ := a.User(c.Request()); again != u {
			return errors.New("User is not cached per request")
		}
		if u == nil {
			return c.String(http.StatusOK, "anonymous")
		}
		return c.String(http.StatusOK, u.Username)
	})
	e.POST("/login", func(c echo.Context) error {
		u, err := a.Authenticate(c.Request().Context(), c.FormValue("username"), c.FormValue("password"))
		if err != nil || u == nil {
			return c.String(http.StatusOK, "wrong credentials")
		}
		if err := a.Login(c.Response(), c.Request(), u, func(http.ResponseWriter, *http.Request) { s.rotated.Add(1) }); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, a.RedirectAfterLogin(c.Request(), c.FormValue("next")))
	})
	e.POST("/logout", func(c echo.Context) error {
		a.Logout(c.Request())
		if me, _ := a.User(c.Request()); me != nil {
			return errors.New("request.user is not anonymous after Logout")
		}
		return c.String(http.StatusOK, "logged out")
	})
	e.GET("/accounts/profile/", func(c echo.Context) error {
		u, _ := a.User(c.Request())
		return c.String(http.StatusOK, "Signed in as "+u.Username)
	}, a.EchoLoginRequired)
	esrv := httptest.NewServer(e)
	t.Cleanup(esrv.Close)
	s.echoBase = esrv.URL
	return s
}

// browser is one visitor: a cookie jar, redirects not followed.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// whoami returns the username the site sees, or "anonymous".
func (b *browser) whoami(s *site) string {
	b.t.Helper()
	_, body := b.get(s.base + "/whoami")
	return body
}

// key returns the browser's session key on s, or "".
func (b *browser) key(s *site) string {
	u, _ := url.Parse(s.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "sessionid" {
			return c.Value
		}
	}
	return ""
}

// data returns the browser's session data as the site reads it.
func (b *browser) data(s *site) map[string]any {
	b.t.Helper()
	_, body := b.get(s.base + "/session")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		b.t.Fatalf("session: %v (%q)", err, body)
	}
	return m
}

// login logs in and fails the test unless it worked.
func (b *browser) login(s *site, username, password string) {
	b.t.Helper()
	resp, body := b.post(s.base+"/login", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login as %s: %d %q", username, resp.StatusCode, body)
	}
}

// edit changes the stored session key as another process would.
func (s *site) edit(t *testing.T, key string, change func(*session.Session)) {
	t.Helper()
	sess := s.sessions.Open(t.Context(), key)
	change(sess)
	if err := sess.Save(); err != nil {
		t.Fatal(err)
	}
}

func (s *site) createUser(t *testing.T, username, password string) *models.User {
	t.Helper()
	u, err := s.auth.CreateUser(t.Context(), username, password)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginStoresDjangosKeys(t *testing.T) {
	s := newSite(t, nil)
	alice := s.createUser(t, "alice", "pw-alice")
	b := newBrowser(t)
	if got := b.whoami(s); got != "anonymous" {
		t.Fatalf("before login: %q", got)
	}
	b.login(s, "alice", "pw-alice")
	if got := b.whoami(s); got != "alice" {
		t.Errorf("after login: %q, want alice", got)
	}
	d := b.data(s)
	if d[auth.SessionKey] != "1" || d[auth.BackendSessionKey] != auth.ModelBackend {
		t.Errorf("session = %v, want _auth_user_id \"1\" (a string) and ModelBackend", d)
	}
	if h, _ := d[auth.HashSessionKey].(string); len(h) != 64 {
		t.Errorf("_auth_user_hash = %v, want 64 hex digits", d[auth.HashSessionKey])
	}
	if s.rotated.Load() != 1 {
		t.Errorf("CSRF rotated %d times, want 1", s.rotated.Load())
	}
	var stored models.User
	if err := s.db.Gorm.First(&stored, alice.ID).Error; err != nil {
		t.Fatal(err)
	}
	if stored.LastLogin == nil || time.Since(stored.LastLogin.Time) > time.Minute {
		t.Errorf("last_login = %v, want now (Django's update_last_login)", stored.LastLogin)
	}
	if resp, body := b.get(s.base + "/accounts/profile/"); resp.StatusCode != 200 || body != "Signed in as alice" {
		t.Errorf("profile = %d %q", resp.StatusCode, body)
	}

	if _, body := b.post(s.base+"/logout", nil); body != "logged out" {
		t.Fatalf("logout: %q", body)
	}
	if got := b.whoami(s); got != "anonymous" {
		t.Errorf("after logout: %q", got)
	}
	if b.key(s) != "" {
		t.Error("the session cookie survived the logout (flush deletes it)")
	}
}

// TestLoginSessionRules: Django's login() flushes a session of another
// user or with a stale hash, cycles the key of an anonymous one (keeping
// its data), and leaves the session of the same user with a matching hash
// alone.
func TestLoginSessionRules(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "alice", "pw-alice")
	s.createUser(t, "bob", "pw-bob")

	t.Run("anonymous with data: new key, data kept", func(t *testing.T) {
		// An anonymous session carrying data: a logged-in one, with the
		// login keys removed as another process would.
		b := newBrowser(t)
		b.login(s, "alice", "pw-alice")
		k := b.key(s)
		s.edit(t, k, func(sess *session.Session) {
			sess.Delete(auth.SessionKey)
			sess.Delete(auth.BackendSessionKey)
			sess.Delete(auth.HashSessionKey)
			sess.Set("cart", "3 apples")
		})
		if b.whoami(s) != "anonymous" {
			t.Fatal("not anonymous without the login keys")
		}
		b.login(s, "alice", "pw-alice")
		if b.key(s) == k {
			t.Error("the key was not cycled at login")
		}
		if d := b.data(s); d["cart"] != "3 apples" {
			t.Errorf("anonymous data lost at login: %v", d)
		}
	})
	t.Run("same user, matching hash: key and data kept", func(t *testing.T) {
		b := newBrowser(t)
		b.login(s, "alice", "pw-alice")
		k := b.key(s)
		s.edit(t, k, func(sess *session.Session) { sess.Set("cart", "2 pears") })
		b.login(s, "alice", "pw-alice")
		if b.key(s) != k {
			t.Error("the key changed on a second login of the same user")
		}
		if d := b.data(s); d["cart"] != "2 pears" {
			t.Errorf("data lost on a second login of the same user: %v", d)
		}
	})
	t.Run("another user: flushed", func(t *testing.T) {
		b := newBrowser(t)
		b.login(s, "alice", "pw-alice")
		k := b.key(s)
		s.edit(t, k, func(sess *session.Session) { sess.Set("cart", "alice's") })
		b.login(s, "bob", "pw-bob")
		if b.key(s) == k {
			t.Error("the key was kept when another user logged in")
		}
		d := b.data(s)
		if _, ok := d["cart"]; ok || d[auth.SessionKey] != "2" {
			t.Errorf("after bob's login over alice's session: %v, want bob's keys only", d)
		}
		if b.whoami(s) != "bob" {
			t.Error("not bob")
		}
		if s.sessions.Open(t.Context(), k).Len() != 0 {
			t.Error("alice's session record still exists")
		}
	})
	t.Run("same user, stale hash: flushed", func(t *testing.T) {
		b := newBrowser(t)
		b.login(s, "alice", "pw-alice")
		k := b.key(s)
		s.edit(t, k, func(sess *session.Session) {
			sess.Set(auth.HashSessionKey, strings.Repeat("0", 64))
			sess.Set("cart", "stale")
		})
		b.login(s, "alice", "pw-alice")
		if _, ok := b.data(s)["cart"]; ok || b.key(s) == k {
			t.Error("a session with a stale hash was not flushed at login")
		}
	})
}

// TestBadSessions: each way a session can name no usable user, handled as
// Django's get_user() handles it.
func TestBadSessions(t *testing.T) {
	s := newSite(t, func(c *auth.Config) { c.SecretKeyFallbacks = []string{"old-secret"} })
	alice := s.createUser(t, "alice", "pw-alice")
	s.createUser(t, "carol", "pw-carol")

	cases := []struct {
		name    string
		change  func(t *testing.T, sess *session.Session)
		flushed bool // Django flushes the session
	}{
		{"tampered _auth_user_hash", func(t *testing.T, sess *session.Session) {
			sess.Set(auth.HashSessionKey, strings.Repeat("f", 64))
		}, true},
		{"missing _auth_user_hash", func(t *testing.T, sess *session.Session) {
			sess.Delete(auth.HashSessionKey)
		}, true},
		{"unknown user id", func(t *testing.T, sess *session.Session) {
			sess.Set(auth.SessionKey, "999")
		}, false},
		{"user id not an integer", func(t *testing.T, sess *session.Session) {
			sess.Set(auth.SessionKey, "abc")
		}, false},
		{"backend not in AUTHENTICATION_BACKENDS", func(t *testing.T, sess *session.Session) {
			sess.Set(auth.BackendSessionKey, "allauth.account.auth_backends.AuthenticationBackend")
		}, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			b.login(s, "carol", "pw-carol")
			k := b.key(s)
			s.edit(t, k, func(sess *session.Session) { tt.change(t, sess); sess.Set("cart", "kept?") })
			if got := b.whoami(s); got != "anonymous" {
				t.Errorf("user = %q, want anonymous", got)
			}
			_, kept := b.data(s)["cart"]
			if kept == tt.flushed {
				t.Errorf("session data kept = %v, want %v (Django flushes only on a hash mismatch)", kept, !tt.flushed)
			}
		})
	}

	t.Run("deleted user", func(t *testing.T) {
		b := newBrowser(t)
		b.login(s, "alice", "pw-alice")
		if err := s.db.Gorm.Delete(&models.User{}, alice.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got := b.whoami(s); got != "anonymous" {
			t.Errorf("deleted user: %q, want anonymous", got)
		}
		if resp, _ := b.get(s.base + "/accounts/profile/"); resp.StatusCode != http.StatusFound {
			t.Errorf("profile of a deleted user: %d, want a redirect to login", resp.StatusCode)
		}
	})
	t.Run("inactive user", func(t *testing.T) {
		dave := s.createUser(t, "dave", "pw-dave")
		b := newBrowser(t)
		b.login(s, "dave", "pw-dave")
		if err := s.db.Gorm.Model(&models.User{}).Where("id = ?", dave.ID).Update("is_active", false).Error; err != nil {
			t.Fatal(err)
		}
		if got := b.whoami(s); got != "anonymous" {
			t.Errorf("inactive user: %q, want anonymous (ModelBackend refuses is_active=False)", got)
		}
		// Nor can an inactive user log in.
		if _, body := newBrowser(t).post(s.base+"/login", url.Values{"username": {"dave"}, "password": {"pw-dave"}}); body != "wrong credentials" {
			t.Errorf("inactive user's login: %q", body)
		}
	})
	t.Run("hash made with a fallback key: logged in, key cycled, hash rewritten", func(t *testing.T) {
		b := newBrowser(t)
		b.login(s, "carol", "pw-carol")
		k := b.key(s)
		current := b.data(s)[auth.HashSessionKey]
		// The hash the old key gives: log carol in on a site with it.
		oldSite := newSiteOn(t, s.db, func(c *auth.Config) { c.SecretKey = "old-secret" })
		ob := newBrowser(t)
		ob.login(oldSite, "carol", "pw-carol")
		oldHash := ob.data(oldSite)[auth.HashSessionKey]
		if oldHash == current {
			t.Fatal("the two keys give the same hash")
		}
		s.edit(t, k, func(sess *session.Session) { sess.Set(auth.HashSessionKey, oldHash) })
		if got := b.whoami(s); got != "carol" {
			t.Fatalf("with a fallback hash: %q, want carol", got)
		}
		if b.key(s) == k {
			t.Error("the key was not cycled after a fallback match")
		}
		if got := b.data(s)[auth.HashSessionKey]; got != current {
			t.Errorf("hash after a fallback match = %v, want the current key's %v", got, current)
		}
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "alice", "pw-alice")
	one, two := newBrowser(t), newBrowser(t)
	one.login(s, "alice", "pw-alice")
	two.login(s, "alice", "pw-alice")
	if err := s.auth.SetPassword(t.Context(), "alice", "new-pw"); err != nil {
		t.Fatal(err)
	}
	for i, b := range []*browser{one, two} {
		if got := b.whoami(s); got != "anonymous" {
			t.Errorf("session %d after the password change: %q, want anonymous", i+1, got)
		}
	}
	if _, body := one.post(s.base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}}); body != "wrong credentials" {
		t.Errorf("old password: %q", body)
	}
	one.login(s, "alice", "new-pw")
	if err := s.auth.SetPassword(t.Context(), "nobody", "x"); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("SetPassword of an unknown user = %v, want ErrNoUser", err)
	}
	if err := s.auth.SetPassword(t.Context(), "alice", ""); !errors.Is(err, auth.ErrEmptyPassword) {
		t.Errorf("SetPassword to an empty password = %v, want ErrEmptyPassword", err)
	}
}

func TestAuthenticate(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "joe", "pw-joe")
	ctx := t.Context()
	if u, err := s.auth.Authenticate(ctx, "joe", "pw-joe"); u == nil || err != nil {
		t.Errorf("right password: %v, %v", u, err)
	}
	if u, err := s.auth.Authenticate(ctx, "ｊｏｅ", "pw-joe"); u == nil || err != nil {
		t.Errorf("fullwidth username (NFKC, as Django's form): %v, %v", u, err)
	}
	for _, tt := range [][2]string{{"joe", "wrong"}, {"nobody", "pw-joe"}, {"JOE", "pw-joe"}, {"", ""}} {
		if u, err := s.auth.Authenticate(ctx, tt[0], tt[1]); u != nil || err != nil {
			t.Errorf("Authenticate(%q, %q) = %v, %v; want nil, nil", tt[0], tt[1], u, err)
		}
	}
	// An unusable password never logs in; a hasher Go lacks is reported.
	s.db.Gorm.Create(&models.User{Username: "ext", Password: auth.UnusablePassword(), IsActive: true, DateJoined: models.DateTime{Time: time.Now()}})
	if u, err := s.auth.Authenticate(ctx, "ext", "anything"); u != nil || err != nil {
		t.Errorf("unusable password: %v, %v", u, err)
	}
	s.db.Gorm.Create(&models.User{Username: "old", Password: "md5$salt$1d0d3a3ae5a4fd8b0b0d6e1b1c2ba4c0", IsActive: true, DateJoined: models.DateTime{Time: time.Now()}})
	if u, err := s.auth.Authenticate(ctx, "old", "x"); u != nil || !errors.Is(err, auth.ErrUnsupportedHasher) {
		t.Errorf("md5 hash: %v, %v; want nil, ErrUnsupportedHasher", u, err)
	}
	b := newBrowser(t)
	if _, body := b.post(s.base+"/login", url.Values{"username": {"old"}, "password": {"x"}}); !strings.Contains(body, "unsupported password hasher") {
		t.Errorf("login with an md5 hash: %q", body)
	}
}

func TestCreateUser(t *testing.T) {
	s := newSite(t, nil)
	u := s.createUser(t, "ｊｏｅ", "pw")
	if u.Username != "joe" || !u.IsActive || u.IsStaff || u.IsSuperuser || u.LastLogin != nil || u.ID == 0 {
		t.Errorf("created %+v", u)
	}
	if _, err := s.auth.CreateUser(t.Context(), "joe", "pw"); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("second joe: %v, want ErrUserExists", err)
	}
	if _, err := s.auth.CreateUser(t.Context(), "has space", "pw"); !errors.Is(err, auth.ErrInvalidUsername) {
		t.Errorf("bad username: %v", err)
	}
	if _, err := s.auth.CreateUser(t.Context(), "ann", ""); !errors.Is(err, auth.ErrEmptyPassword) {
		t.Errorf("empty password: %v", err)
	}
}

func TestLoginRequiredAndNext(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "alice", "pw-alice")
	b := newBrowser(t)
	resp, _ := b.get(s.base + "/accounts/profile/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/accounts/login/?next=/accounts/profile/" {
		t.Errorf("anonymous profile = %d %q, want 302 to /accounts/login/?next=/accounts/profile/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.get(s.base + "/accounts/profile/?tab=a%20b&x=%C3%A9")
	if want := "/accounts/login/?next=/accounts/profile/%3Ftab%3Da%2520b%26x%3D%25C3%25A9"; resp.Header.Get("Location") != want {
		t.Errorf("with a query: Location %q, want %q", resp.Header.Get("Location"), want)
	}

	host := strings.TrimPrefix(s.base, "http://")
	for next, want := range map[string]string{
		"/accounts/profile/?tab=2":  "/accounts/profile/?tab=2",
		"":                          "/accounts/profile/",
		"https://evil.example/":     "/accounts/profile/",
		"//evil.example/":           "/accounts/profile/",
		`/\evil.example`:            "/accounts/profile/",
		"/\t/evil.example":          "/accounts/profile/",
		"javascript:alert(1)":       "/accounts/profile/",
		"http://" + host + "/other": "http://" + host + "/other",
	} {
		b := newBrowser(t)
		resp, body := b.post(s.base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}, "next": {next}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("login with next=%q: %d %q (%q), want a redirect to %q", next, resp.StatusCode, resp.Header.Get("Location"), body, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := auth.New(auth.Config{SecretKey: "x"}); err == nil {
		t.Error("no DB: no error")
	}
	s := newSite(t, nil)
	keyless, err := auth.New(auth.Config{DB: s.db.Gorm})
	if err != nil {
		t.Fatalf("no SecretKey (enough to manage users): %v", err)
	}
	if _, err := keyless.UserOf(t.Context(), s.sessions.Open(t.Context(), "")); err == nil {
		t.Error("UserOf without a SecretKey: no error")
	}
	if _, err := auth.New(auth.Config{DB: s.db.Gorm, SecretKey: "x", Iterations: -1}); err == nil {
		t.Error("negative Iterations: no error")
	}
	a, err := auth.New(auth.Config{DB: s.db.Gorm, SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := auth.PBKDF2Iterations(auth.DefaultDjangoVersion); a.Config().Iterations != want || want != 1_000_000 {
		t.Errorf("default Iterations = %d, want %d", a.Config().Iterations, want)
	}
	if got := a.Config(); got.MaxHashing != runtime.GOMAXPROCS(0) || got.HashingWait != auth.DefaultHashingWait {
		t.Errorf("default MaxHashing %d, HashingWait %v; want GOMAXPROCS (%d) and %v", got.MaxHashing, got.HashingWait, runtime.GOMAXPROCS(0), auth.DefaultHashingWait)
	}
	if _, err := auth.New(auth.Config{DB: s.db.Gorm, MaxHashing: -1}); err == nil {
		t.Error("negative MaxHashing: no error")
	}
}

// TestHashingWait: new hashes (CreateUser, SetPassword) take a slot as
// checks do. With a negative HashingWait (manage's commands) one waits
// for the slot a login holds instead of failing, until its context ends;
// with a short wait it gives up with ErrBusy and stores nothing.
func TestHashingWait(t *testing.T) {
	s := newSite(t, func(c *auth.Config) { c.MaxHashing, c.HashingWait = 1, -1 })
	patient := s.auth
	hasty, err := auth.New(auth.Config{DB: s.db.Gorm, Iterations: testIterations, MaxHashing: 1, HashingWait: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*auth.Auth{patient, hasty} {
		if _, err := a.CreateUser(t.Context(), "slow", "x"); err != nil && !errors.Is(err, auth.ErrUserExists) {
			t.Fatal(err)
		}
	}
	// Checking this hash holds the slot of its Auth for a while.
	if err := s.db.Gorm.Exec(`UPDATE auth_user SET password = 'pbkdf2_sha256$1000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' WHERE username = 'slow'`).Error; err != nil {
		t.Fatal(err)
	}
	hold := func(a *auth.Auth) chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.Authenticate(context.Background(), "slow", "wrong")
		}()
		for a.HashingStats().InFlight == 0 {
			time.Sleep(time.Millisecond)
		}
		return done
	}

	done := hold(hasty)
	if _, err := hasty.CreateUser(t.Context(), "hasty", "pw"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("CreateUser with the slot held and a short wait: %v, want ErrBusy", err)
	}
	if err := hasty.SetPassword(t.Context(), "slow", "pw"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("SetPassword with the slot held and a short wait: %v, want ErrBusy", err)
	}
	<-done
	var n int64
	if err := s.db.Gorm.Model(&models.User{}).Where("username = ?", "hasty").Count(&n).Error; err != nil || n != 0 {
		t.Errorf("a refused CreateUser: %d users stored (%v), want none", n, err)
	}

	done = hold(patient)
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := patient.CreateUser(ended, "gone", "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateUser waiting with its context ended: %v, want context.Canceled", err)
	}
	if _, err := patient.CreateUser(t.Context(), "patient", "pw"); err != nil {
		t.Errorf("CreateUser with the slot held and a wait as long as the context: %v, want it to wait and succeed", err)
	}
	<-done
	if st := patient.HashingStats(); st.Peak != 1 || st.Refused != 0 {
		t.Errorf("patient stats %+v, want 1 at most at once and none refused", st)
	}
}

// TestEchoAdapter: the same login, request.user, @login_required and
// logout on Echo, through Auth.Middleware and Auth.EchoLoginRequired.
func TestEchoAdapter(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "alice", "pw-alice")
	b := newBrowser(t)
	resp, _ := b.get(s.echoBase + "/accounts/profile/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/accounts/login/?next=/accounts/profile/" {
		t.Fatalf("anonymous profile on Echo = %d %q, want 302 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.post(s.echoBase+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}, "next": {"/whoami"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/whoami" {
		t.Fatalf("login on Echo: %d %q %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if s.rotated.Load() != 1 {
		t.Errorf("CSRF rotations = %d, want 1", s.rotated.Load())
	}
	if _, body := b.get(s.echoBase + "/whoami"); body != "alice" {
		t.Errorf("whoami on Echo after login = %q", body)
	}
	if resp, body := b.get(s.echoBase + "/accounts/profile/"); resp.StatusCode != http.StatusOK || body != "Signed in as alice" {
		t.Errorf("profile on Echo = %d %q", resp.StatusCode, body)
	}
	if resp, body := b.post(s.echoBase+"/logout", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("logout on Echo = %d %q", resp.StatusCode, body)
	}
	if resp, _ := b.get(s.echoBase + "/accounts/profile/"); resp.StatusCode != http.StatusFound {
		t.Errorf("profile on Echo after logout = %d, want 302", resp.StatusCode)
	}
}

// TestLoginRequiredDatabaseFault: when auth_user cannot be read, a
// login-required page is a 503 on both routers, never the page and never
// a redirect to the login form.
func TestLoginRequiredDatabaseFault(t *testing.T) {
	db := dbtest.SQLite(t)
	// The sessions live in memory, so only the users' database fails.
	s := newSiteWith(t, db, memstore.New(nil), nil)
	s.createUser(t, "alice", "pw-alice")
	b := newBrowser(t)
	b.login(s, "alice", "pw-alice")
	db.Close()
	for name, base := range map[string]string{"net/http": s.base, "Echo": s.echoBase} {
		if resp, body := b.get(base + "/accounts/profile/"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: profile with the database closed = %d %q, want 503", name, resp.StatusCode, body)
		}
	}
}

// TestLoginNeedsTheSessionMiddleware: Login on a route without a session
// is an error, and Logout there panics rather than leave the visitor
// logged in.
func TestLoginNeedsTheSessionMiddleware(t *testing.T) {
	s := newSite(t, nil)
	u := s.createUser(t, "alice", "pw-alice")
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	if err := s.auth.Login(httptest.NewRecorder(), r, u, nil); err == nil {
		t.Error("Login without a session: no error")
	}
	defer func() {
		if recover() == nil {
			t.Error("Logout without a session did not panic")
		}
	}()
	s.auth.Logout(r)
}

// TestRedirectAfterLoginOnHTTPS: a request Config.IsSecure calls secure
// may only go on to https pages of this host, as Django's
// get_success_url() with require_https=request.is_secure().
func TestRedirectAfterLoginOnHTTPS(t *testing.T) {
	s := newSite(t, func(c *auth.Config) {
		c.IsSecure = func(r *http.Request) bool { return r.Header.Get("X-Forwarded-Proto") == "https" }
	})
	for _, tc := range []struct {
		secure bool
		next   string
		want   string
	}{
		{false, "http://example.com/other", "http://example.com/other"},
		{true, "http://example.com/other", "/accounts/profile/"},
		{true, "https://example.com/other", "https://example.com/other"},
		{true, "/other", "/other"},
	} {
		r := httptest.NewRequest(http.MethodPost, "http://example.com/login", nil)
		if tc.secure {
			r.Header.Set("X-Forwarded-Proto", "https")
		}
		if got := s.auth.RedirectAfterLogin(r, tc.next); got != tc.want {
			t.Errorf("secure=%v next=%q: %q, want %q", tc.secure, tc.next, got, tc.want)
		}
	}
}
