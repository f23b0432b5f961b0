package views_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/djangosessions/gosessions/app/auth"
	"github.com/djangosessions/gosessions/app/database/sqlite"
	"github.com/djangosessions/gosessions/internal/djangotest"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

// djangoBrowser is a browser on the Django reference site.
type djangoBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (b *djangoBrowser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", firefoxLinux)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp, string(text)
}

// post sends form with the CSRF token of the page at from.
func (b *djangoBrowser) post(from, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	_, page := b.do(http.MethodGet, from, nil)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		b.t.Fatal(err)
	}
	tok, ok := doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	if !ok {
		b.t.Fatalf("no CSRF token on Django's %s", from)
	}
	form.Set("csrfmiddlewaretoken", tok)
	return b.do(http.MethodPost, path, form)
}

func (b *djangoBrowser) sessionKey() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "sessionid" {
			return c.Value
		}
	}
	return ""
}

// TestDjangoReferenceSessions: the Django reference site (views/django)
// answers the contract's /accounts/sessions/ and /api/sessions rows as
// the Go site does: the user's sessions (found by decoding every
// session, Django having no index), ids that are not keys, "sign out all
// other devices" with a 303 back, and a 403 in JSON for an anonymous
// visitor. The newest Django release only.
func TestDjangoReferenceSessions(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "db.sqlite3")
	db, err := sqlite.OpenURL(context.Background(), "sqlite:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{DB: db.Gorm, Iterations: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(t.Context(), "alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	dj, djLog := djangotest.Reference(t, djangotest.Options{SQLite: dbPath}).Start(t)
	browser := func() *djangoBrowser {
		c := newClient(t)
		return &djangoBrowser{t: t, base: dj, client: c}
	}

	if resp, body := browser().do(http.MethodGet, "/api/sessions", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"error"`) {
		t.Errorf("anonymous /api/sessions on Django: %d %s", resp.StatusCode, body)
	}
	laptop, phone := browser(), browser()
	for _, b := range []*djangoBrowser{laptop, phone} {
		resp, body := b.post("/accounts/login/", "/accounts/login/", url.Values{"username": {"alice"}, "password": {"correct horse"}})
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("Django login: %d %.300s\n%s", resp.StatusCode, body, djLog)
		}
	}
	resp, page := laptop.do(http.MethodGet, "/accounts/sessions/", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "You are signed in on 2 devices.") {
		t.Fatalf("Django's page: %d\n%.2000s\n%s", resp.StatusCode, page, djLog)
	}
	for _, k := range []string{laptop.sessionKey(), phone.sessionKey()} {
		if k == "" || strings.Contains(page, k) {
			t.Errorf("Django's page shows a session key, or a browser has none (%q)", k)
		}
	}
	var body struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	if _, text := laptop.do(http.MethodGet, "/api/sessions", nil); json.Unmarshal([]byte(text), &body) != nil || len(body.Sessions) != 2 {
		t.Fatalf("Django's /api/sessions: %s", text)
	}
	resp, _ = laptop.post("/accounts/sessions/", "/accounts/sessions/", url.Values{"signout_others": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/accounts/sessions/" {
		t.Fatalf("Django's sign out all other devices: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := laptop.do(http.MethodGet, "/accounts/sessions/", nil); !strings.Contains(page, "You are signed in on 1 device.") {
		t.Errorf("after signing out the others Django's page:\n%.1500s", page)
	}
	if resp, _ := phone.do(http.MethodGet, "/accounts/profile/", nil); resp.StatusCode != http.StatusFound {
		t.Errorf("the phone after Django's sign-out: %d, want logged out", resp.StatusCode)
	}
}
