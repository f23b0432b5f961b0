package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

// TestAuthHooksLogAndCount: the site logs each login and logout (INFO,
// with the user's id) and each failed login (WARN, with the username and
// never the password), and counts them in /metrics.
func TestAuthHooksLogAndCount(t *testing.T) {
	cfg := testConfig()
	cfg.Metrics = true
	cfg.PasswordIterations = 1000
	var logs syncBuffer
	db := dbtest.SQLite(t)
	e, closeSite, err := New(cfg, db, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSite() })
	a, err := auth.New(auth.Config{DB: db.Gorm, Iterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.CreateUser(t.Context(), "alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)
	post := func(path string, form url.Values) int {
		t.Helper()
		resp, err := client.Get(srv.URL + "/accounts/login/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := token.FindSubmatch(page)
		if m == nil {
			t.Fatal("no CSRF token on /accounts/login/")
		}
		form.Set("csrfmiddlewaretoken", string(m[1]))
		resp, err = client.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const secret = "a-password-never-logged"
	if code := post("/accounts/login/", url.Values{"username": {"alice"}, "password": {secret}}); code != http.StatusOK {
		t.Fatalf("a wrong password: %d, want the form again", code)
	}
	if code := post("/accounts/login/", url.Values{"username": {"alice"}, "password": {"correct horse"}}); code != http.StatusFound {
		t.Fatalf("login: %d", code)
	}
	if code := post("/accounts/logout/", url.Values{}); code != http.StatusFound {
		t.Fatalf("logout: %d", code)
	}
	post("/accounts/logout/", url.Values{}) // anonymous: neither logged nor counted

	fams, _ := scrape(t, e)
	for name, want := range map[string]float64{
		"gosessions_auth_logins_total":         1,
		"gosessions_auth_logouts_total":        1,
		"gosessions_auth_login_failures_total": 1,
	} {
		if got := value(fams, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	out := logs.String()
	id := "user_id=" + strconv.FormatInt(u.ID, 10)
	for _, want := range []string{
		"level=INFO msg=login " + id,
		"level=INFO msg=logout " + id,
		`level=WARN msg="login failed" username=alice`,
	} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the log has %d lines %q, want 1:\n%s", strings.Count(out, want), want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "correct horse") {
		t.Errorf("a password reached the log:\n%s", out)
	}
}
