package messages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
)

// The cookie of Django's CookieStorage.
const (
	// CookieName is the cookie's name (CookieStorage.cookie_name).
	CookieName = "messages"
	// MaxCookieSize is the most a messages cookie value may hold, in
	// bytes as it is sent (CookieStorage.max_cookie_size): half of the 4
	// KB that some servers allow for all headers (Django's #18781).
	// Messages beyond it go to the session.
	MaxCookieSize = 2048
	// Salt is the salt of the cookie's signature (CookieStorage.key_salt).
	Salt = "django.contrib.messages"

	// messageKey marks a message in the JSON (MessageEncoder.message_key).
	messageKey = "__json_message"
	// notFinished, last in a cookie, says that more messages are in the
	// session (CookieStorage.not_finished).
	notFinished = "__messagesnotfinished__"
)

// signer signs the cookie as Django's get_cookie_signer(salt=Salt) does:
// a signing.TimestampSigner (Django's SIGNING_BACKEND) whose key is
// "django.http.cookies" + SECRET_KEY. The time in the signature is not
// checked when reading, as Django does not check it.
type signer struct{ *signing.TimestampSigner }

func newSigner(secret string, fallbacks []string) signer {
	keys := make([]string, len(fallbacks))
	for i, k := range fallbacks {
		keys[i] = cookieSignerKey(k)
	}
	return signer{signing.NewTimestampSigner(cookieSignerKey(secret), keys, Salt)}
}

// cookieSignerKey is Django's _cookie_signer_key.
func cookieSignerKey(secret string) string { return "django.http.cookies" + secret }

// encodeMessage writes msg as Django's MessageEncoder does, with sep
// between the items: ["__json_message",0,20,"text"] and the extra tags
// last when Django would write them.
func (m *Manager) encodeMessage(msg Message, sep string) string {
	var b strings.Builder
	b.WriteString(`["` + messageKey + `"`)
	b.WriteString(sep)
	if msg.Safe {
		b.WriteByte('1')
	} else {
		b.WriteByte('0')
	}
	b.WriteString(sep)
	b.WriteString(strconv.Itoa(int(msg.Level)))
	b.WriteString(sep)
	b.Write(jsonString(msg.Text))
	// Django 4.1 and later: `if obj.extra_tags is not None`; before:
	// `if obj.extra_tags`.
	if !msg.noTags && (msg.ExtraTags != "" || m.emptyTags) {
		b.WriteString(sep)
		b.Write(jsonString(msg.ExtraTags))
	}
	b.WriteByte(']')
	return b.String()
}

// jsonString is s as Python's json.dumps writes it (ASCII only).
func jsonString(s string) []byte {
	b, err := signing.MarshalJSON(s)
	if err != nil {
		return []byte(`""`) // a string always encodes
	}
	return b
}

// signParts signs the JSON list of the already encoded items as Django's
// CookieStorage does: sign_object(compress=True) of
// "[" + ",".join(parts) + "]".
func (m *Manager) signParts(parts []string) string {
	return m.signer.SignBytes([]byte("["+strings.Join(parts, ",")+"]"), m.cfg.Now())
}

// fitCookie returns the cookie value of as many of msgs as fit in
// MaxCookieSize, oldest first, and the messages left over (Django's
// CookieStorage._store with remove_oldest=False, as FallbackStorage calls
// it). When some are left over, the cookie ends with the not-finished
// marker; when none fits, it holds only the marker.
func (m *Manager) fitCookie(msgs []Message) (string, []Message) {
	parts := make([]string, len(msgs))
	for i, msg := range msgs {
		parts[i] = m.encodeMessage(msg, ",")
	}
	if value := m.signParts(parts); len(value) <= MaxCookieSize {
		return value, nil
	}
	marker := string(jsonString(notFinished))
	withMarker := func(n int) string { return m.signParts(append(parts[:n:n], marker)) }
	// Django's bisect_keep_left: the first n whose n+1 messages and the
	// marker are too large.
	lo, hi := 0, len(parts)
	for lo < hi {
		mid := (lo + hi) / 2
		if len(withMarker(mid+1)) > MaxCookieSize {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return withMarker(lo), msgs[lo:]
}

// decodeCookie reads a messages cookie: the messages, and whether they
// are all (no not-finished marker). It reads Django's format since 3.2
// (sign_object: [.]base64 JSON, signed) and, as Django 3.2 still did,
// the format of Django 3.1 (the JSON itself, signed).
func (m *Manager) decodeCookie(value string) ([]Message, bool, error) {
	var list []any
	data, _, err := m.signer.UnsignBytes(value, maxPayload)
	if err == nil {
		err = decodeJSON(data, &list)
	}
	if errors.Is(err, signing.ErrMalformed) {
		// Django 3.1's format: the signature is good, the payload is the
		// JSON itself.
		text, _, uerr := m.signer.Unsign(value)
		if uerr != nil {
			return nil, false, fmt.Errorf("messages cookie: %w", uerr)
		}
		list = nil
		err = decodeJSON([]byte(text), &list)
	}
	if err != nil {
		return nil, false, fmt.Errorf("messages cookie: %w", err)
	}
	finished := true
	if n := len(list); n > 0 && list[n-1] == notFinished {
		list, finished = list[:n-1], false
	}
	msgs, err := decodeList(list)
	if err != nil {
		return nil, false, fmt.Errorf("messages cookie: %w", err)
	}
	return msgs, finished, nil
}

// maxPayload bounds the JSON of a messages cookie after decompression:
// far more than a cookie of MaxCookieSize holds, far less than memory.
const maxPayload = 1 << 20

// decodeJSON decodes one JSON value into v, numbers as json.Number.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", signing.ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", signing.ErrMalformed)
	}
	return nil
}

// decodeList reads Django's encoded messages,
// ["__json_message", safe, level, text(, extra_tags)] each (MessageDecoder).
func decodeList(list []any) ([]Message, error) {
	msgs := make([]Message, 0, len(list))
	for i, item := range list {
		fields, ok := item.([]any)
		if !ok || len(fields) < 4 || len(fields) > 5 || fields[0] != messageKey {
			return nil, fmt.Errorf("%w: item %d is no message", signing.ErrMalformed, i)
		}
		var msg Message
		switch safe := fields[1].(type) {
		case json.Number:
			msg.Safe = safe != "0"
		case bool:
			msg.Safe = safe
		default:
			return nil, fmt.Errorf("%w: message %d: safe flag %v", signing.ErrMalformed, i, fields[1])
		}
		level, ok := fields[2].(json.Number)
		n, err := strconv.Atoi(string(level))
		if !ok || err != nil {
			return nil, fmt.Errorf("%w: message %d: level %v", signing.ErrMalformed, i, fields[2])
		}
		msg.Level = Level(n)
		if msg.Text, ok = fields[3].(string); !ok {
			return nil, fmt.Errorf("%w: message %d: text %v", signing.ErrMalformed, i, fields[3])
		}
		msg.noTags = true
		if len(fields) == 5 && fields[4] != nil {
			if msg.ExtraTags, ok = fields[4].(string); !ok {
				return nil, fmt.Errorf("%w: message %d: extra tags %v", signing.ErrMalformed, i, fields[4])
			}
			msg.noTags = false
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// encodeSession writes msgs as Django's SessionStorage stores them under
// SessionKey: a JSON string, written with json.dumps's default
// separators (", ").
func (m *Manager) encodeSession(msgs []Message) string {
	parts := make([]string, len(msgs))
	for i, msg := range msgs {
		parts[i] = m.encodeMessage(msg, ", ")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// decodeSession reads the session's messages: Django's JSON string, or a
// list (what a decoded value of an older format would be).
func decodeSession(v any) ([]Message, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		var list []any
		if err := decodeJSON([]byte(x), &list); err != nil {
			return nil, err
		}
		return decodeList(list)
	case []any:
		return decodeList(x)
	}
	return nil, fmt.Errorf("%w: %s holds a %T", signing.ErrMalformed, SessionKey, v)
}

// cookie is the messages cookie holding value, with the session cookie's
// attributes, as Django's CookieStorage sets it.
func (m *Manager) cookie(value string) *http.Cookie {
	return &http.Cookie{
		Name:     m.cookieName,
		Value:    value,
		Path:     "/",
		Domain:   m.cfg.CookieDomain,
		Secure:   m.cfg.CookieSecure,
		HttpOnly: !m.cfg.DisableCookieHTTPOnly,
		SameSite: m.cfg.CookieSameSite,
	}
}

// deletion is the cookie that deletes the messages cookie, as Django's
// response.delete_cookie writes it.
func (m *Manager) deletion() *http.Cookie {
	return &http.Cookie{
		Name:     m.cookieName,
		Path:     "/",
		Domain:   m.cfg.CookieDomain,
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
		SameSite: m.cfg.CookieSameSite,
		Secure:   m.cfg.CookieSameSite == http.SameSiteNoneMode,
	}
}

// cookieValue returns the value of the cookie name as Django reads the
// Cookie header (django.http.parse_cookie): pairs split at ";", the last
// of a name winning, and a quoted value unquoted as Python's
// http.cookies does. A quoted value holds what Go's http.Request.Cookie
// refuses (a backslash, a double quote), as the cookies of Django 3.1
// did. An empty value is no cookie.
func cookieValue(r *http.Request, name string) (string, bool) {
	value, found := "", false
	for _, line := range r.Header.Values("Cookie") {
		for chunk := range strings.SplitSeq(line, ";") {
			k, v, ok := strings.Cut(chunk, "=")
			if !ok {
				continue
			}
			if strings.TrimSpace(k) == name {
				value, found = pythonUnquote(strings.TrimSpace(v)), true
			}
		}
	}
	return value, found && value != ""
}

// pythonUnquote is Python's http.cookies._unquote: a value in double
// quotes loses them, and its backslash escapes (\" \\ and octal \054)
// become the characters they stand for.
func pythonUnquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isOctal(s[i+1], '3') && isOctal(s[i+2], '7') && isOctal(s[i+3], '7') {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isOctal(c, highest byte) bool { return c >= '0' && c <= highest }
