package auth

import (
	"strings"
	"testing"
)

// The cases of Django's URLHasAllowedHostAndSchemeTests
// (tests/utils_tests/test_http.py), each with its allowed hosts.
var (
	djangoBadURLs = []string{
		"http://example.com",
		"http:///example.com",
		"https://example.com",
		"ftp://example.com",
		`\\example.com`,
		`\\\example.com`,
		`/\\/example.com`,
		`\\\example.com`,
		`\\example.com`,
		`\\//example.com`,
		`/\/example.com`,
		`\/example.com`,
		`/\example.com`,
		"http:///example.com",
		`http:/\//example.com`,
		`http:\/example.com`,
		`http:/\example.com`,
		`javascript:alert("XSS")`,
		"\njavascript:alert(x)",
		"java\nscript:alert(x)",
		"\x08//example.com",
		`http://otherserver\@example.com`,
		`http:\\testserver\@example.com`,
		`http://testserver\me:pass@example.com`,
		`http://testserver\@example.com`,
		`http:\\testserver\confirm\me@example.com`,
		"http:999999999",
		"ftp:9999999999",
		"\n",
		"http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
		"http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
	}
	djangoGoodURLs = []string{
		"/view/?param=http://example.com",
		"/view/?param=https://example.com",
		"/view?param=ftp://example.com",
		"view/?param=//example.com",
		"https://testserver/",
		"HTTPS://testserver/",
		"//testserver/",
		"http://testserver/confirm?email=me@example.com",
		"/url%20with%20spaces/",
		"path/http:2222222222",
	}
)

func TestSafeRedirectDjangoCases(t *testing.T) {
	for _, u := range djangoBadURLs {
		if SafeRedirect(u, []string{"testserver", "testserver2"}, false) {
			t.Errorf("SafeRedirect(%q) = true, want false (Django's test_bad_urls)", u)
		}
	}
	for _, u := range djangoGoodURLs {
		if !SafeRedirect(u, []string{"otherserver", "testserver"}, false) {
			t.Errorf("SafeRedirect(%q) = false, want true (Django's test_good_urls)", u)
		}
	}
	// test_basic_auth
	if !SafeRedirect("http://user:pass@testserver/", []string{"user:pass@testserver"}, false) {
		t.Error("valid basic auth credentials refused")
	}
	// test_no_allowed_hosts
	if !SafeRedirect("/confirm/me@example.com", nil, false) {
		t.Error("a path without a host refused with no allowed hosts")
	}
	if SafeRedirect(`http://testserver\@example.com`, nil, false) {
		t.Error("basic auth without a host allowed")
	}
	// test_allowed_hosts_str
	if !SafeRedirect("http://good.com/good", []string{"good.com"}, false) || SafeRedirect("http://good.co/evil", []string{"good.com"}, false) {
		t.Error("a single allowed host is not compared exactly")
	}
	// test_secure_param_https_urls / test_secure_param_non_https_urls
	for _, u := range []string{"https://example.com/p", "HTTPS://example.com/p", "/view/?param=http://example.com"} {
		if !SafeRedirect(u, []string{"example.com"}, true) {
			t.Errorf("SafeRedirect(%q, https required) = false, want true", u)
		}
	}
	for _, u := range []string{"http://example.com/p", "ftp://example.com/p", "//example.com/p"} {
		if SafeRedirect(u, []string{"example.com"}, true) {
			t.Errorf("SafeRedirect(%q, https required) = true, want false", u)
		}
	}
}

// TestSafeRedirectMore: the rules Django's cases do not reach, each as
// Django 5 (on Python's urlsplit) decides it.
func TestSafeRedirectMore(t *testing.T) {
	hosts := []string{"testserver"}
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{"", false},
		{"   ", false},
		{"  /accounts/profile/  ", true}, // stripped first
		{"/\t/example.com", false},       // a browser drops the tab: //example.com
		{"/\r\n/example.com", false},
		{"\t//example.com", false},
		{"/" + strings.Repeat("a", 2047), true},
		{"/" + strings.Repeat("a", 2048), false}, // over MAX_URL_LENGTH
		{"//testserver:8000/", false},            // the port is part of the host
		{"http://TESTSERVER/", false},            // hosts compare exactly
		{"mailto:x@testserver", false},
		{"data:text/html,x", false},
		{"http://[::1]/", false},
		{"http://[v1.fe]/", false},
		{"http://[127.0.0.1]/", false},          // a bracketed IPv4 address: ValueError
		{"http://evil.com／@testserver/", false}, // non-ASCII host
		{"\u200b//example.com", false},          // format character first
		{"/ok\xff", false},                      // not UTF-8
		{"/caf\u00e9/", true},
		{"?next=//example.com", true},
		{"#//example.com", true},
	} {
		if got := SafeRedirect(tt.url, hosts, false); got != tt.want {
			t.Errorf("SafeRedirect(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if !SafeRedirect("http://[::1]:8000/x", []string{"[::1]:8000"}, false) {
		t.Error("an IPv6 host that is allowed is refused")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/accounts/profile/":        "/accounts/profile/",
		"/a b?x=1&y=é":              "/a%20b%3Fx%3D1%26y%3D%C3%A9",
		"/path_with.dots-and~tilde": "/path_with.dots-and~tilde",
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %q, want %q", in, got, want)
		}
	}
}
