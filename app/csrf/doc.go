// Package csrf is Django's CSRF protection (django.middleware.csrf) for a
// Go site, in Django's own format, so that a Go site and a Django site on
// one domain share it: a token either site puts in a form is accepted by
// the other, and neither replaces the other's secret, so a form left open
// in another tab stays valid.
//
// The format is Django's: a secret of 32 characters of [a-zA-Z0-9] in the
// csrftoken cookie (or in the session under "_csrftoken" with
// CSRF_USE_SESSIONS), and form tokens of 64 characters, a fresh random
// mask followed by the secret enciphered with it (against BREACH). Both
// the 32- and the 64-character forms are accepted in the cookie, the
// session, the csrfmiddlewaretoken field and the X-CSRFToken header, as
// Django 4.1 and later accept them; Django 3.2 keeps the masked form in
// its cookie and session, which [Config].CookieMasked writes too.
//
// Like the session core it works on net/http ([Guard.Handler]), with Echo
// as a thin adapter ([Guard.Middleware]).
//
// # Django to Go
//
//	CsrfViewMiddleware               g.Handler(next) (Echo: g.Middleware())
//	get_token(request)               csrf.Token(r)
//	rotate_token(request)            csrf.Rotate(w, r)
//	{% csrf_token %}                 <input type="hidden" name="csrfmiddlewaretoken" value={ csrf.Token(r) }>
//	CSRF_COOKIE_NAME                 Config.CookieName ("csrftoken")
//	CSRF_COOKIE_AGE                  Config.CookieAge (52 weeks; None: BrowserSession)
//	CSRF_COOKIE_DOMAIN               Config.CookieDomain (none)
//	CSRF_COOKIE_PATH                 Config.CookiePath ("/")
//	CSRF_COOKIE_SECURE               Config.CookieSecure (false)
//	CSRF_COOKIE_HTTPONLY             Config.CookieHTTPOnly (false)
//	CSRF_COOKIE_SAMESITE             Config.CookieSameSite (Lax)
//	CSRF_COOKIE_MASKED (4.1, 4.2)    Config.CookieMasked (false; Django 3.2: true)
//	CSRF_HEADER_NAME                 Config.HeaderName ("X-CSRFToken")
//	CSRF_TRUSTED_ORIGINS             Config.TrustedOrigins (none)
//	CSRF_USE_SESSIONS                Config.UseSessions (false)
//	CSRF_FAILURE_VIEW                Config.Failure (net/http; Echo: the site's error handler)
//	_mask_cipher_secret(secret)      Mask(secret)
//	_unmask_cipher_token(token)      Unmask(token)
//	_check_token_format(token)       CheckFormat(token)
//	_does_token_match(token, secret) Matches(token, secret)
//
// # What it checks
//
// Requests whose method is not safe are checked as Django 4.0 and later
// check them, with Django's reasons (see [Guard.Handler]): the Origin
// header against the request's own origin and CSRF_TRUSTED_ORIGINS, the
// Referer on HTTPS without an Origin, the secret, and the token. One check
// is the site's own and stricter than Django: a request the browser marks
// cross-site or same-site (Sec-Fetch-Site) is refused unless its Origin is
// trusted, even with a valid token. Browsers send an Origin with every
// such request, so a setup Django accepts (the same origin, or a trusted
// one) is accepted here too.
//
// The cookie never creates a session. With CSRF_USE_SESSIONS the secret
// creates one only when a page asks for a token, as in Django.
//
// Unlike Django, there is no ALLOWED_HOSTS: the request's own origin is
// its Host header as received, so a proxy in front must pass the Host the
// browser sent (nginx: proxy_set_header Host $http_host), as it must for
// Django.
package csrf
