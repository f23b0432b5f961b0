package csrf

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/djangosessions/gosessions/internal/responsehook"
)

// stateKey is the request-context key of the request's state.
type stateKey struct{}

// state is one request's CSRF secret: Django's request.META["CSRF_COOKIE"]
// and its CSRF_COOKIE_NEEDS_UPDATE flag.
type state struct {
	g   *Guard
	ctx context.Context

	mu sync.Mutex
	// loaded: secret, stored and formatReason are known (the cookie is read
	// at once; the session only when something needs the secret).
	loaded bool
	// cookieValue is the request's cookie, "" when it had none.
	cookieValue string
	hadCookie   bool
	// formatReason says why the request's cookie is not a secret or a
	// token ("" when it is, or when there is none).
	formatReason string
	secret       string // "" when the request has none yet
	stored       string // the form written to the cookie or session: secret, or a masked secret
	needsUpdate  bool   // write stored when the response starts
	err          error  // a wiring fault (UseSessions without a session)
}

// readCookie notes the request's cookie: the last one of the name, as
// Django's parse_cookie keeps the last.
func (st *state) readCookie(r *http.Request) {
	if st.g.cfg.UseSessions {
		return
	}
	if cs := r.CookiesNamed(st.g.cfg.CookieName); len(cs) > 0 {
		st.cookieValue, st.hadCookie = cs[len(cs)-1].Value, true
	}
	st.load()
}

// load is process_request: the secret from the cookie or the session. A
// cookie that is no secret nor token is replaced by a new secret (sent
// with the response); a session value that is none is ignored. The
// caller holds st.mu, or st is not shared yet.
func (st *state) load() {
	if st.loaded {
		return
	}
	st.loaded = true
	var value string
	if st.g.cfg.UseSessions {
		s, err := sessionOf(st.ctx)
		if err != nil {
			st.err = err
			return
		}
		v, _ := s.Get(SessionKey, "").(string)
		if CheckFormat(v) != "" {
			return // none (or not one Django could have written): a new one when needed
		}
		value = v
	} else {
		if !st.hadCookie {
			return
		}
		if why := CheckFormat(st.cookieValue); why != "" {
			st.formatReason = why
			st.renew(NewSecret())
			return
		}
		value = st.cookieValue
	}
	st.secret = SecretOf(value)
	switch {
	case !st.g.cfg.CookieMasked:
		st.stored = st.secret // a masked value is written back unmasked, as Django 4.1
	case len(value) == TokenLength:
		st.stored = value // kept as it is, as Django 3.2 keeps it
	default:
		st.stored = Mask(st.secret)
	}
}

// renew makes secret the request's, to be written when the response
// starts: _add_new_csrf_cookie.
func (st *state) renew(secret string) {
	st.secret = secret
	st.stored = secret
	if st.g.cfg.CookieMasked {
		st.stored = Mask(secret)
	}
	st.needsUpdate = true
}

// secretForCheck returns the secret the request came with, or why its
// cookie is refused (Django rereads the cookie in process_view, so the
// replacement made in process_request is not the one checked).
func (st *state) secretForCheck() (secret, formatReason string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.load()
	if st.err != nil {
		return "", "", st.err
	}
	if st.formatReason != "" {
		return "", st.formatReason, nil
	}
	return st.secret, "", nil
}

// Token returns a form token for the request, Django's get_token(): the
// request's secret masked afresh (every call gives another token, all
// valid). A request without a secret gets a new one. Either way the
// secret goes out with the response (the cookie renewed, or the session
// key stored), so the token stays valid after this page. Outside the
// middleware, or when the secret cannot be read (UseSessions without a
// session), it returns "".
func Token(r *http.Request) string {
	st, _ := r.Context().Value(stateKey{}).(*state)
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.load()
	if st.err != nil {
		return ""
	}
	if st.secret == "" {
		st.renew(NewSecret())
	}
	st.needsUpdate = true
	return Mask(st.secret)
}

// Rotate gives the request a new secret, Django's rotate_token(), which
// login() calls: every token made before it is worthless after it, and
// the pages rendered for this request get tokens of the new secret. It
// has the shape package auth's Login takes; w is not used (the secret is
// written when the response starts). Outside the middleware it does
// nothing.
func Rotate(_ http.ResponseWriter, r *http.Request) {
	st, _ := r.Context().Value(stateKey{}).(*state)
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.load()
	st.formatReason = ""
	st.renew(NewSecret())
}

// commit is process_response: when the secret needs writing, the cookie
// is set (with Vary: Cookie) or the session key stored.
func (st *state) commit(h http.Header) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.needsUpdate || st.err != nil {
		return
	}
	st.needsUpdate = false
	cfg := st.g.cfg
	if cfg.UseSessions {
		s, err := sessionOf(st.ctx)
		if err != nil {
			return
		}
		if v, _ := s.Get(SessionKey, nil).(string); v != st.stored {
			s.Set(SessionKey, st.stored)
		}
		return
	}
	ck := &http.Cookie{
		Name:     cfg.CookieName,
		Value:    st.stored,
		Domain:   cfg.CookieDomain,
		Path:     cfg.CookiePath,
		Secure:   cfg.CookieSecure,
		HttpOnly: cfg.CookieHTTPOnly,
		SameSite: cfg.CookieSameSite,
	}
	if cfg.CookieAge > 0 {
		ck.MaxAge = int(cfg.CookieAge / time.Second)
		ck.Expires = time.Now().Add(cfg.CookieAge).UTC()
	}
	h.Add("Set-Cookie", ck.String())
	responsehook.VaryCookie(h)
}
