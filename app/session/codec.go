package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
)

// SessionSalt is the salt Django's built-in session engines sign with
// ("django.contrib.sessions." + "SessionStore"): the data of a stored
// session is signing.NewTimestampSigner(SECRET_KEY, fallbacks,
// SessionSalt).Dumps of its dictionary.
const SessionSalt = "django.contrib.sessions.SessionStore"

// CookieSalt is the salt of Django's signed_cookies engine, which signs
// the cookie itself.
const CookieSalt = "django.contrib.sessions.backends.signed_cookies"

// codec is Django's session encoding, SessionStore.encode and decode, on
// package signing: a signing.TimestampSigner's dumps and loads of the
// session dictionary, with this package's fast JSON encoder for the
// common session and a bound on what a load decodes.
type codec struct {
	signer  *signing.TimestampSigner
	maxSize int // bounds a decoded payload, in bytes
}

func newCodec(cfg Config, salt string) *codec {
	return &codec{signer: signing.NewTimestampSigner(cfg.SecretKey, cfg.SecretKeyFallbacks, salt), maxSize: cfg.readLimit()}
}

// dumps signs data with the time now and returns the size of its JSON,
// before compression (what Config.MaxSize bounds).
func (c *codec) dumps(data map[string]any, now time.Time) (string, int, error) {
	// appendJSON writes printable ASCII only, as Django's JSONSerializer
	// does, or declines and leaves the value to signing.MarshalJSON.
	raw, ok := appendJSON(make([]byte, 0, 256), data)
	if !ok {
		var err error
		if raw, err = signing.MarshalJSON(data); err != nil {
			return "", 0, fmt.Errorf("session: %w", err)
		}
	}
	return c.signer.SignBytes(raw, now), len(raw), nil
}

// loads verifies and decodes signed and returns when it was signed. The
// signing time is not judged here (stored sessions take their age from
// the store, as in Django). Errors wrap signing.ErrBadSignature or
// signing.ErrMalformed.
func (c *codec) loads(signed string) (map[string]any, time.Time, error) {
	raw, ts, err := c.signer.UnsignBytes(signed, c.maxSize)
	if err != nil {
		return nil, time.Time{}, err
	}
	m, err := decodeJSONObject(raw)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", signing.ErrMalformed, err)
	}
	return m, ts, nil
}

// decodeJSONObject decodes a JSON object, keeping numbers as json.Number.
func decodeJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after JSON object")
	}
	if m == nil {
		return nil, errors.New("JSON value is not an object")
	}
	return m, nil
}

// validSignedValue reports whether v has the shape of a signed value in a
// cookie ([.]base64:base62:base64, cookie-safe characters only), so that
// nothing else reaches the signature check or a log line.
func validSignedValue(v string) bool {
	if len(v) < 3 || len(v) > maxCookieSize {
		return false
	}
	colons := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ':':
			colons++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return colons >= 2
}
