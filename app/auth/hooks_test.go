package auth_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/models"
)

// event is one hook call as a hook saw it.
type event struct {
	kind     string // "in", "out", "failed"
	user     string // the user's name, "" for nil, or the username typed
	key      string // the session's key when the hook ran
	loggedIn bool   // the session held _auth_user_id when the hook ran
	form     string // the request's form, as the hook could read it
}

// recorder collects hook calls.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (rec *recorder) add(r *http.Request, kind, user string) {
	s := session.FromContext(r.Context())
	e := event{kind: kind, user: user, form: r.PostForm.Encode()}
	if s != nil {
		e.key = s.Key()
		e.loggedIn = s.Has(auth.SessionKey)
	}
	rec.mu.Lock()
	rec.events = append(rec.events, e)
	rec.mu.Unlock()
}

func (rec *recorder) take() []event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.events
	rec.events = nil
	return out
}

func (rec *recorder) install(c *auth.Config) {
	name := func(u *models.User) string {
		if u == nil {
			return ""
		}
		return u.Username
	}
	c.Hooks.LoggedIn = append(c.Hooks.LoggedIn, func(r *http.Request, u *models.User) { rec.add(r, "in", name(u)) })
	c.Hooks.LoggedOut = append(c.Hooks.LoggedOut, func(r *http.Request, u *models.User) { rec.add(r, "out", name(u)) })
	c.Hooks.LoginFailed = append(c.Hooks.LoginFailed, func(r *http.Request, username string) { rec.add(r, "failed", username) })
}

// hookSite serves /set, /login (AuthenticateRequest, then Login) and
// /logout on s's sessions and auth.
func hookSite(t *testing.T, s *site) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /set", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("cart", "apples")
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := s.auth.AuthenticateRequest(r, r.FormValue("username"), r.FormValue("password"))
		if err != nil || u == nil {
			io.WriteString(w, "wrong credentials")
			return
		}
		if err := s.auth.Login(w, r, u, nil); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) { s.auth.Logout(r) })
	srv := httptest.NewServer(s.sessions.Handler(s.auth.Handler(mux)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestHooks: the login hook runs after the key cycle with the user and
// the session holding the login; the logout hook before the flush, with
// the user (nil for an anonymous visitor); the failure hook with the
// username, for every kind of failed credentials, and never for a
// success.
func TestHooks(t *testing.T) {
	rec := &recorder{}
	s := newSite(t, rec.install)
	s.createUser(t, "alice", "pw-alice")
	idle := s.createUser(t, "idle", "pw-idle")
	s.db.Gorm.Model(&models.User{}).Where("id = ?", idle.ID).Update("is_active", false)
	base := hookSite(t, s)

	b := newBrowser(t)
	b.get(base + "/set") // an anonymous session, stored
	before := b.key(s)
	if before == "" {
		t.Fatal("no session stored before the login")
	}
	if _, body := b.post(base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}}); body != "" {
		t.Fatalf("login: %q", body)
	}
	after := b.key(s)
	got := rec.take()
	if len(got) != 1 || got[0].kind != "in" || got[0].user != "alice" || !got[0].loggedIn {
		t.Fatalf("hooks at login: %+v, want one LoggedIn for alice with the login stored", got)
	}
	if got[0].key == before || got[0].key != after {
		t.Errorf("LoggedIn saw key %q; before the login %q, the cookie after it %q: want the new key", got[0].key, before, after)
	}

	b.post(base+"/logout", nil)
	got = rec.take()
	if len(got) != 1 || got[0].kind != "out" || got[0].user != "alice" || !got[0].loggedIn || got[0].key != after {
		t.Fatalf("hooks at logout: %+v, want one LoggedOut for alice before the flush (key %q)", got, after)
	}

	// A visitor without a session, and one logged in as another user
	// (flushed): the hook knows the key the cookie will carry.
	fresh := newBrowser(t)
	fresh.post(base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}})
	if got = rec.take(); len(got) != 1 || got[0].key == "" || got[0].key != fresh.key(s) {
		t.Errorf("login without a session before: the hook saw key %q, the cookie is %q", got[0].key, fresh.key(s))
	}
	s.createUser(t, "bob", "pw-bob")
	fresh.post(base+"/login", url.Values{"username": {"bob"}, "password": {"pw-bob"}})
	if got = rec.take(); len(got) != 1 || got[0].user != "bob" || got[0].key == "" || got[0].key != fresh.key(s) {
		t.Errorf("login over another user's: the hook saw %+v, the cookie is %q", got, fresh.key(s))
	}
	b.post(base+"/logout", nil) // anonymous now
	if got = rec.take(); len(got) != 1 || got[0].kind != "out" || got[0].user != "" {
		t.Fatalf("hooks at an anonymous logout: %+v, want one LoggedOut with no user", got)
	}

	for _, c := range []struct{ username, password string }{
		{"alice", "wrong"}, {"nobody", "pw"}, {"idle", "pw-idle"}, {"", ""},
	} {
		if _, body := b.post(base+"/login", url.Values{"username": {c.username}, "password": {c.password}}); body != "wrong credentials" {
			t.Fatalf("login as %q/%q: %q", c.username, c.password, body)
		}
		got = rec.take()
		if len(got) != 1 || got[0].kind != "failed" || got[0].user != c.username {
			t.Errorf("hooks after a failed login as %q: %+v, want one LoginFailed with the username", c.username, got)
		}
	}
	// A hash that cannot be checked is a failed login too.
	s.db.Gorm.Model(&models.User{}).Where("username = ?", "alice").Update("password", "md5$salt$f8b9a6b7f0b5c0c1e2a3b4c5d6e7f809")
	b.post(base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}})
	if got = rec.take(); len(got) != 1 || got[0].kind != "failed" {
		t.Errorf("hooks after a login on an md5 hash: %+v, want one LoginFailed", got)
	}
}

// TestLoginRequiredByDefault: under the middleware every page needs a
// login except those marked, the login page and prefixes; the Echo
// adapter decides the same; a changed LOGIN_URL is where anonymous
// visitors go, and is itself reachable.
func TestLoginRequiredByDefault(t *testing.T) {
	for _, loginURL := range []string{"", "/signin/?from=site"} {
		s := newSite(t, func(c *auth.Config) { c.LoginURL = loginURL })
		s.createUser(t, "alice", "pw-alice")
		exempt := auth.LoginNotRequired("/accounts/login/", "/accounts/open/*")
		page := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.Path) }
		mux := http.NewServeMux()
		mux.HandleFunc("/", page)
		srv := httptest.NewServer(s.sessions.Handler(s.auth.LoginRequiredByDefault(exempt)(mux)))
		t.Cleanup(srv.Close)

		e := echo.New()
		e.Use(s.sessions.Middleware())
		accounts := e.Group("/accounts", s.auth.EchoLoginRequiredByDefault(exempt))
		echoPage := func(c echo.Context) error { return c.String(http.StatusOK, "page "+c.Request().URL.Path) }
		for _, p := range []string{"/login/", "/login", "/profile/", "/open/a", "/openly/"} {
			accounts.GET(p, echoPage)
		}
		e.GET("/signin/", echoPage, s.auth.EchoLoginRequiredByDefault(exempt))
		esrv := httptest.NewServer(e)
		t.Cleanup(esrv.Close)

		wantLogin := "/accounts/login/?next="
		if loginURL != "" {
			wantLogin = "/signin/?from=site&next="
		}
		for name, base := range map[string]string{"net/http": srv.URL, "Echo": esrv.URL} {
			b := newBrowser(t)
			for path, open := range map[string]bool{
				"/accounts/login/": true, "/accounts/login": true, "/accounts/open/a": true,
				"/accounts/profile/": false, "/accounts/openly/": false,
				"/signin/": loginURL != "", // the login page, wherever LOGIN_URL points
			} {
				resp, body := b.get(base + path + "?x=1")
				switch {
				case open && (resp.StatusCode != http.StatusOK || body != "page "+path):
					t.Errorf("%s, LOGIN_URL %q: anonymous %s = %d %q, want the page", name, loginURL, path, resp.StatusCode, body)
				case !open && (resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != wantLogin+path+"%3Fx%3D1"):
					t.Errorf("%s, LOGIN_URL %q: anonymous %s = %d %q, want 302 to %s%s%%3Fx%%3D1", name, loginURL, path, resp.StatusCode, resp.Header.Get("Location"), wantLogin, path)
				}
			}
			b.login(s, "alice", "pw-alice")
			if resp, body := b.get(base + "/accounts/profile/"); resp.StatusCode != http.StatusOK || body != "page /accounts/profile/" {
				t.Errorf("%s: logged-in profile = %d %q", name, resp.StatusCode, body)
			}
		}
	}
}

// TestChangePassword: the session that changes the password stays logged
// in, with a new key and the new hash; every other session of the user
// ends; the new password logs in and the old one does not.
func TestChangePassword(t *testing.T) {
	s := newSite(t, nil)
	s.createUser(t, "alice", "pw-alice")
	s.createUser(t, "bob", "pw-bob")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /change", func(w http.ResponseWriter, r *http.Request) {
		u, err := s.auth.User(r)
		if err != nil || u == nil {
			http.Error(w, "not logged in", http.StatusForbidden)
			return
		}
		if ok, err := s.auth.CheckUserPassword(r.Context(), u, r.FormValue("old")); err != nil || !ok {
			io.WriteString(w, "wrong old password")
			return
		}
		if err := s.auth.ChangePassword(r, u, r.FormValue("new")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if me, _ := s.auth.User(r); me == nil || me.ID != u.ID {
			http.Error(w, "request.user changed", http.StatusInternalServerError)
		}
	})
	// Another user's password, changed by this session's request: the key
	// is cycled, this session's login untouched.
	mux.HandleFunc("POST /change-bob", func(w http.ResponseWriter, r *http.Request) {
		var bob models.User
		s.db.Gorm.Where("username = ?", "bob").Take(&bob)
		if err := s.auth.ChangePassword(r, &bob, "new-bob"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(s.sessions.Handler(s.auth.Handler(mux)))
	t.Cleanup(srv.Close)

	changer, other := newBrowser(t), newBrowser(t)
	changer.login(s, "alice", "pw-alice")
	other.login(s, "alice", "pw-alice")
	keyBefore, hashBefore := changer.key(s), changer.data(s)[auth.HashSessionKey]

	if _, body := changer.post(srv.URL+"/change", url.Values{"old": {"wrong"}, "new": {"x"}}); body != "wrong old password" {
		t.Fatalf("wrong old password: %q", body)
	}
	if resp, body := changer.post(srv.URL+"/change", url.Values{"old": {"pw-alice"}, "new": {"new-alice"}}); resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("change: %d %q", resp.StatusCode, body)
	}
	if got := changer.whoami(s); got != "alice" {
		t.Errorf("the changing session after the change: %q, want alice", got)
	}
	if key := changer.key(s); key == keyBefore || key == "" {
		t.Errorf("session key %q after the change, %q before: want a new key", key, keyBefore)
	}
	if hash := changer.data(s)[auth.HashSessionKey]; hash == hashBefore {
		t.Error("_auth_user_hash unchanged by the password change")
	}
	if got := other.whoami(s); got != "anonymous" {
		t.Errorf("the other session after the change: %q, want anonymous", got)
	}
	if _, body := newBrowser(t).post(s.base+"/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}}); body != "wrong credentials" {
		t.Errorf("the old password after the change: %q", body)
	}
	newBrowser(t).login(s, "alice", "new-alice")

	// Changing bob's password from alice's session keeps alice logged in.
	keyBefore = changer.key(s)
	if resp, body := changer.post(srv.URL+"/change-bob", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("change bob: %d %q", resp.StatusCode, body)
	}
	if got := changer.whoami(s); got != "alice" || changer.key(s) == keyBefore {
		t.Errorf("after changing bob's password: user %q, key changed %v; want alice, a new key", got, changer.key(s) != keyBefore)
	}
	newBrowser(t).login(s, "bob", "new-bob")

	// Errors: an empty password, no session.
	u := &models.User{}
	s.db.Gorm.Where("username = ?", "alice").Take(u)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if err := s.auth.ChangePassword(r, u, "x"); err == nil {
		t.Error("ChangePassword without a session: no error")
	}
	if err := s.auth.ChangePassword(httptest.NewRequest(http.MethodPost, "/", nil), u, ""); !errors.Is(err, auth.ErrEmptyPassword) {
		t.Errorf("ChangePassword to an empty password = %v, want ErrEmptyPassword", err)
	}
}
