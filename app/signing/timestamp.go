package signing

import (
	"fmt"
	"strings"
	"time"
)

// TimestampSigner is Django's signing.TimestampSigner with HMAC-SHA256:
// it signs a value with the time of signing, so that it can be refused
// once too old. Django's signing.dumps and loads, which sessions use, are
// its Dumps and Loads. It is safe for concurrent use.
type TimestampSigner struct{ r *keyring }

// NewTimestampSigner returns a TimestampSigner that signs with key and
// also accepts signatures made with any of fallbackKeys. The key must be
// secret. An empty salt is Django's default for the class,
// "django.core.signing.TimestampSigner"; signing.dumps and loads without
// a salt use [DefaultSalt].
func NewTimestampSigner(key string, fallbackKeys []string, salt string) *TimestampSigner {
	if salt == "" {
		salt = "django.core.signing.TimestampSigner"
	}
	return &TimestampSigner{r: newKeyring(key, fallbackKeys, salt)}
}

// Sign returns value, ":", now in base62 seconds, ":" and the signature
// of both.
func (s *TimestampSigner) Sign(value string, now time.Time) string {
	return s.r.sign(value + ":" + base62(now.Unix()))
}

// Unsign verifies signed and returns the value and when it was signed.
// It does not judge the age: compare signedAt with a maximum age, or use
// LoadsMaxAge. Errors wrap ErrBadSignature or ErrMalformed.
func (s *TimestampSigner) Unsign(signed string) (value string, signedAt time.Time, err error) {
	value, err = s.r.unsign(signed)
	if err != nil {
		return "", time.Time{}, err
	}
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return "", time.Time{}, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	ts, ok := unbase62(value[i+1:])
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: bad timestamp", ErrMalformed)
	}
	return value[:i], time.Unix(ts, 0), nil
}

// Dumps signs v as JSON (see [MarshalJSON]) with the time now, compressed
// when that saves more than a byte: Django's signing.dumps(v,
// compress=True) with this signer's key and salt.
func (s *TimestampSigner) Dumps(v any, now time.Time) (string, error) {
	data, err := MarshalJSON(v)
	if err != nil {
		return "", err
	}
	return s.SignBytes(data, now), nil
}

// Loads verifies signed and decodes its JSON object, numbers kept as
// json.Number so that integers keep their exact value: Django's
// signing.loads without max_age. Errors wrap ErrBadSignature or
// ErrMalformed.
func (s *TimestampSigner) Loads(signed string) (map[string]any, error) {
	data, _, err := s.UnsignBytes(signed, DefaultMaxPayload)
	if err != nil {
		return nil, err
	}
	return decodeObject(data)
}

// LoadsMaxAge is Loads for a value that must have been signed at most
// maxAge before now, Django's signing.loads(max_age=...): an older one
// gives an error wrapping ErrSignatureExpired. It also returns when the
// value was signed.
func (s *TimestampSigner) LoadsMaxAge(signed string, maxAge time.Duration, now time.Time) (map[string]any, time.Time, error) {
	data, ts, err := s.UnsignBytes(signed, DefaultMaxPayload)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := CheckAge(ts, maxAge, now); err != nil {
		return nil, ts, err
	}
	m, err := decodeObject(data)
	return m, ts, err
}

// CheckAge returns an error wrapping ErrSignatureExpired when signedAt is
// more than maxAge before now, as Django's TimestampSigner.unsign(max_age)
// decides.
func CheckAge(signedAt time.Time, maxAge time.Duration, now time.Time) error {
	if age := now.Sub(signedAt); age > maxAge {
		return fmt.Errorf("%w: signed %v ago, over %v", ErrSignatureExpired, age.Round(time.Second), maxAge)
	}
	return nil
}

// SignBytes signs data, an object already serialized (JSON, say), with the
// time now, compressed when that saves more than a byte: Django's
// sign_object(obj, serializer=..., compress=True) where the serializer is
// the caller's.
func (s *TimestampSigner) SignBytes(data []byte, now time.Time) string {
	return s.Sign(s.r.encodePayload(data), now)
}

// UnsignBytes verifies signed and returns the serialized object inside,
// decompressed, and when it was signed: the other half of SignBytes. A
// payload over maxSize bytes after decompression is refused. Errors wrap
// ErrBadSignature or ErrMalformed.
func (s *TimestampSigner) UnsignBytes(signed string, maxSize int) ([]byte, time.Time, error) {
	value, ts, err := s.Unsign(signed)
	if err != nil {
		return nil, time.Time{}, err
	}
	data, err := s.r.decodePayload(value, maxSize)
	return data, ts, err
}

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 encodes n as Django's signing.b62_encode does.
func base62(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [16]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = base62Alphabet[n%62]
		n /= 62
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// unbase62 decodes Django's signing.b62_decode, refusing what would
// overflow.
func unbase62(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 10 { // 62^10 > 2^59: enough for any date
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base62Alphabet, s[i])
		if d < 0 {
			return 0, false
		}
		n = n*62 + int64(d)
	}
	if neg {
		n = -n
	}
	return n, true
}
