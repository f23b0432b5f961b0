package auth

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"testing"

	"github.com/djangosessions/gosessions/app/database/sqlite"
	whatwg "github.com/nlnwa/whatwg-url/url"
)

// redirectSeeds are next pages a browser reads differently from Python's
// urlsplit: tabs and newlines dropped anywhere, leading and trailing C0
// controls and spaces stripped, backslashes read as slashes in http and
// https URLs.
var redirectSeeds = []string{
	"/get", "/accounts/profile/", "//testserver/", "https://testserver/x", "http://testserver/x",
	"/\t//evil.example/", "/\n//evil.example/", "/\r//evil.example/", "\t//evil.example/",
	"/\\\t/evil.example/", "\\\t\\evil.example/", "/\t\\evil.example/", "\\/evil.example/",
	"ht\ttps://evil.example/", "https:\t//evil.example/", "https:/\t/evil.example/",
	"//evil\t.example/", "//test\tserver/", "//testserver\t@evil.example/",
	"\x01//evil.example/", "\x1f//evil.example/", " //evil.example/", "/get\t", "\x00/get",
	"/ /evil.example/", "/\x7f/evil.example/", "\u00a0//evil.example/", "/\u3000/evil.example/",
	"https:evil.example", "https:\\\\evil.example", "http:/\\evil.example",
}

// FuzzSafeRedirect reads every next page a login accepts the way a
// browser reads the Location it is sent: what RedirectAfterLogin returns,
// written into a header by net/http, resolved with a WHATWG URL parser (the
// standard browsers follow; net/url is not one) against the login page's
// URL. It must stay on the site: the same host and port, on the site's
// scheme or https. The next page as given, when SafeRedirect accepts it,
// must too.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range redirectSeeds {
		f.Add(s)
	}
	for _, s := range djangoBadURLs {
		f.Add(s)
	}
	for _, s := range djangoGoodURLs {
		f.Add(s)
	}
	db, err := sqlite.OpenURL(f.Context(), "sqlite:"+filepath.Join(f.TempDir(), "db.sqlite3"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	a, err := New(Config{DB: db.Gorm})
	if err != nil {
		f.Fatal(err)
	}
	type page struct {
		url    *whatwg.Url
		host   string
		secure bool
	}
	var pages []page
	for _, raw := range []string{"http://testserver/accounts/login/", "https://testserver/accounts/login/", "http://testserver:8000/accounts/login/"} {
		u, err := whatwg.Parse(raw)
		if err != nil {
			f.Fatal(err)
		}
		pages = append(pages, page{u, u.Host(), u.Protocol() == "https:"})
	}
	f.Fuzz(func(t *testing.T, next string) {
		for _, p := range pages {
			req := httptest.NewRequest(http.MethodPost, p.url.Href(false), nil)
			if p.secure {
				req.TLS = &tls.ConnectionState{}
			}
			loc := a.RedirectAfterLogin(req, next)
			if to, ok := follow(t, p.url, wire(t, loc)); !ok {
				t.Errorf("next=%q on %s: Location %q, which a browser follows to %s", next, p.url.Href(false), loc, to)
			}
			if SafeRedirect(next, []string{p.host}, p.secure) {
				if to, ok := follow(t, p.url, next); !ok {
					t.Errorf("SafeRedirect(%q) on %s = true, but a browser follows it to %s", next, p.url.Href(false), to)
				}
			}
		}
	})
}

// wire returns loc as a client reads it from a Location header net/http
// wrote.
func wire(t *testing.T, loc string) string {
	var buf bytes.Buffer
	if err := (http.Header{"Location": {loc}}).Write(&buf); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("\r\n")
	h, err := textproto.NewReader(bufio.NewReader(&buf)).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("Location %q does not read back: %v", loc, err)
	}
	return h.Get("Location")
}

// follow resolves ref against the page as a browser does, and reports
// where it goes and whether that is on the page's site (same host and
// port, the page's scheme or https). A reference the parser refuses goes
// nowhere, which is safe.
func follow(t *testing.T, page *whatwg.Url, ref string) (string, bool) {
	to, err := page.Parse(ref)
	if err != nil {
		return "nowhere (" + err.Error() + ")", true
	}
	sameScheme := to.Protocol() == page.Protocol() || to.Protocol() == "https:"
	return to.Href(false), sameScheme && to.Host() == page.Host()
}
