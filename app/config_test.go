package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/csrf"
	"github.com/djangosessions/gosessions/app/engine"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", cfg.Addr, "127.0.0.1:8000"},
		{"Database", cfg.Database.String(), "sqlite:db.sqlite3"},
		{"Database.Timeout", cfg.Database.Timeout, 5 * time.Second},
		{"SecretKey", cfg.SecretKey, ""},
		{"SecretKeyFallbacks", len(cfg.SecretKeyFallbacks), 0},
		{"SessionEngine", cfg.SessionEngine, engine.DB},
		{"CacheMaxEntries", cfg.CacheMaxEntries, 10000},
		{"LoginURL", cfg.LoginURL, "/accounts/login/"},
		{"LoginRedirectURL", cfg.LoginRedirectURL, "/accounts/profile/"},
		{"Debug", cfg.Debug, false},
		{"CookieName", cfg.Session.CookieName, "sessionid"},
		{"CookieAge", cfg.Session.CookieAge, 1209600 * time.Second},
		{"CookieDomain", cfg.Session.CookieDomain, ""},
		{"CookiePath", cfg.Session.CookiePath, "/"},
		{"CookieSecure", cfg.Session.CookieSecure, false},
		{"DisableCookieHTTPOnly", cfg.Session.DisableCookieHTTPOnly, false},
		{"CookieSameSite", cfg.Session.CookieSameSite, http.SameSiteLaxMode},
		{"ExpireAtBrowserClose", cfg.Session.ExpireAtBrowserClose, false},
		{"SaveEveryRequest", cfg.Session.SaveEveryRequest, false},
		{"CSRF.CookieName", cfg.CSRF.CookieName, "csrftoken"},
		{"CSRF.CookieAge", cfg.CSRF.CookieAge, 31449600 * time.Second},
		{"CSRF.CookieDomain", cfg.CSRF.CookieDomain, ""},
		{"CSRF.CookiePath", cfg.CSRF.CookiePath, "/"},
		{"CSRF.CookieSecure", cfg.CSRF.CookieSecure, false},
		{"CSRF.CookieHTTPOnly", cfg.CSRF.CookieHTTPOnly, false},
		{"CSRF.CookieSameSite", cfg.CSRF.CookieSameSite, http.SameSiteLaxMode},
		{"CSRF.HeaderName", cfg.CSRF.HeaderName, "X-CSRFToken"},
		{"CSRF.TrustedOrigins", len(cfg.CSRF.TrustedOrigins), 0},
		{"CSRF.UseSessions", cfg.CSRF.UseSessions, false},
		{"DataUploadMaxMemorySize", cfg.DataUploadMaxMemorySize, int64(2621440)},
		{"ReadTimeout", cfg.ReadTimeout, 10 * time.Second},
		{"WriteTimeout", cfg.WriteTimeout, 20 * time.Second},
		{"IdleTimeout", cfg.IdleTimeout, 120 * time.Second},
		{"ShutdownTimeout", cfg.ShutdownTimeout, 25 * time.Second},
		{"TrustedProxies", len(cfg.TrustedProxies), 0},
		{"XFrameOptions", cfg.Security.XFrameOptions, "DENY"},
		{"ContentTypeNosniff", cfg.Security.ContentTypeNosniff, true},
		{"ReferrerPolicy", cfg.Security.ReferrerPolicy, "same-origin"},
		{"CrossOriginOpenerPolicy", cfg.Security.CrossOriginOpenerPolicy, "same-origin"},
		{"HSTSSeconds", cfg.Security.HSTSSeconds, 0},
		{"HSTSIncludeSubdomains", cfg.Security.HSTSIncludeSubdomains, false},
		{"HSTSPreload", cfg.Security.HSTSPreload, false},
		{"SSLRedirect", cfg.Security.SSLRedirect, false},
		{"ProxySSLHeader", cfg.Security.ProxySSLHeader, ""},
		{"CSP", cfg.Security.CSP, DefaultCSP},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(Config) bool // reports whether cfg is as expected
	}{
		{"addr env", map[string]string{"ADDR": "0.0.0.0:9000"}, nil,
			func(c Config) bool { return c.Addr == "0.0.0.0:9000" }},
		{"addr flag wins over env", map[string]string{"ADDR": "0.0.0.0:9000"}, []string{"-addr", "127.0.0.1:0"},
			func(c Config) bool { return c.Addr == "127.0.0.1:0" }},
		{"double-dash flag", nil, []string{"--addr=:8080"},
			func(c Config) bool { return c.Addr == ":8080" }},
		{"database url env", map[string]string{"DATABASE_URL": "sqlite:/tmp/x.db"}, nil,
			func(c Config) bool { return c.Database.Path == "/tmp/x.db" }},
		{"database url flag", nil, []string{"-database-url", "x.db"},
			func(c Config) bool { return c.Database.Path == "x.db" }},
		{"signed cookies engine", map[string]string{"SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"}, nil,
			func(c Config) bool { return c.SessionEngine == "signed_cookies" }},
		{"django version", map[string]string{"DJANGO_VERSION": "3.2"}, nil,
			func(c Config) bool { return c.DjangoVersion == "3.2" && c.PasswordIterations == 260_000 }},
		{"django version default", nil, nil,
			func(c Config) bool { return c.DjangoVersion == "5.2" && c.PasswordIterations == 1_000_000 }},
		{"login url", map[string]string{"LOGIN_URL": "/signin/?via=site"}, nil,
			func(c Config) bool { return c.LoginURL == "/signin/?via=site" }},
		{"login url flag wins", map[string]string{"LOGIN_URL": "/signin/"}, []string{"-login-url=https://sso.example/login"},
			func(c Config) bool { return c.LoginURL == "https://sso.example/login" }},
		{"login redirect url", map[string]string{"LOGIN_REDIRECT_URL": "/"}, []string{"-login-redirect-url", "/home/"},
			func(c Config) bool { return c.LoginRedirectURL == "/home/" && c.LoginURL == "/accounts/login/" }},
		{"max size", map[string]string{"SESSION_MAX_SIZE": "2048"}, nil,
			func(c Config) bool { return c.Session.MaxSize == 2048 }},
		{"database timeout", map[string]string{"DATABASE_URL": "sqlite:x.db?timeout=2.5"}, nil,
			func(c Config) bool { return c.Database.Timeout == 2500*time.Millisecond }},
		{"secret key", map[string]string{"SECRET_KEY": "s3cret"}, nil,
			func(c Config) bool { return c.SecretKey == "s3cret" }},
		{"fallbacks split and trimmed", map[string]string{"SECRET_KEY_FALLBACKS": " old1 ,old2,, "}, nil,
			func(c Config) bool { return slices.Equal(c.SecretKeyFallbacks, []string{"old1", "old2"}) }},
		{"engine db", map[string]string{"SESSION_ENGINE": "db"}, nil,
			func(c Config) bool { return c.SessionEngine == "db" }},
		{"engine Django dotted name", map[string]string{"SESSION_ENGINE": "django.contrib.sessions.backends.db"}, nil,
			func(c Config) bool { return c.SessionEngine == "db" }},
		{"engine cached_db", map[string]string{"SESSION_ENGINE": "django.contrib.sessions.backends.cached_db"}, nil,
			func(c Config) bool { return c.SessionEngine == "cached_db" }},
		{"engine cache", map[string]string{"SESSION_ENGINE": "cache"}, nil,
			func(c Config) bool { return c.SessionEngine == "cache" }},
		{"cache size default", nil, nil,
			func(c Config) bool { return c.SessionCacheSize == 10000 }},
		{"cache size off", map[string]string{"SESSION_CACHE_SIZE": "0"}, nil,
			func(c Config) bool { return c.SessionCacheSize == 0 }},
		{"cache size flag", map[string]string{"SESSION_CACHE_SIZE": "5"}, []string{"-session-cache-size=7"},
			func(c Config) bool { return c.SessionCacheSize == 7 }},
		{"cache max entries", map[string]string{"CACHE_MAX_ENTRIES": "500"}, nil,
			func(c Config) bool { return c.CacheMaxEntries == 500 }},
		{"cache max entries flag", map[string]string{"CACHE_MAX_ENTRIES": "500"}, []string{"-cache-max-entries=20"},
			func(c Config) bool { return c.CacheMaxEntries == 20 && c.SessionCacheSize == 10000 }},
		{"debug", map[string]string{"DEBUG": "True"}, nil,
			func(c Config) bool { return c.Debug }},
		{"debug bare flag", nil, []string{"-debug"},
			func(c Config) bool { return c.Debug }},
		{"cookie name", map[string]string{"SESSION_COOKIE_NAME": "__Host-sid"}, nil,
			func(c Config) bool { return c.Session.CookieName == "__Host-sid" }},
		{"cookie age", map[string]string{"SESSION_COOKIE_AGE": "3600"}, nil,
			func(c Config) bool { return c.Session.CookieAge == time.Hour }},
		{"cookie age flag", map[string]string{"SESSION_COOKIE_AGE": "3600"}, []string{"-session-cookie-age=60"},
			func(c Config) bool { return c.Session.CookieAge == time.Minute }},
		{"cookie domain", map[string]string{"SESSION_COOKIE_DOMAIN": ".example.com"}, nil,
			func(c Config) bool { return c.Session.CookieDomain == ".example.com" }},
		{"cookie path", map[string]string{"SESSION_COOKIE_PATH": "/app"}, nil,
			func(c Config) bool { return c.Session.CookiePath == "/app" }},
		{"secure TRUE", map[string]string{"SESSION_COOKIE_SECURE": "TRUE"}, nil,
			func(c Config) bool { return c.Session.CookieSecure }},
		{"secure yes", map[string]string{"SESSION_COOKIE_SECURE": "yes"}, nil,
			func(c Config) bool { return c.Session.CookieSecure }},
		{"secure 1", map[string]string{"SESSION_COOKIE_SECURE": "1"}, nil,
			func(c Config) bool { return c.Session.CookieSecure }},
		{"httponly False", map[string]string{"SESSION_COOKIE_HTTPONLY": "False"}, nil,
			func(c Config) bool { return c.Session.DisableCookieHTTPOnly }},
		{"httponly no", map[string]string{"SESSION_COOKIE_HTTPONLY": "no"}, nil,
			func(c Config) bool { return c.Session.DisableCookieHTTPOnly }},
		{"httponly 0", map[string]string{"SESSION_COOKIE_HTTPONLY": "0"}, nil,
			func(c Config) bool { return c.Session.DisableCookieHTTPOnly }},
		{"httponly flag false", nil, []string{"-session-cookie-httponly=false"},
			func(c Config) bool { return c.Session.DisableCookieHTTPOnly }},
		{"samesite strict", map[string]string{"SESSION_COOKIE_SAMESITE": "Strict"}, nil,
			func(c Config) bool { return c.Session.CookieSameSite == http.SameSiteStrictMode }},
		{"samesite NONE with secure", map[string]string{"SESSION_COOKIE_SAMESITE": "NONE", "SESSION_COOKIE_SECURE": "True"}, nil,
			func(c Config) bool { return c.Session.CookieSameSite == http.SameSiteNoneMode }},
		{"samesite None, secure by flag", map[string]string{"SESSION_COOKIE_SAMESITE": "None"}, []string{"-session-cookie-secure"},
			func(c Config) bool {
				return c.Session.CookieSameSite == http.SameSiteNoneMode && c.Session.CookieSecure
			}},
		{"samesite lax", map[string]string{"SESSION_COOKIE_SAMESITE": "lax"}, nil,
			func(c Config) bool { return c.Session.CookieSameSite == http.SameSiteLaxMode }},
		{"samesite False omits", map[string]string{"SESSION_COOKIE_SAMESITE": "False"}, nil,
			func(c Config) bool { return c.Session.CookieSameSite == http.SameSiteDefaultMode }},
		{"expire at browser close", map[string]string{"SESSION_EXPIRE_AT_BROWSER_CLOSE": "on"}, nil,
			func(c Config) bool { return c.Session.ExpireAtBrowserClose }},
		{"save every request", map[string]string{"SESSION_SAVE_EVERY_REQUEST": "true"}, nil,
			func(c Config) bool { return c.Session.SaveEveryRequest }},
		{"save every request flag", nil, []string{"-session-save-every-request"},
			func(c Config) bool { return c.Session.SaveEveryRequest }},
		{"upload size", map[string]string{"DATA_UPLOAD_MAX_MEMORY_SIZE": "65536"}, nil,
			func(c Config) bool { return c.DataUploadMaxMemorySize == 65536 }},
		{"upload size flag", nil, []string{"-data-upload-max-memory-size=16384"},
			func(c Config) bool { return c.DataUploadMaxMemorySize == 16384 }},
		{"timeouts", map[string]string{"READ_TIMEOUT": "1.5", "WRITE_TIMEOUT": "9", "IDLE_TIMEOUT": "0.25", "SHUTDOWN_TIMEOUT": "10"}, nil,
			func(c Config) bool {
				return c.ReadTimeout == 1500*time.Millisecond && c.WriteTimeout == 9*time.Second && c.IdleTimeout == 250*time.Millisecond && c.ShutdownTimeout == 10*time.Second
			}},
		{"timeout flags", nil, []string{"-read-timeout=2", "-write-timeout=9", "-shutdown-timeout=9.5"},
			func(c Config) bool {
				return c.ReadTimeout == 2*time.Second && c.WriteTimeout == 9*time.Second && c.ShutdownTimeout == 9500*time.Millisecond
			}},
		{"trusted proxies", map[string]string{"TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,::1,2001:db8::/32,"}, nil,
			func(c Config) bool {
				return fmt.Sprint(c.TrustedProxies) == "[10.0.0.1/32 192.168.0.0/16 ::1/128 2001:db8::/32]"
			}},
		{"trusted proxy range is masked", map[string]string{"TRUSTED_PROXIES": "10.1.2.3/8"}, nil,
			func(c Config) bool { return fmt.Sprint(c.TrustedProxies) == "[10.0.0.0/8]" }},
		{"x frame options", map[string]string{"X_FRAME_OPTIONS": "sameorigin"}, nil,
			func(c Config) bool { return c.Security.XFrameOptions == "SAMEORIGIN" }},
		{"nosniff off", map[string]string{"SECURE_CONTENT_TYPE_NOSNIFF": "False"}, nil,
			func(c Config) bool { return !c.Security.ContentTypeNosniff }},
		{"referrer policies", map[string]string{"SECURE_REFERRER_POLICY": "no-referrer, Strict-Origin-When-Cross-Origin"}, nil,
			func(c Config) bool { return c.Security.ReferrerPolicy == "no-referrer,strict-origin-when-cross-origin" }},
		{"referrer policy None", map[string]string{"SECURE_REFERRER_POLICY": "None"}, nil,
			func(c Config) bool { return c.Security.ReferrerPolicy == "" }},
		{"opener policy", map[string]string{"SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin-allow-popups"}, nil,
			func(c Config) bool { return c.Security.CrossOriginOpenerPolicy == "same-origin-allow-popups" }},
		{"opener policy None", nil, []string{"-secure-cross-origin-opener-policy=None"},
			func(c Config) bool { return c.Security.CrossOriginOpenerPolicy == "" }},
		{"hsts", map[string]string{"SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True", "SECURE_HSTS_PRELOAD": "yes"}, nil,
			func(c Config) bool {
				return c.Security.HSTSSeconds == 31536000 && c.Security.HSTSIncludeSubdomains && c.Security.HSTSPreload
			}},
		{"ssl redirect", map[string]string{"SECURE_SSL_REDIRECT": "True"}, nil,
			func(c Config) bool { return c.Security.SSLRedirect }},
		{"proxy ssl header", map[string]string{"SECURE_PROXY_SSL_HEADER": "x-forwarded-proto, https"}, nil,
			func(c Config) bool {
				return c.Security.ProxySSLHeader == "X-Forwarded-Proto" && c.Security.ProxySSLValue == "https"
			}},
		{"proxy ssl header, Django's META name", map[string]string{"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https"}, nil,
			func(c Config) bool {
				return c.Security.ProxySSLHeader == "X-Forwarded-Proto" && c.Security.ProxySSLValue == "https"
			}},
		{"csp", map[string]string{"SECURE_CSP": " default-src 'none' "}, nil,
			func(c Config) bool { return c.Security.CSP == "default-src 'none'" }},
		{"csp None", map[string]string{"SECURE_CSP": "none"}, nil,
			func(c Config) bool { return c.Security.CSP == "" }},
		{"csrf cookie", map[string]string{"CSRF_COOKIE_NAME": "xsrf", "CSRF_COOKIE_AGE": "3600", "CSRF_COOKIE_DOMAIN": ".example.com", "CSRF_COOKIE_PATH": "/app/", "CSRF_COOKIE_SECURE": "True", "CSRF_COOKIE_HTTPONLY": "True", "CSRF_COOKIE_SAMESITE": "Strict"}, nil,
			func(c Config) bool {
				return c.CSRF.CookieName == "xsrf" && c.CSRF.CookieAge == time.Hour && c.CSRF.CookieDomain == ".example.com" && c.CSRF.CookiePath == "/app/" &&
					c.CSRF.CookieSecure && c.CSRF.CookieHTTPOnly && c.CSRF.CookieSameSite == http.SameSiteStrictMode
			}},
		{"csrf cookie age None", map[string]string{"CSRF_COOKIE_AGE": "None"}, nil,
			func(c Config) bool { return c.CSRF.CookieAge == csrf.BrowserSession }},
		{"csrf header, Django's META name", map[string]string{"CSRF_HEADER_NAME": "HTTP_X_XSRF_TOKEN"}, nil,
			func(c Config) bool { return c.CSRF.HeaderName == "X-XSRF-TOKEN" }},
		{"csrf trusted origins", map[string]string{"CSRF_TRUSTED_ORIGINS": "https://a.example.com, https://*.b.example.com"}, nil,
			func(c Config) bool {
				return slices.Equal(c.CSRF.TrustedOrigins, []string{"https://a.example.com", "https://*.b.example.com"})
			}},
		{"csrf use sessions, by flag", nil, []string{"-csrf-use-sessions"},
			func(c Config) bool { return c.CSRF.UseSessions }},
		{"csrf samesite None with secure", map[string]string{"CSRF_COOKIE_SAMESITE": "None", "CSRF_COOKIE_SECURE": "1"}, nil,
			func(c Config) bool { return c.CSRF.CookieSameSite == http.SameSiteNoneMode }},
		{"empty env is unset", map[string]string{"ADDR": "", "SESSION_COOKIE_AGE": ""}, nil,
			func(c Config) bool { return c.Addr == "127.0.0.1:8000" && c.Session.CookieAge == 1209600*time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(tt.args, env(tt.env))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if !tt.check(cfg) {
				t.Errorf("LoadConfig(%q, %v) gave %+v", tt.args, tt.env, cfg)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{"bad addr", map[string]string{"ADDR": "localhost"}, nil, []string{"ADDR", `"localhost"`}},
		{"blank database url", map[string]string{"DATABASE_URL": "  "}, nil, []string{"DATABASE_URL", "empty"}},
		{"bad database option", map[string]string{"DATABASE_URL": "sqlite:x.db?timeout=never"}, nil, []string{"DATABASE_URL", "timeout"}},
		{"bad database url flag", nil, []string{"-database-url=mysql://h/d"}, []string{"-database-url", `"mysql"`}},
		{"file engine", map[string]string{"SESSION_ENGINE": "django.contrib.sessions.backends.file"}, nil, []string{"SESSION_ENGINE", "file engine is not offered", "supported: db"}},
		{"bad max size", map[string]string{"SESSION_MAX_SIZE": "0"}, nil, []string{"SESSION_MAX_SIZE", `"0"`}},
		{"old django version", map[string]string{"DJANGO_VERSION": "2.2"}, nil, []string{"DJANGO_VERSION", `"2.2"`, "3.1 to 6.0"}},
		{"login url name", map[string]string{"LOGIN_URL": "login"}, nil, []string{"LOGIN_URL", `"login"`, "path"}},
		{"login url other site", map[string]string{"LOGIN_URL": "//evil.example/"}, nil, []string{"LOGIN_URL", `"//evil.example/"`}},
		{"login url javascript", map[string]string{"LOGIN_URL": "javascript:alert(1)"}, nil, []string{"LOGIN_URL"}},
		{"login redirect url with space", nil, []string{"-login-redirect-url=/a b"}, []string{"-login-redirect-url", "spaces"}},
		{"negative cache size", map[string]string{"SESSION_CACHE_SIZE": "-1"}, nil, []string{"SESSION_CACHE_SIZE", `"-1"`}},
		{"text cache size", map[string]string{"SESSION_CACHE_SIZE": "lots"}, nil, []string{"SESSION_CACHE_SIZE", `"lots"`}},
		{"unknown engine", map[string]string{"SESSION_ENGINE": "redis"}, nil, []string{"SESSION_ENGINE", `"redis"`, "unknown", "supported: db"}},
		{"zero cache max entries", map[string]string{"CACHE_MAX_ENTRIES": "0"}, nil, []string{"CACHE_MAX_ENTRIES", `"0"`, "1 or more"}},
		{"text cache max entries", map[string]string{"CACHE_MAX_ENTRIES": "many"}, nil, []string{"CACHE_MAX_ENTRIES", `"many"`}},
		{"bad debug", map[string]string{"DEBUG": "maybe"}, nil, []string{"DEBUG", `"maybe"`}},
		{"bad cookie name", map[string]string{"SESSION_COOKIE_NAME": "a b"}, nil, []string{"SESSION_COOKIE_NAME", `"a b"`}},
		{"cookie name with =", map[string]string{"SESSION_COOKIE_NAME": "a=b"}, nil, []string{"SESSION_COOKIE_NAME", `"a=b"`}},
		{"cookie name with /", map[string]string{"SESSION_COOKIE_NAME": "a/b"}, nil, []string{"SESSION_COOKIE_NAME", `"a/b"`}},
		{"cookie age not a number", map[string]string{"SESSION_COOKIE_AGE": "2w"}, nil, []string{"SESSION_COOKIE_AGE", `"2w"`}},
		{"cookie age zero", map[string]string{"SESSION_COOKIE_AGE": "0"}, nil, []string{"SESSION_COOKIE_AGE", `"0"`}},
		{"cookie age negative", map[string]string{"SESSION_COOKIE_AGE": "-5"}, nil, []string{"SESSION_COOKIE_AGE", `"-5"`}},
		{"cookie age huge", map[string]string{"SESSION_COOKIE_AGE": "99999999999"}, nil, []string{"SESSION_COOKIE_AGE", `"99999999999"`}},
		{"cookie age fractional", map[string]string{"SESSION_COOKIE_AGE": "1.5"}, nil, []string{"SESSION_COOKIE_AGE", `"1.5"`}},
		{"bad domain", map[string]string{"SESSION_COOKIE_DOMAIN": "a;b"}, nil, []string{"SESSION_COOKIE_DOMAIN", `"a;b"`}},
		{"relative path", map[string]string{"SESSION_COOKIE_PATH": "app"}, nil, []string{"SESSION_COOKIE_PATH", `"app"`}},
		{"bad secure", map[string]string{"SESSION_COOKIE_SECURE": "sure"}, nil, []string{"SESSION_COOKIE_SECURE", `"sure"`}},
		{"bad httponly", map[string]string{"SESSION_COOKIE_HTTPONLY": "2"}, nil, []string{"SESSION_COOKIE_HTTPONLY", `"2"`}},
		{"bad samesite", map[string]string{"SESSION_COOKIE_SAMESITE": "loose"}, nil, []string{"SESSION_COOKIE_SAMESITE", `"loose"`, "Lax, Strict, None or False"}},
		{"bad expire at browser close", map[string]string{"SESSION_EXPIRE_AT_BROWSER_CLOSE": "x"}, nil, []string{"SESSION_EXPIRE_AT_BROWSER_CLOSE", `"x"`}},
		{"bad save every request", map[string]string{"SESSION_SAVE_EVERY_REQUEST": "x"}, nil, []string{"SESSION_SAVE_EVERY_REQUEST", `"x"`}},
		{"bad flag value", nil, []string{"-session-cookie-age", "soon"}, []string{"-session-cookie-age", `"soon"`}},
		{"bad bool flag value", nil, []string{"-debug=perhaps"}, []string{"-debug", `"perhaps"`}},
		{"bad samesite flag", nil, []string{"-session-cookie-samesite=x"}, []string{"-session-cookie-samesite", `"x"`}},
		{"unknown flag", nil, []string{"-port=80"}, []string{"-port"}},
		{"positional argument", nil, []string{"runserver"}, []string{`"runserver"`}},
		{"secret key is not a flag", nil, []string{"-secret-key=x"}, []string{"-secret-key"}},
		{"database password never shown (env)", map[string]string{"DATABASE_URL": "postgres://u:hunter2@h:1:2/d"}, nil, []string{"DATABASE_URL", "postgres://u@"}},
		{"database password never shown (flag)", nil, []string{"-database-url=postgres://u:hunter2@h/d?pool_max_conns=0"}, []string{"-database-url", "pool_max_conns"}},
		{"samesite None without secure", map[string]string{"SESSION_COOKIE_SAMESITE": "None"}, nil, []string{"SESSION_COOKIE_SAMESITE=None", "SESSION_COOKIE_SECURE=True"}},
		{"samesite None, secure off", map[string]string{"SESSION_COOKIE_SAMESITE": "None", "SESSION_COOKIE_SECURE": "False"}, nil, []string{"SESSION_COOKIE_SAMESITE=None", "SESSION_COOKIE_SECURE=True"}},
		{"upload size too small", map[string]string{"DATA_UPLOAD_MAX_MEMORY_SIZE": "1000"}, nil, []string{"DATA_UPLOAD_MAX_MEMORY_SIZE", `"1000"`, "16384"}},
		{"upload size None", map[string]string{"DATA_UPLOAD_MAX_MEMORY_SIZE": "None"}, nil, []string{"DATA_UPLOAD_MAX_MEMORY_SIZE", "cannot be turned off"}},
		{"read timeout zero", map[string]string{"READ_TIMEOUT": "0"}, nil, []string{"READ_TIMEOUT", `"0"`}},
		{"write timeout text", map[string]string{"WRITE_TIMEOUT": "1m"}, nil, []string{"WRITE_TIMEOUT", `"1m"`}},
		{"idle timeout negative", map[string]string{"IDLE_TIMEOUT": "-1"}, nil, []string{"IDLE_TIMEOUT", `"-1"`}},
		{"shutdown timeout NaN", map[string]string{"SHUTDOWN_TIMEOUT": "NaN"}, nil, []string{"SHUTDOWN_TIMEOUT", `"NaN"`}},
		{"write timeout under read timeout + store wait", map[string]string{"READ_TIMEOUT": "10", "WRITE_TIMEOUT": "16"}, nil, []string{"WRITE_TIMEOUT", "16s", "READ_TIMEOUT", "17s"}},
		{"write timeout under the store wait", map[string]string{"READ_TIMEOUT": "1", "WRITE_TIMEOUT": "5", "SHUTDOWN_TIMEOUT": "10"}, nil, []string{"WRITE_TIMEOUT", "5s", "8s"}},
		{"shutdown not above write timeout", map[string]string{"SHUTDOWN_TIMEOUT": "20"}, nil, []string{"SHUTDOWN_TIMEOUT", "WRITE_TIMEOUT", "20s"}},
		{"read timeout above the shutdown grace", map[string]string{"READ_TIMEOUT": "30"}, nil, []string{"WRITE_TIMEOUT", "READ_TIMEOUT"}},
		{"bad trusted proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.1,proxy.local"}, nil, []string{"TRUSTED_PROXIES", "proxy.local"}},
		{"bad trusted range", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, nil, []string{"TRUSTED_PROXIES", "10.0.0.0/33"}},
		{"bad x frame options", map[string]string{"X_FRAME_OPTIONS": "ALLOW-FROM x"}, nil, []string{"X_FRAME_OPTIONS", "DENY or SAMEORIGIN"}},
		{"bad referrer policy", map[string]string{"SECURE_REFERRER_POLICY": "same-origin,nope"}, nil, []string{"SECURE_REFERRER_POLICY", `"same-origin,nope"`, "strict-origin"}},
		{"bad opener policy", map[string]string{"SECURE_CROSS_ORIGIN_OPENER_POLICY": "cross-origin"}, nil, []string{"SECURE_CROSS_ORIGIN_OPENER_POLICY", "same-origin-allow-popups"}},
		{"bad hsts", map[string]string{"SECURE_HSTS_SECONDS": "-1"}, nil, []string{"SECURE_HSTS_SECONDS", `"-1"`}},
		{"bad ssl redirect", map[string]string{"SECURE_SSL_REDIRECT": "always"}, nil, []string{"SECURE_SSL_REDIRECT", `"always"`}},
		{"proxy ssl header without value", map[string]string{"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, nil, []string{"SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto,https"}},
		{"proxy ssl header bad name", map[string]string{"SECURE_PROXY_SSL_HEADER": "X Forwarded,https"}, nil, []string{"SECURE_PROXY_SSL_HEADER"}},
		{"bad csrf cookie name", map[string]string{"CSRF_COOKIE_NAME": "csrf token"}, nil, []string{"CSRF_COOKIE_NAME", `"csrf token"`}},
		{"bad csrf cookie age", map[string]string{"CSRF_COOKIE_AGE": "0"}, nil, []string{"CSRF_COOKIE_AGE", "None"}},
		{"bad csrf header", map[string]string{"CSRF_HEADER_NAME": "X CSRF"}, nil, []string{"CSRF_HEADER_NAME", "X-CSRFToken"}},
		{"csrf trusted origin without a scheme", map[string]string{"CSRF_TRUSTED_ORIGINS": "example.com"}, nil, []string{"CSRF_TRUSTED_ORIGINS", "scheme"}},
		{"bad csrf use sessions", map[string]string{"CSRF_USE_SESSIONS": "sometimes"}, nil, []string{"CSRF_USE_SESSIONS"}},
		{"csrf samesite None without secure", map[string]string{"CSRF_COOKIE_SAMESITE": "None"}, nil, []string{"CSRF_COOKIE_SAMESITE=None", "CSRF_COOKIE_SECURE"}},
		{"csrf cookie named like the session's", map[string]string{"CSRF_COOKIE_NAME": "sessionid"}, nil, []string{"CSRF_COOKIE_NAME", "SESSION_COOKIE_NAME"}},
		{"csp with a newline", map[string]string{"SECURE_CSP": "default-src 'self'\nx"}, nil, []string{"SECURE_CSP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.args, env(tt.env))
			if err == nil {
				t.Fatalf("LoadConfig(%q, %v): no error", tt.args, tt.env)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error has several lines: %q", msg)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error shows the password: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %s", msg, w)
				}
			}
		})
	}
}

func TestLoadConfigHelp(t *testing.T) {
	_, err := LoadConfig([]string{"-h"}, env(nil))
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("LoadConfig(-h) = %v, want flag.ErrHelp", err)
	}
	var buf bytes.Buffer
	PrintUsage(&buf)
	for _, s := range settings() {
		if !strings.Contains(buf.String(), s.env) {
			t.Errorf("usage does not mention %s", s.env)
		}
		if s.flag != "" && !strings.Contains(buf.String(), "-"+s.flag) {
			t.Errorf("usage does not mention -%s", s.flag)
		}
	}
	if !strings.Contains(buf.String(), "default 127.0.0.1:8000") {
		t.Errorf("usage does not give ADDR's default:\n%s", buf.String())
	}
}
