package auth

import (
	"net/http"
	"strings"
)

// Exempt is the set of pages that a login-required-by-default middleware
// ([Auth.LoginRequiredByDefault]) lets anonymous visitors reach: Django's
// views marked @login_not_required. Make it with [LoginNotRequired], next
// to the routes it names.
type Exempt struct {
	paths    map[string]bool
	prefixes []string
}

// LoginNotRequired returns the exemption of the given paths, Django's
// @login_not_required. Each is a route's path as registered (an Echo
// route such as "/accounts/login/", matched against the route and against
// the request's path) or, ending in "*", a prefix of paths
// ("/accounts/password/reset/*"). A trailing slash does not matter:
// "/accounts/login/" also exempts "/accounts/login".
func LoginNotRequired(paths ...string) Exempt {
	e := Exempt{paths: make(map[string]bool, len(paths))}
	for _, p := range paths {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			e.prefixes = append(e.prefixes, prefix)
			continue
		}
		e.paths[trimSlash(p)] = true
	}
	return e
}

// Has reports whether path is exempt.
func (e Exempt) Has(path string) bool {
	if e.paths[trimSlash(path)] {
		return true
	}
	for _, p := range e.prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// trimSlash drops one trailing slash, except from "/".
func trimSlash(p string) string {
	if len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	return p
}

// LoginRequiredByDefault is Django 5.1's LoginRequiredMiddleware as
// net/http middleware: the inverse of [Auth.LoginRequired]. Every request
// through it needs a logged-in user, except those for the pages of
// exempt and for the login page itself (Config.LoginURL's path, so that
// no setting can make the login page unreachable); an anonymous visitor
// is sent (302) to Config.LoginURL with the page asked for in ?next=, as
// @login_required does. A database fault while loading the user is a
// plain 503. The paths of exempt are matched against the request's URL
// path. Put it inside the session middleware; for Echo use
// [Auth.EchoLoginRequiredByDefault].
//
// Put it around what should be closed by default (a subtree of the site,
// or all of it): a page added there later is protected unless marked,
// where with LoginRequired a page is open unless marked.
func (a *Auth) LoginRequiredByDefault(exempt Exempt) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		login := a.LoginRequired(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if a.exempt(exempt, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			login.ServeHTTP(w, r)
		})
	}
}

// exempt reports whether path needs no login: one of exempt's, or the
// login page's.
func (a *Auth) exempt(exempt Exempt, path string) bool {
	if exempt.Has(path) {
		return true
	}
	loginPath, _, _ := strings.Cut(a.cfg.LoginURL, "?")
	return strings.HasPrefix(loginPath, "/") && trimSlash(loginPath) == trimSlash(path)
}
