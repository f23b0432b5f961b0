package auth

import (
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LoginRequired is Django's @login_required as net/http middleware: a
// logged-in visitor reaches next; an anonymous one is sent (302) to
// Config.LoginURL with the page asked for in ?next=, as Django's
// redirect_to_login does. A database fault while loading the user is a
// plain 503. Within it, as within [Auth.Handler], the user is loaded once
// per request. Put it inside the session middleware; for Echo use
// [Auth.EchoLoginRequired].
func (a *Auth) LoginRequired(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, to, err := a.requireLogin(r)
		switch {
		case err != nil:
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		case to != "":
			http.Redirect(w, r, to, http.StatusFound)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// requireLogin is @login_required's decision: the login page to
// redirect to when the visitor is anonymous, "" when logged in, or the
// database fault. The request it returns remembers its user.
func (a *Auth) requireLogin(r *http.Request) (*http.Request, string, error) {
	r = withUserSlot(r)
	u, err := a.User(r)
	if err != nil {
		return r, "", err
	}
	if u == nil {
		return r, a.LoginURLFor(r.URL.RequestURI()), nil
	}
	return r, "", nil
}

// LoginURLFor returns Config.LoginURL with next in its redirect field,
// quoted as Django's QueryDict.urlencode(safe="/") quotes it:
// /accounts/login/?next=/accounts/profile/.
func (a *Auth) LoginURLFor(next string) string {
	sep := "?"
	if strings.Contains(a.cfg.LoginURL, "?") {
		sep = "&"
	}
	return a.cfg.LoginURL + sep + quote(a.cfg.RedirectFieldName) + "=" + quote(next)
}

// quote is Python's urllib.parse.quote(s, safe="/"): every byte but
// letters, digits, "_.-~" and "/" percent-encoded.
func quote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		const hexDigits = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// RedirectAfterLogin returns where a login should send the visitor, as
// Django's LoginView.get_success_url(): next when it is a safe URL on
// this site (SafeRedirect, with the request's host as the only allowed
// host and https required on a secure request, see Config.IsSecure), else
// Config.LoginRedirectURL.
//
// The page returned is the one SafeRedirect checked: next without the
// white space at its ends, and without control characters.
func (a *Auth) RedirectAfterLogin(r *http.Request, next string) string {
	if to, ok := safeRedirectTarget(next, []string{r.Host}, a.cfg.IsSecure(r)); ok {
		return to
	}
	return a.cfg.LoginRedirectURL
}

// RedirectField returns the name of the query parameter and form field
// that carries the page to return to after login ("next").
func (a *Auth) RedirectField() string { return a.cfg.RedirectFieldName }

// maxRedirectURL is Django's MAX_URL_LENGTH: longer URLs are refused
// before any parsing.
const maxRedirectURL = 2048

// SafeRedirect reports whether url is safe to redirect to after a login:
// a relative URL, or an absolute one to one of allowedHosts (compared with
// the URL's host[:port] exactly), with the scheme http or https (https
// only when requireHTTPS). It is Django's url_has_allowed_host_and_scheme,
// rule for rule as in Django 5, on the URL parsing of Python's urlsplit:
//
//   - white space at both ends is ignored (Python's str.strip);
//   - an empty URL, one over 2048 characters, one starting with "///" or
//     with a control character is refused;
//   - a URL containing a tab, CR, LF or any other ASCII control character
//     is refused. Browsers (the WHATWG URL standard) drop tabs and
//     newlines anywhere in a URL, so "/\t//evil.com" is the "//evil.com"
//     they follow; Django accepts it and is saved only because its
//     response percent-encodes the tab. No page of a site needs a raw
//     control character in its URL;
//   - backslashes are also read as slashes (browsers do in http and https
//     URLs), and both readings must be safe;
//   - a scheme without a host ("http:///evil.com", "javascript:...") is
//     refused; a host without a scheme ("//host/") counts as http;
//   - a bracketed host must be an IPv6 address (or an IPvFuture literal).
//
// Where Python would apply NFKC to a non-ASCII host before checking it,
// the URL is refused instead: no allowed host is non-ASCII.
func SafeRedirect(url string, allowedHosts []string, requireHTTPS bool) bool {
	_, ok := safeRedirectTarget(url, allowedHosts, requireHTTPS)
	return ok
}

// safeRedirectTarget returns url without the white space at its ends, and
// whether it is safe (SafeRedirect).
func safeRedirectTarget(url string, allowedHosts []string, requireHTTPS bool) (string, bool) {
	url = strings.TrimFunc(url, pythonSpace)
	if url == "" || strings.ContainsFunc(url, isASCIIControl) {
		return "", false
	}
	ok := safeRedirect(url, allowedHosts, requireHTTPS) &&
		safeRedirect(strings.ReplaceAll(url, `\`, "/"), allowedHosts, requireHTTPS)
	return url, ok
}

// isASCIIControl reports whether r is a C0 control character or DEL.
func isASCIIControl(r rune) bool { return r < 0x20 || r == 0x7f }

func safeRedirect(url string, allowedHosts []string, requireHTTPS bool) bool {
	if strings.HasPrefix(url, "///") || utf8.RuneCountInString(url) > maxRedirectURL || !utf8.ValidString(url) {
		return false
	}
	scheme, netloc, ok := urlsplit(url)
	if !ok {
		return false
	}
	if netloc == "" && scheme != "" {
		return false
	}
	if first, _ := utf8.DecodeRuneInString(url); isOther(first) {
		return false
	}
	if scheme == "" && netloc != "" {
		scheme = "http"
	}
	if netloc != "" {
		allowed := false
		for _, h := range allowedHosts {
			if h == netloc {
				allowed = true
				break
			}
		}
		if !allowed {
			return false
		}
	}
	switch scheme {
	case "":
		return true
	case "https":
		return true
	case "http":
		return !requireHTTPS
	}
	return false
}

// urlsplit returns the scheme (lower-cased) and network location of url
// as Python's urllib.parse.urlsplit finds them; ok is false where
// urlsplit raises ValueError.
func urlsplit(url string) (scheme, netloc string, ok bool) {
	// WHATWG: leading C0 controls and spaces are dropped, and tabs and
	// newlines removed everywhere.
	url = strings.TrimLeftFunc(url, func(r rune) bool { return r <= ' ' })
	url = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(url)
	if i := strings.IndexByte(url, ':'); i > 0 && isASCIILetter(url[0]) {
		valid := true
		for j := 0; j < i; j++ {
			if !isSchemeChar(url[j]) {
				valid = false
				break
			}
		}
		if valid {
			scheme, url = strings.ToLower(url[:i]), url[i+1:]
		}
	}
	if strings.HasPrefix(url, "//") {
		rest := url[2:]
		end := len(rest)
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			end = i
		}
		netloc = rest[:end]
		open, closed := strings.Contains(netloc, "["), strings.Contains(netloc, "]")
		if open != closed {
			return "", "", false // "Invalid IPv6 URL"
		}
		if open {
			_, after, _ := strings.Cut(netloc, "[")
			host, _, _ := strings.Cut(after, "]")
			if !validBracketedHost(host) {
				return "", "", false
			}
		}
		for i := 0; i < len(netloc); i++ {
			if netloc[i] >= utf8.RuneSelf {
				return "", "", false // see SafeRedirect: NFKC hosts are refused
			}
		}
	}
	return scheme, netloc, true
}

// ipvFuture is the IPvFuture literal of RFC 3986, as Python checks it.
var ipvFuture = regexp.MustCompile(`\Av[a-fA-F0-9]+\..+\z`)

// validBracketedHost is Python's _check_bracketed_host: an IPvFuture
// literal or an IPv6 address (not an IPv4 one).
func validBracketedHost(host string) bool {
	if strings.HasPrefix(host, "v") {
		return ipvFuture.MatchString(host)
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is6()
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isSchemeChar reports whether c may appear in a scheme (Python's
// scheme_chars: letters, digits and "+-.").
func isSchemeChar(c byte) bool {
	return isASCIILetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// pythonSpace is Python's str.isspace, which str.strip() strips: Go's
// white space plus the separators U+001C to U+001F.
func pythonSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// isOther reports whether r is in Unicode's category C (control, format,
// surrogate, private use, unassigned), as unicodedata.category(r)[0] ==
// "C".
func isOther(r rune) bool {
	if unicode.Is(unicode.C, r) {
		return true
	}
	for _, t := range unicode.Categories {
		if unicode.Is(t, r) {
			return false
		}
	}
	return true // assigned to no category: Cn
}
