package onedomain_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// client is a plain HTTP client visiting one domain as a browser would:
// one cookie jar, redirects not followed, an Origin on every POST.
type client struct {
	t    *testing.T
	hc   *http.Client
	base string
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response, its HTML parsed.
type page struct {
	status int
	header http.Header
	doc    *goquery.Document
	body   string
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	html, _ := doc.Html()
	return &page{status: resp.StatusCode, header: resp.Header, doc: doc, body: html}
}

func (c *client) get(path string) *page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends form, with token in csrfmiddlewaretoken when it is not "",
// and the headers of hdr (name, value, ...), from the domain's own
// Origin.
func (c *client) post(path string, form url.Values, token string, hdr ...string) *page {
	c.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if token != "" {
		f.Set("csrfmiddlewaretoken", token)
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(f.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.do(req)
}

// cookie returns the jar's cookie name for the domain, or "".
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// setCookie replaces the jar's cookie name, as a browser holds it.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.base)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// token is the page's CSRF form token.
func (p *page) token(t *testing.T) string {
	t.Helper()
	tok, ok := p.doc.Find(`input[name="csrfmiddlewaretoken"]`).First().Attr("value")
	if !ok || tok == "" {
		t.Fatalf("no CSRF token on the page (status %d)", p.status)
	}
	return tok
}

// site says which site answered: Django's reference pages mark their
// main element.
func (p *page) site() string {
	if p.doc.Find(`main[data-site="django"]`).Length() > 0 {
		return "django"
	}
	return "go"
}

// text is the trimmed text of the element with data-testid id.
func (p *page) text(id string) string {
	return strings.TrimSpace(p.doc.Find(`[data-testid="` + id + `"]`).First().Text())
}

// decodeJSON decodes a 200 response's JSON body into v.
func decodeJSON(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", resp.Request.URL.Path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
