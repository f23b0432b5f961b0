package app

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// SecurityConfig holds the settings of Django's SecurityMiddleware and
// XFrameOptionsMiddleware, with their names and defaults. An empty string
// setting sends no header (Django's None).
//
// It deliberately differs from Echo's middleware.Secure, which sends
// X-XSS-Protection, includes subdomains in HSTS by default and believes
// X-Forwarded-Proto from any client: here HSTS goes only on requests that
// are secure by Django's rule (see [SecurityConfig.IsSecure]).
type SecurityConfig struct {
	// XFrameOptions is X_FRAME_OPTIONS: "DENY" (default) or "SAMEORIGIN".
	XFrameOptions string
	// ContentTypeNosniff sends X-Content-Type-Options: nosniff
	// (SECURE_CONTENT_TYPE_NOSNIFF). Default true.
	ContentTypeNosniff bool
	// ReferrerPolicy is SECURE_REFERRER_POLICY. Default "same-origin".
	ReferrerPolicy string
	// CrossOriginOpenerPolicy is SECURE_CROSS_ORIGIN_OPENER_POLICY.
	// Default "same-origin".
	CrossOriginOpenerPolicy string
	// HSTSSeconds is SECURE_HSTS_SECONDS: the max-age of
	// Strict-Transport-Security on secure requests; 0 (default) sends none.
	HSTSSeconds int
	// HSTSIncludeSubdomains and HSTSPreload add includeSubDomains and
	// preload to it (SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD).
	// Default false.
	HSTSIncludeSubdomains, HSTSPreload bool
	// SSLRedirect answers every request that is not secure with a 301 to
	// the same URL on https (SECURE_SSL_REDIRECT). Default false.
	SSLRedirect bool
	// ProxySSLHeader and ProxySSLValue are SECURE_PROXY_SSL_HEADER: a
	// request whose header ProxySSLHeader (first comma-separated value)
	// equals ProxySSLValue is secure. Set it only behind a proxy that sets
	// or strips that header on every request: any client can send it.
	// Default unset.
	ProxySSLHeader, ProxySSLValue string
	// CSP is the Content-Security-Policy of every response (SECURE_CSP,
	// Django 6's name). The default, [DefaultCSP], is one the site's pages
	// satisfy: no inline script or style, nothing from other origins.
	CSP string
}

// DefaultCSP allows the site's own stylesheet and icon and nothing else:
// no script at all, no inline style, no plugins, no <base>, forms posting
// only to the site, and no framing (like X-Frame-Options: DENY).
const DefaultCSP = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// DefaultSecurityConfig returns Django's defaults, and [DefaultCSP].
func DefaultSecurityConfig() SecurityConfig {
	return SecurityConfig{
		XFrameOptions:           "DENY",
		ContentTypeNosniff:      true,
		ReferrerPolicy:          "same-origin",
		CrossOriginOpenerPolicy: "same-origin",
		CSP:                     DefaultCSP,
	}
}

// IsSecure reports whether r came over HTTPS, as Django's
// request.is_secure() decides: by SECURE_PROXY_SSL_HEADER when it is set
// and the request carries that header, else by the connection itself.
func (sc SecurityConfig) IsSecure(r *http.Request) bool {
	if sc.ProxySSLHeader != "" {
		if vs := r.Header.Values(sc.ProxySSLHeader); len(vs) > 0 {
			first, _, _ := strings.Cut(vs[0], ",")
			return strings.TrimSpace(first) == sc.ProxySSLValue
		}
	}
	return r.TLS != nil
}

// Scheme is the request's scheme by IsSecure, "https" or "http": the
// site's Echo SchemeExtractor, so that c.Scheme() agrees with the security
// headers, SECURE_SSL_REDIRECT and the login redirect (package auth's
// Config.IsSecure), instead of Echo's default, which believes
// X-Forwarded-Proto from any private or loopback address.
func (sc SecurityConfig) Scheme(r *http.Request) string {
	if sc.IsSecure(r) {
		return "https"
	}
	return "http"
}

// hsts is the Strict-Transport-Security value, or "".
func (sc SecurityConfig) hsts() string {
	if sc.HSTSSeconds <= 0 {
		return ""
	}
	v := "max-age=" + strconv.Itoa(sc.HSTSSeconds)
	if sc.HSTSIncludeSubdomains {
		v += "; includeSubDomains"
	}
	if sc.HSTSPreload {
		v += "; preload"
	}
	return v
}

// securityHeaders is SecurityMiddleware and XFrameOptionsMiddleware in
// one. It sets the headers before the handler runs, so that every response
// has them, error pages included: a handler may still override one.
// Responses replaced later (the session middleware's 503 on a store
// fault) keep them, because only the handler's own representation headers
// are dropped then.
func securityHeaders(sc SecurityConfig) echo.MiddlewareFunc {
	hsts := sc.hsts()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			h := c.Response().Header()
			secure := sc.IsSecure(r)
			if hsts != "" && secure {
				h.Set("Strict-Transport-Security", hsts)
			}
			if sc.ContentTypeNosniff {
				h.Set("X-Content-Type-Options", "nosniff")
			}
			if sc.ReferrerPolicy != "" {
				h.Set("Referrer-Policy", sc.ReferrerPolicy)
			}
			if sc.CrossOriginOpenerPolicy != "" {
				h.Set("Cross-Origin-Opener-Policy", sc.CrossOriginOpenerPolicy)
			}
			if sc.XFrameOptions != "" {
				h.Set("X-Frame-Options", sc.XFrameOptions)
			}
			if sc.CSP != "" {
				h.Set("Content-Security-Policy", sc.CSP)
			}
			if sc.SSLRedirect && !secure {
				// Django: HttpResponsePermanentRedirect("https://%s%s" %
				// (host, request.get_full_path())).
				return c.Redirect(http.StatusMovedPermanently, "https://"+r.Host+r.URL.RequestURI())
			}
			return next(c)
		}
	}
}

// Values Django accepts (django/core/checks/security/base.py).
const (
	referrerPolicies = "no-referrer no-referrer-when-downgrade origin origin-when-cross-origin same-origin strict-origin strict-origin-when-cross-origin unsafe-url"
	openerPolicies   = "same-origin same-origin-allow-popups unsafe-none"
)

// isNone reports whether v is Django's None: the header is not sent.
func isNone(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "none") }

// parseXFrameOptions reads X_FRAME_OPTIONS.
func parseXFrameOptions(v string) (string, error) {
	switch u := strings.ToUpper(strings.TrimSpace(v)); u {
	case "DENY", "SAMEORIGIN":
		return u, nil
	}
	return "", errors.New("want DENY or SAMEORIGIN")
}

// parseReferrerPolicy reads SECURE_REFERRER_POLICY: one policy, or several
// comma-separated (the browser uses the last it knows), or None.
func parseReferrerPolicy(v string) (string, error) {
	if isNone(v) {
		return "", nil
	}
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if !slices.Contains(strings.Fields(referrerPolicies), p) {
			return "", fmt.Errorf("want None or policies from: %s", strings.ReplaceAll(referrerPolicies, " ", ", "))
		}
		out = append(out, p)
	}
	return strings.Join(out, ","), nil
}

// parseOpenerPolicy reads SECURE_CROSS_ORIGIN_OPENER_POLICY.
func parseOpenerPolicy(v string) (string, error) {
	if isNone(v) {
		return "", nil
	}
	p := strings.ToLower(strings.TrimSpace(v))
	if !slices.Contains(strings.Fields(openerPolicies), p) {
		return "", fmt.Errorf("want None or one of: %s", strings.ReplaceAll(openerPolicies, " ", ", "))
	}
	return p, nil
}

// parseProxySSLHeader reads SECURE_PROXY_SSL_HEADER, written NAME,VALUE:
// the header name as sent (X-Forwarded-Proto) or as Django's META key
// (HTTP_X_FORWARDED_PROTO), then the value that means HTTPS. It returns
// the canonical header name and the value; None unsets it.
func parseProxySSLHeader(v string) (name, value string, err error) {
	if isNone(v) {
		return "", "", nil
	}
	bad := errors.New("want HEADER,VALUE such as X-Forwarded-Proto,https (Django's HTTP_X_FORWARDED_PROTO,https also works), or None")
	name, value, ok := strings.Cut(v, ",")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || value == "" || strings.Contains(value, ",") {
		return "", "", bad
	}
	if meta, ok := strings.CutPrefix(name, "HTTP_"); ok {
		name = strings.ReplaceAll(meta, "_", "-")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", "", bad
		}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < 0x21 || c > 0x7e {
			return "", "", bad
		}
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// parseCSP reads SECURE_CSP: a policy sent as is, or None.
func parseCSP(v string) (string, error) {
	if isNone(v) {
		return "", nil
	}
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return "", errors.New("want a policy of printable ASCII, such as \"default-src 'self'\", or None")
		}
	}
	return v, nil
}
