// Package signing is Django's django.core.signing in Go: values signed
// here are verified by Django and the other way round, given the same
// secret key and salt.
//
// A [Signer] appends an HMAC-SHA256 signature to a string; a
// [TimestampSigner] also appends the time of signing, so that the value
// can be refused once it is too old. Both accept signatures made with
// older keys (Django's SECRET_KEY_FALLBACKS, for key rotation) and sign
// with the first. On top of strings they sign JSON values: Dumps and Loads
// are Django's signing.dumps and signing.loads (a TimestampSigner's
// sign_object), SignObject and UnsignObject a Signer's.
//
// # Django to Go
//
//	Signer(key, salt=s, fallback_keys=f)           NewSigner(key, f, s)
//	TimestampSigner(key, salt=s, fallback_keys=f)  NewTimestampSigner(key, f, s)
//	signer.sign(v) / signer.unsign(v)              s.Sign(v) / s.Unsign(v)
//	signer.sign_object(o, compress=True)           s.SignObject(o)
//	signer.unsign_object(v)                        s.UnsignObject(v, &o)
//	ts.sign(v) / ts.unsign(v, max_age)             t.Sign(v, now) / t.Unsign(v), then CheckAge
//	signing.dumps(o, salt=s, compress=True)        NewTimestampSigner(key, nil, s).Dumps(o, now)
//	signing.loads(v, salt=s)                       t.Loads(v)
//	signing.loads(v, salt=s, max_age=a)            t.LoadsMaxAge(v, a, now)
//	sign_object(o, serializer=S)                   t.SignBytes(S(o), now) / t.UnsignBytes(v, limit)
//	BadSignature / SignatureExpired                ErrBadSignature / ErrSignatureExpired
//
// # Format
//
//	Signer:          value:base64url(HMAC-SHA256(SHA256(salt+"signer"+key), value))
//	TimestampSigner: value:base62(unix time):signature of "value:time"
//	objects:         [.]base64url(json) as the value, "." marking zlib
//
// Objects are JSON as Python's json.dumps writes it with Django's
// JSONSerializer: compact and ASCII only. They are compressed when that
// saves more than one byte, as sign_object(compress=True) does; Django
// reads both forms. Only SHA-256 and the ":" separator, Django's defaults
// since 3.1, are supported.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// DefaultSalt is the salt of Django's signing.dumps and signing.loads when
// the caller gives none.
const DefaultSalt = "django.core.signing"

// ErrBadSignature is Django's BadSignature: no key verifies the signature
// (tampering, another secret key or salt, or garbage).
var ErrBadSignature = errors.New("signing: bad signature")

// ErrSignatureExpired is Django's SignatureExpired: a good signature made
// longer ago than the maximum age. Like Django's exception it is also a
// bad signature: errors.Is(err, ErrBadSignature) holds.
var ErrSignatureExpired = fmt.Errorf("%w: signature expired", ErrBadSignature)

// ErrMalformed is returned for a correctly signed value that does not
// decode (bad base64, zlib, timestamp or JSON, or a payload over the
// limit), where Django raises ValueError or a decoder's error.
var ErrMalformed = errors.New("signing: malformed signed value")

// DefaultMaxPayload bounds a decoded payload (after decompression) where
// the caller gives no bound: a larger one is refused rather than allowed
// to exhaust memory.
const DefaultMaxPayload = 8 << 20

// keyring holds the derived HMAC keys of one salt, the signing key first,
// and what signing with them reuses. It is safe for concurrent use.
type keyring struct {
	// macs holds, for each key, keyed HMAC states to reuse: a fresh
	// hmac.New hashes the key's inner and outer pads again each time, two
	// of the five SHA-256 blocks a typical session's signature costs.
	macs []*sync.Pool
	// zpool holds zlib writers at BestSpeed (see compress).
	zpool sync.Pool
}

func newKeyring(key string, fallbackKeys []string, salt string) *keyring {
	r := &keyring{}
	for _, k := range append([]string{key}, fallbackKeys...) {
		sum := sha256.Sum256([]byte(salt + "signer" + k))
		derived := sum[:]
		r.macs = append(r.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, derived) }})
	}
	return r
}

// signature is the base64 signature of value made with key i.
func (r *keyring) signature(i int, value string) string {
	h := r.macs[i].Get().(hash.Hash)
	h.Reset()
	io.WriteString(h, value)
	var sum [sha256.Size]byte
	mac := h.Sum(sum[:0])
	r.macs[i].Put(h)
	return base64.RawURLEncoding.EncodeToString(mac)
}

func (r *keyring) sign(value string) string {
	return value + ":" + r.signature(0, value)
}

// unsign verifies the signature after the last ":" with every key, in
// constant time, and returns the value before it.
func (r *keyring) unsign(signed string) (string, error) {
	i := strings.LastIndexByte(signed, ':')
	if i < 0 {
		return "", fmt.Errorf("%w: no separator", ErrBadSignature)
	}
	value, sig := signed[:i], signed[i+1:]
	for k := range r.macs {
		if hmac.Equal([]byte(sig), []byte(r.signature(k, value))) {
			return value, nil
		}
	}
	return "", ErrBadSignature
}

// Signer is Django's signing.Signer with HMAC-SHA256: it signs strings
// and JSON values, without a time. It is safe for concurrent use.
type Signer struct{ r *keyring }

// NewSigner returns a Signer that signs with key and also accepts
// signatures made with any of fallbackKeys. The key must be secret (a
// site's SECRET_KEY, or a key derived from it). An empty salt is Django's
// default for the class, "django.core.signing.Signer".
func NewSigner(key string, fallbackKeys []string, salt string) *Signer {
	if salt == "" {
		salt = "django.core.signing.Signer"
	}
	return &Signer{r: newKeyring(key, fallbackKeys, salt)}
}

// Sign returns value, ":" and its signature.
func (s *Signer) Sign(value string) string { return s.r.sign(value) }

// Unsign verifies the signature at the end of signed and returns the value
// before it; the error wraps ErrBadSignature.
func (s *Signer) Unsign(signed string) (string, error) { return s.r.unsign(signed) }

// SignObject signs v as JSON (see [MarshalJSON]), compressed when that
// saves more than a byte: Django's sign_object(v, compress=True).
func (s *Signer) SignObject(v any) (string, error) {
	data, err := MarshalJSON(v)
	if err != nil {
		return "", err
	}
	return s.r.sign(s.r.encodePayload(data)), nil
}

// UnsignObject verifies signed and decodes its JSON into v, as
// json.Unmarshal does but with numbers in an interface value kept as
// json.Number: Django's unsign_object. Errors wrap ErrBadSignature or
// ErrMalformed.
func (s *Signer) UnsignObject(signed string, v any) error {
	value, err := s.r.unsign(signed)
	if err != nil {
		return err
	}
	data, err := s.r.decodePayload(value, DefaultMaxPayload)
	if err != nil {
		return err
	}
	if err := unmarshalJSON(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}
