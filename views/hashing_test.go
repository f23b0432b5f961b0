package views_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/views"
	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
)

// authSite is the site's views on a migrated SQLite file with an Auth of
// the test's making, so that the test sees its password hashing.
type authSite struct {
	base string
	auth *auth.Auth
	db   *gorm.DB
}

func newAuthSite(t *testing.T, acfg auth.Config) *authSite {
	t.Helper()
	db := dbtest.SQLite(t)
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	scfg := session.DefaultConfig()
	scfg.Store = store
	scfg.SecretKey = "test-secret"
	m, err := session.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	acfg.DB, acfg.SecretKey, acfg.Iterations = db.Gorm, "test-secret", 1000
	a, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := csrf.New(csrf.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := messages.New(messages.Config{SecretKey: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	h := &views.Handlers{Sessions: m, Auth: a, CSRF: g, Messages: msgs, Log: slog.New(slog.DiscardHandler)}
	e := echo.New()
	e.HTTPErrorHandler = h.ErrorHandler
	if err := h.Register(e); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &authSite{base: srv.URL, auth: a, db: db.Gorm}
}

// setHash stores encoded as the password hash of a new user named name.
func (s *authSite) setHash(t *testing.T, name, encoded string) {
	t.Helper()
	if _, err := s.auth.CreateUser(t.Context(), name, "unused"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Exec("UPDATE auth_user SET password = ? WHERE username = ?", encoded, name).Error; err != nil {
		t.Fatal(err)
	}
}

// loginAnswer is what a login POST got.
type loginAnswer struct {
	status     int
	retryAfter string
	message    string // the error page's or the form's message
}

// login posts the login form as a new visitor (its own cookies and CSRF
// token). It is safe in any goroutine: failures are returned.
func (s *authSite) login(username, password string) (loginAnswer, error) {
	jarClient := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return loginAnswer{}, err
	}
	jarClient.Jar = jar
	res, err := jarClient.Get(s.base + "/accounts/login/")
	if err != nil {
		return loginAnswer{}, err
	}
	doc, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		return loginAnswer{}, err
	}
	token, _ := doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	form := url.Values{"username": {username}, "password": {password}, "csrfmiddlewaretoken": {token}}
	res, err = jarClient.PostForm(s.base+"/accounts/login/", form)
	if err != nil {
		return loginAnswer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return loginAnswer{}, err
	}
	doc, err = goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		return loginAnswer{}, err
	}
	msg := strings.TrimSpace(doc.Find(`[data-testid="error-message"], [data-testid="form-error"]`).First().Text())
	return loginAnswer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), message: msg}, nil
}

// argon2Hash is Django's Argon2PasswordHasher format of password with
// memory KiB, one pass and two lanes.
func argon2Hash(password string, memory uint32) string {
	salt := []byte("saltsaltsaltsalt")
	key := argon2.IDKey([]byte(password), salt, 1, memory, 2, 16)
	return fmt.Sprintf("argon2$argon2id$v=19$m=%d,t=1,p=2$%s$%s", memory, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// TestLoginHashingIsBounded: many concurrent logins of a user with an
// Argon2 hash (each check allocates its memory cost) and of unknown users
// (a dummy hash each) never run more hashes at once than the site allows;
// with a wait as long as the request allows, every one is answered.
func TestLoginHashingIsBounded(t *testing.T) {
	const limit, logins = 2, 12
	const memory = 16 << 10 // KiB per check
	s := newAuthSite(t, auth.Config{MaxHashing: limit, HashingWait: -1})
	s.setHash(t, "erin", argon2Hash("pw", memory))

	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap)
	base, peak := heap[0].Value.Uint64(), uint64(0)
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			metrics.Read(heap)
			peak = max(peak, heap[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range logins {
		wg.Go(func() {
			user, want := "erin", http.StatusFound
			if i%3 == 2 {
				user, want = fmt.Sprintf("nobody%d", i), http.StatusOK // the form again
			}
			got, err := s.login(user, "pw")
			if err != nil || got.status != want {
				t.Errorf("login as %s: %+v, %v; want %d", user, got, err, want)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	st := s.auth.HashingStats()
	t.Logf("%d concurrent logins (argon2 with %d MiB per check, and unknown users): at most %d hashes at once (limit %d), heap at most %d MiB above the start",
		logins, memory>>10, st.Peak, st.Limit, (peak-min(peak, base))>>20)
	if st.Peak > limit || st.Peak < 1 {
		t.Errorf("at most %d password hashes ran at once, want 1 to %d", st.Peak, limit)
	}
	if st.InFlight != 0 || st.Refused != 0 {
		t.Errorf("after the logins: %+v, want none in flight and none refused", st)
	}
}

// TestLoginBusy: while the site hashes as many passwords as it allows, a
// login gets a 503 with Retry-After and says why, the same for a known
// user with the right password and an unknown one (the bound tells
// nothing about which usernames exist); then, with a slot free, the
// login goes through.
func TestLoginBusy(t *testing.T) {
	s := newAuthSite(t, auth.Config{MaxHashing: 1, HashingWait: time.Nanosecond})
	// A check of this hash keeps the one slot busy for a while (a
	// million PBKDF2 rounds; it matches no password).
	s.setHash(t, "slow", "pbkdf2_sha256$1000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	fast, err := auth.MakePassword("pw", 1)
	if err != nil {
		t.Fatal(err)
	}
	s.setHash(t, "frank", fast)

	slow := make(chan loginAnswer, 1)
	go func() {
		got, err := s.login("slow", "wrong")
		if err != nil {
			t.Error(err)
		}
		slow <- got
	}()
	for deadline := time.Now().Add(30 * time.Second); s.auth.HashingStats().InFlight == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the slow login never started hashing")
		}
	}
	known, err := s.login("frank", "pw")
	if err != nil {
		t.Fatal(err)
	}
	unknown, err := s.login("nobody", "pw")
	if err != nil {
		t.Fatal(err)
	}
	for who, got := range map[string]loginAnswer{"known user": known, "unknown user": unknown} {
		if got.status != http.StatusServiceUnavailable || got.retryAfter != "2" || !strings.Contains(got.message, "Too many sign-ins") {
			t.Errorf("%s while busy: %+v, want 503, Retry-After 2 and the reason", who, got)
		}
	}
	if known != unknown {
		t.Errorf("busy: a known user got %+v, an unknown one %+v: the bound must not tell them apart", known, unknown)
	}
	if got := <-slow; got.status != http.StatusOK {
		t.Errorf("the slow login: %+v, want the form again (wrong password)", got)
	}
	if got, err := s.login("frank", "pw"); err != nil || got.status != http.StatusFound {
		t.Errorf("login with a free slot: %+v, %v; want 302", got, err)
	}
	if st := s.auth.HashingStats(); st.Refused != 2 || st.Peak != 1 {
		t.Errorf("stats %+v, want 2 refused and 1 at most at once", st)
	}
}
