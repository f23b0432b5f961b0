package csrf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/internal/responsehook"
)

// Reasons a request is refused, Django's (django/middleware/csrf.py,
// Django 4.1 and later); the %s are filled as Django fills them.
const (
	ReasonBadOrigin         = "Origin checking failed - %s does not match any trusted origins."
	ReasonNoReferer         = "Referer checking failed - no Referer."
	ReasonBadReferer        = "Referer checking failed - %s does not match any trusted origins."
	ReasonNoCSRFCookie      = "CSRF cookie not set."
	ReasonCSRFTokenMissing  = "CSRF token missing."
	ReasonMalformedReferer  = "Referer checking failed - Referer is malformed."
	ReasonInsecureReferer   = "Referer checking failed - Referer is insecure while host is secure."
	ReasonCrossSiteFetch    = "Sec-Fetch-Site is %s and the Origin is not trusted."
	reasonCookieFormat      = "CSRF cookie %s."
	reasonTokenFormatPOST   = "CSRF token from POST %s."
	reasonTokenFormatHeader = "CSRF token from the '%s' HTTP header %s."
)

// errNoSession reports a Guard with UseSessions on a request that has no
// session: a wiring bug (Django's ImproperlyConfigured).
var errNoSession = errors.New("csrf: UseSessions is set but the request has no session: put the session middleware before the CSRF middleware")

// Guard is Django's CsrfViewMiddleware. It is safe for concurrent use.
type Guard struct {
	cfg Config
	// exact are the trusted origins without a wildcard; wild maps a
	// scheme to the hosts (with their leading ".") whose subdomains are
	// trusted.
	exact map[string]bool
	wild  map[string][]string
}

// New validates cfg, fills its defaults and returns a Guard.
func New(cfg Config) (*Guard, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := &Guard{cfg: cfg, exact: map[string]bool{}, wild: map[string][]string{}}
	for _, o := range cfg.TrustedOrigins {
		if !strings.Contains(o, "*") {
			g.exact[o] = true
			continue
		}
		scheme, netloc, _ := splitOrigin(o)
		g.wild[scheme] = append(g.wild[scheme], strings.TrimLeft(netloc, "*"))
	}
	return g, nil
}

// Config returns the configuration, defaults filled in.
func (g *Guard) Config() Config { return g.cfg }

// Handler returns next wrapped in the CSRF middleware, for any net/http
// router. Within it, [Token] gives a page's forms their token and
// [Rotate] replaces the secret (at login). Every request whose method is
// not safe (GET, HEAD, OPTIONS, TRACE) is checked first, and refused
// through Config.Failure unless:
//
//   - its Origin header, when it has one, is the request's own origin
//     (scheme and Host) or a trusted one (Django 4.0 and later);
//   - over HTTPS without an Origin, its Referer is of a trusted origin,
//     the request's host or the cookie's domain;
//   - it is not marked cross-site or same-site by the browser's
//     Sec-Fetch-Site, unless its Origin is a trusted one (stricter than
//     Django, which does not read Sec-Fetch-Site; browsers send an Origin
//     with every such request, so only a request without one is refused
//     here where Django would accept it);
//   - it carries the secret (cookie, or the session with UseSessions),
//     and a token for it in the csrfmiddlewaretoken field of a POST form
//     or in Config.HeaderName, either masked (64 characters) or not (32).
//
// A new or replaced secret, and any page that asked for a token, sends
// the cookie (or stores the session key) when the response starts, as
// Django renews it. Put it inside the session middleware when
// UseSessions is set.
func (g *Guard) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w, r, reason, err := g.begin(rw, r)
		switch {
		case err != nil:
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		case reason != "":
			g.cfg.Failure(w, r, reason)
		default:
			next.ServeHTTP(w, r)
		}
		w.Finish()
	})
}

// begin gives the request its state (process_request) and checks it
// (process_view): reason says why it is refused, "" when it may go on.
// err is a wiring fault. The writer sends the cookie when the response
// starts.
func (g *Guard) begin(rw http.ResponseWriter, r *http.Request) (*responsehook.Writer, *http.Request, string, error) {
	st := &state{g: g, ctx: r.Context()}
	w := responsehook.New(rw, st.commit)
	if g.cfg.UseSessions {
		if _, err := sessionOf(r.Context()); err != nil {
			st.err = err
			return w, r, "", err
		}
	}
	st.readCookie(r)
	if safeMethod(r.Method) {
		return w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), "", nil
	}
	reason, err := g.check(r, st)
	if err != nil || reason != "" {
		return w, r, reason, err
	}
	return w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), "", nil
}

// check is process_view for a request whose method is not safe.
func (g *Guard) check(r *http.Request, st *state) (string, error) {
	origin, hasOrigin := "", false
	if vs := r.Header.Values("Origin"); len(vs) > 0 {
		origin, hasOrigin = vs[0], true
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		if !hasOrigin || !g.trusted(origin) {
			return fmt.Sprintf(ReasonCrossSiteFetch, site), nil
		}
	}
	if hasOrigin {
		if !g.originVerified(r, origin) {
			return fmt.Sprintf(ReasonBadOrigin, origin), nil
		}
	} else if g.cfg.IsSecure(r) {
		if reason := g.checkReferer(r); reason != "" {
			return reason, nil
		}
	}
	secret, formatReason, err := st.secretForCheck()
	if err != nil {
		return "", err
	}
	if formatReason != "" {
		return fmt.Sprintf(reasonCookieFormat, formatReason), nil
	}
	if secret == "" {
		return ReasonNoCSRFCookie, nil
	}
	token, fromPOST := "", false
	if r.Method == http.MethodPost {
		if r.PostForm == nil {
			_ = r.ParseMultipartForm(32 << 20) // an unreadable body leaves no token: refused below
		}
		if vs := r.PostForm[FormField]; len(vs) > 0 {
			token = vs[len(vs)-1] // QueryDict.get: the last value
		}
		fromPOST = token != ""
	}
	source := fmt.Sprintf(reasonTokenFormatHeader, headerTitle(g.cfg.HeaderName), "%s")
	if fromPOST {
		source = reasonTokenFormatPOST
	} else {
		vs := r.Header.Values(g.cfg.HeaderName)
		if len(vs) == 0 {
			return ReasonCSRFTokenMissing, nil
		}
		token = vs[0]
	}
	if why := CheckFormat(token); why != "" {
		return fmt.Sprintf(source, why), nil
	}
	if !Matches(token, secret) {
		return fmt.Sprintf(source, "incorrect"), nil
	}
	return "", nil
}

// originVerified is Django's _origin_verified: the request's own origin,
// an exact trusted origin, or a subdomain of a wildcard one of the same
// scheme.
func (g *Guard) originVerified(r *http.Request, origin string) bool {
	scheme := "http"
	if g.cfg.IsSecure(r) {
		scheme = "https"
	}
	if r.Host != "" && origin == scheme+"://"+r.Host {
		return true
	}
	return g.trusted(origin)
}

// trusted reports whether origin is one of Config.TrustedOrigins, exactly
// or as a subdomain of a wildcard one.
func (g *Guard) trusted(origin string) bool {
	if g.exact[origin] {
		return true
	}
	scheme, netloc, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for _, host := range g.wild[scheme] {
		if isSameDomain(netloc, host) {
			return true
		}
	}
	return false
}

// checkReferer is Django's _check_referer, for a secure request without
// an Origin: a Referer on https, of a trusted origin's host, the cookie's
// domain (with the request's port when it is not 80 or 443), or the
// request's own host.
func (g *Guard) checkReferer(r *http.Request) string {
	vs := r.Header.Values("Referer")
	if len(vs) == 0 {
		return ReasonNoReferer
	}
	referer := vs[0]
	scheme, netloc, ok := splitOrigin(referer)
	if !ok || scheme == "" || netloc == "" {
		return ReasonMalformedReferer
	}
	if scheme != "https" {
		return ReasonInsecureReferer
	}
	for _, o := range g.cfg.TrustedOrigins {
		_, host, _ := splitOrigin(o)
		if isSameDomain(netloc, strings.TrimLeft(host, "*")) {
			return ""
		}
	}
	good := g.cfg.CookieDomain
	if g.cfg.UseSessions {
		good = g.cfg.SessionCookieDomain
	}
	if good == "" {
		good = r.Host
	} else if port := requestPort(r, g.cfg.IsSecure(r)); port != "443" && port != "80" {
		good += ":" + port
	}
	if good == "" || !isSameDomain(netloc, good) {
		return fmt.Sprintf(ReasonBadReferer, referer)
	}
	return ""
}

// requestPort is Django's request.get_port(): the port the request came
// to, here the one in its Host, else the scheme's.
func requestPort(r *http.Request, secure bool) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return port
	}
	if secure {
		return "443"
	}
	return "80"
}

// splitOrigin is what Django reads of urlsplit(origin): the scheme,
// lower-cased, and the network location; ok is false where urlsplit
// raises (an unbalanced "[").
func splitOrigin(s string) (scheme, netloc string, ok bool) {
	rest := s
	if i := strings.Index(s, ":"); i > 0 && isASCIILetter(s[0]) {
		valid := true
		for j := 1; j < i; j++ {
			c := s[j]
			if !(isASCIILetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
				valid = false
				break
			}
		}
		if valid {
			scheme, rest = strings.ToLower(s[:i]), s[i+1:]
		}
	}
	if after, found := strings.CutPrefix(rest, "//"); found {
		netloc = after
		if i := strings.IndexAny(netloc, "/?#"); i >= 0 {
			netloc = netloc[:i]
		}
		if strings.Contains(netloc, "[") != strings.Contains(netloc, "]") {
			return "", "", false
		}
	}
	return scheme, netloc, true
}

// isSameDomain is Django's django.utils.http.is_same_domain: host equals
// pattern, or pattern starts with "." and host is that domain or one of
// its subdomains. pattern is compared lower-cased, host as it is.
func isSameDomain(host, pattern string) bool {
	if pattern == "" {
		return false
	}
	pattern = strings.ToLower(pattern)
	return pattern[0] == '.' && (strings.HasSuffix(host, pattern) || host == pattern[1:]) || pattern == host
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// safeMethod reports whether m is safe by RFC 9110, which Django does
// not check.
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// sessionOf returns the request's session for UseSessions.
func sessionOf(ctx context.Context) (*session.Session, error) {
	s := session.FromContext(ctx)
	if s == nil {
		return nil, errNoSession
	}
	return s, nil
}
