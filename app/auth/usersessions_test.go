package auth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

// TestUserIDOf: the index's label is the logged-in user's id as Django
// stores it ("42"), read as UserOf reads it; anything else is anonymous.
func TestUserIDOf(t *testing.T) {
	for _, c := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{auth.SessionKey: "42"}, "42"},
		{map[string]any{auth.SessionKey: json.Number("42")}, "42"},
		{map[string]any{auth.SessionKey: " 7 "}, "7"},
		{map[string]any{auth.SessionKey: "007"}, "7"},
		{map[string]any{auth.SessionKey: "x"}, ""},
		{map[string]any{auth.SessionKey: 4.5}, ""},
		{map[string]any{"username": "harun_dev"}, ""},
		{nil, ""},
	} {
		if got := auth.UserIDOf(c.data); got != c.want {
			t.Errorf("UserIDOf(%v) = %q, want %q", c.data, got, c.want)
		}
	}
}

// indexedSite is a site whose session manager is watched by the per-user
// index (on SQLite), with the index given to auth, and the session
// settings of configure.
func indexedSite(t *testing.T, configure func(*session.Config)) (*site, *usersessions.Sessions) {
	t.Helper()
	db := dbtest.SQLite(t)
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	backend, err := usersessions.NewSQL(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := usersessions.New(backend, usersessions.Config{Label: auth.UserIDOf})
	if err != nil {
		t.Fatal(err)
	}
	cfg := session.DefaultConfig()
	cfg.Store, cfg.SecretKey, cfg.Watcher = store, "test-secret", idx
	if configure != nil {
		configure(&cfg)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	list := idx.Sessions(m)
	a, err := auth.New(auth.Config{DB: db.Gorm, SecretKey: "test-secret", Iterations: testIterations, Sessions: list})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{db: db, auth: a, sessions: m}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.User(r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		case u == nil:
			io.WriteString(w, "anonymous")
		default:
			io.WriteString(w, u.Username)
		}
	})
	mux.HandleFunc("GET /session", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(session.FromContext(r.Context()).Items())
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.Authenticate(r.Context(), r.FormValue("username"), r.FormValue("password"))
		if err != nil || u == nil {
			io.WriteString(w, "wrong credentials")
			return
		}
		if err := a.Login(w, r, u, nil); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /change", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.User(r)
		if err != nil || u == nil {
			http.Error(w, "not logged in", http.StatusForbidden)
			return
		}
		if err := a.ChangePassword(r, u, r.FormValue("new")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(m.Handler(a.Handler(mux)))
	t.Cleanup(srv.Close)
	s.base = srv.URL
	return s, list
}

// TestPasswordChangeSignsOutOthersAtOnce: with the per-user index, a
// password change ends the user's other sessions at once (their records
// are gone, not only refused at their next request), keeps the session
// that changed it (under its new key, still one device) and leaves other
// users alone.
func TestPasswordChangeSignsOutOthersAtOnce(t *testing.T) {
	s, list := indexedSite(t, nil)
	alice := s.createUser(t, "alice", "pw-alice")
	s.createUser(t, "bob", "pw-bob")
	changer, laptop, phone, bob := newBrowser(t), newBrowser(t), newBrowser(t), newBrowser(t)
	changer.login(s, "alice", "pw-alice")
	laptop.login(s, "alice", "pw-alice")
	phone.login(s, "alice", "pw-alice")
	bob.login(s, "bob", "pw-bob")
	owner := strconv.FormatInt(alice.ID, 10)
	devices, err := list.List(t.Context(), owner, "")
	if err != nil || len(devices) != 3 {
		t.Fatalf("alice's devices before: %d, %v", len(devices), err)
	}
	before := changer.key(s)
	var changerDevice string
	for _, d := range devices {
		if d.Key == before {
			changerDevice = d.ID
		}
	}

	if resp, body := changer.post(s.base+"/change", url.Values{"new": {"new-alice"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("change: %d %q", resp.StatusCode, body)
	}
	for name, b := range map[string]*browser{"laptop": laptop, "phone": phone} {
		if _, _, err := s.sessions.Peek(t.Context(), b.key(s)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("the %s's session is still stored after the password change: %v", name, err)
		}
	}
	if got := changer.whoami(s); got != "alice" {
		t.Errorf("the changing session: %q, want alice", got)
	}
	devices, err = list.List(t.Context(), owner, changer.key(s))
	if err != nil || len(devices) != 1 || !devices[0].Current || devices[0].ID != changerDevice {
		t.Errorf("alice's devices after: %+v, %v; want the changing device alone, same id %s", devices, err, changerDevice)
	}
	if got := bob.whoami(s); got != "bob" {
		t.Errorf("bob after alice's change: %q", got)
	}
}

// TestLoginRestartsAbsoluteTimeout: with an absolute timeout a login
// restarts its clock, so that an anonymous session's age does not count
// against the login; without it nothing is stored.
func TestLoginRestartsAbsoluteTimeout(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := func() time.Time { return now }
	s, _ := indexedSite(t, func(cfg *session.Config) { cfg.AbsoluteTimeout, cfg.Now = time.Hour, clock })
	s.createUser(t, "alice", "pw-alice")
	b := newBrowser(t)
	b.login(s, "alice", "pw-alice")
	if got := b.data(s)["_session_start"]; got != float64(now.Unix()) {
		t.Errorf("_session_start = %v after a login, want %d", got, now.Unix())
	}

	plain, _ := indexedSite(t, nil)
	plain.createUser(t, "alice", "pw-alice")
	b = newBrowser(t)
	b.login(plain, "alice", "pw-alice")
	if _, ok := b.data(plain)["_session_start"]; ok {
		t.Error("a clock was stored with the absolute timeout off")
	}
}
