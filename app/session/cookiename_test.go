package session_test

import (
	"testing"

	"github.com/djangosessions/gosessions/app/session"
)

// TestValidCookieName: one rule for a cookie's name, RFC 6265's token,
// which session.New and the site's SESSION_COOKIE_NAME both apply.
func TestValidCookieName(t *testing.T) {
	for name, want := range map[string]bool{
		"sessionid": true, "__Host-sid": true, "my.cookie": true, "a!#$%&'*+-.^_`|~9": true,
		"": false, "a b": false, "a=b": false, "a;b": false, "a,b": false, "a/b": false, "a@b": false,
		"a(b": false, "a:b": false, `a"b`: false, "a\tb": false, "a?b": false, "a{b": false, "ü": false,
	} {
		if got := session.ValidCookieName(name); got != want {
			t.Errorf("ValidCookieName(%q) = %v, want %v", name, got, want)
		}
		cfg := session.DefaultConfig()
		cfg.SecretKey, cfg.CookieName, cfg.SignedCookies = "k", name, true
		if name == "" {
			continue // the default name
		}
		if _, err := session.New(cfg); (err == nil) != want {
			t.Errorf("session.New with cookie name %q: %v", name, err)
		}
	}
}
