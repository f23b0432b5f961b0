package session

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
)

// maxCookieSize is the most a browser keeps of one cookie, name and value
// (RFC 6265's minimum that browsers implement): a bigger Set-Cookie is
// dropped silently, and the user loses the session without an error.
const maxCookieSize = 4096

// loadCookie decodes the SignedCookies session in s.key; the caller holds
// s.mu. A cookie that fails its signature, is older than CookieAge, or
// whose own expiry has passed gives an empty session whose cookie the
// response deletes. Only a bad signature is logged: an expired cookie is
// ordinary.
func (s *Session) loadCookie() {
	m := s.m
	now := m.cfg.Now()
	data, signed, err := m.cookies.loads(s.key)
	if err == nil {
		err = signing.CheckAge(signed, m.cfg.CookieAge, now)
	}
	if err == nil && m.cookieExpired(data, signed, now) {
		err = signing.ErrSignatureExpired
	}
	if err != nil {
		if !errors.Is(err, signing.ErrSignatureExpired) {
			m.cfg.Logger.Warn("session cookie refused", "error", err)
		}
		s.key = ""
		return
	}
	s.data = data
}

// cookieExpired reports whether a session signed at signed has passed its
// own expiry: a time (SetExpiryAt), or seconds of inactivity (SetExpiry)
// counted from the signature. Django does not check it (its ticket
// #19201); a cookie's Max-Age only asks the browser to drop it.
func (m *Manager) cookieExpired(data map[string]any, signed, now time.Time) bool {
	switch v := data[expiryKey].(type) {
	case string:
		if t, ok := parseISO(v); ok {
			return !t.After(now)
		}
	default:
		if n, ok := asInt64(v); ok && n != 0 {
			return !signed.Add(time.Duration(n) * time.Second).After(now)
		}
	}
	return false
}

// persistCookie signs the data into the key, which is the cookie value;
// the caller holds s.mu. An empty session has no cookie.
func (s *Session) persistCookie() error {
	if len(s.data) == 0 {
		s.key, s.ops, s.dirty = "", s.ops[:0], false
		return nil
	}
	m := s.m
	signed, size, err := m.cookies.dumps(s.data, m.cfg.Now())
	if err != nil {
		s.err = err
		return err
	}
	if size > m.cfg.MaxSize {
		return fmt.Errorf("%w: the session holds %d bytes of JSON, over the limit of %d (Config.MaxSize)", ErrTooLarge, size, m.cfg.MaxSize)
	}
	s.key, s.ops, s.dirty = signed, s.ops[:0], false
	return nil
}

// checkCookie refuses a session cookie that browsers would drop.
func (m *Manager) checkCookie(ck *http.Cookie) error {
	if m.cookies == nil {
		return nil
	}
	if n := len(ck.Name) + len(ck.Value); n > maxCookieSize {
		return fmt.Errorf("%w: the session cookie would be %d bytes (name and value), over the %d that browsers keep: store less in the session, or use a server-side engine", ErrTooLarge, n, maxCookieSize)
	}
	return nil
}
