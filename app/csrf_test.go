package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

// TestCSRFFollowsDjangoVersion: the site writes the CSRF secret as the
// Django release of DJANGO_VERSION does, masked (64 characters) for
// Django 3.2 and 4.0, the secret itself (32) from 4.1 on; either way it
// accepts a token of either form, and the cookie of the other form.
func TestCSRFFollowsDjangoVersion(t *testing.T) {
	for version, wantLen := range map[string]int{"3.2": csrf.TokenLength, "4.0": csrf.TokenLength, "4.1": csrf.SecretLength, "5.2": csrf.SecretLength} {
		t.Run(version, func(t *testing.T) {
			cfg := testConfig()
			cfg.DjangoVersion = version
			e, closeSite, err := New(cfg, dbtest.SQLite(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { closeSite() })
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
			var cookie *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == "csrftoken" {
					cookie = c
				}
			}
			if cookie == nil || len(cookie.Value) != wantLen || csrf.CheckFormat(cookie.Value) != "" {
				t.Fatalf("DJANGO_VERSION=%s: csrftoken %v, want %d characters", version, cookie, wantLen)
			}
			secret := csrf.SecretOf(cookie.Value)
			for _, c := range []struct{ cookie, token string }{
				{secret, csrf.Mask(secret)}, {secret, secret}, {csrf.Mask(secret), csrf.Mask(secret)}, {csrf.Mask(secret), secret},
			} {
				req := httptest.NewRequest("POST", "/set", strings.NewReader(url.Values{"csrfmiddlewaretoken": {c.token}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(&http.Cookie{Name: "csrftoken", Value: c.cookie})
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Errorf("cookie of %d characters, token of %d: %d", len(c.cookie), len(c.token), rec.Code)
				}
			}
		})
	}
}
