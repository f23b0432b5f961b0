package session

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	kzlib "github.com/klauspost/compress/zlib"
)

// SessionSalt is the salt Django's built-in session engines sign with
// ("django.contrib.sessions." + "SessionStore").
const SessionSalt = "django.contrib.sessions.SessionStore"

// CookieSalt is the salt of Django's signed_cookies engine, which signs
// the cookie itself.
const CookieSalt = "django.contrib.sessions.backends.signed_cookies"

// ErrBadSignature is returned by [Signer.Unsign] when no key verifies the
// signature (tampering, another SECRET_KEY, or garbage).
var ErrBadSignature = errors.New("session: bad signature")

// ErrMalformed is returned by [Signer.Loads] when a correctly signed value
// cannot be decoded (bad base64, zlib or JSON).
var ErrMalformed = errors.New("session: malformed signed value")

// ErrExpired is returned by [Signer.LoadsMaxAge] for a value signed
// longer ago than the maximum age.
var ErrExpired = errors.New("session: signature expired")

// defaultMaxPayload bounds the decoded payload of a Signer made by
// NewSigner: a session larger than this is refused rather than allowed to
// exhaust memory. A Manager sets its own bound from Config.MaxSize.
const defaultMaxPayload = 8 << 20

// Signer signs and verifies values in the format of Django's
// django.core.signing.TimestampSigner with HMAC-SHA256, so that values it
// writes are read by Django's signing.loads and back:
//
//	[.]base64url(json):base62(unix time):base64url(HMAC-SHA256(SHA256(salt+"signer"+secret), value))
//
// A leading "." marks a zlib-compressed payload. A Signer is safe for
// concurrent use.
type Signer struct {
	keys [][]byte // derived HMAC keys: the SECRET_KEY first, then fallbacks
	// macs holds, for each key, keyed HMAC states to reuse: a fresh
	// hmac.New hashes the key's inner and outer pads again each time, two
	// of the five SHA-256 blocks a typical session's signature costs.
	macs []*sync.Pool
	// zpool holds zlib writers at BestSpeed (see compress).
	zpool sync.Pool
	// maxPayload bounds a decoded payload, in bytes.
	maxPayload int
}

// NewSigner returns a Signer for salt that signs with secret and also
// accepts signatures made with any of fallbacks (Django's
// SECRET_KEY_FALLBACKS, for key rotation).
func NewSigner(secret string, fallbacks []string, salt string) *Signer {
	s := &Signer{maxPayload: defaultMaxPayload}
	for _, k := range append([]string{secret}, fallbacks...) {
		sum := sha256.Sum256([]byte(salt + "signer" + k))
		key := sum[:]
		s.keys = append(s.keys, key)
		s.macs = append(s.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	}
	return s
}

// mac appends the HMAC-SHA256 of value made with key i to dst.
func (s *Signer) mac(dst []byte, i int, value string) []byte {
	h := s.macs[i].Get().(hash.Hash)
	h.Reset()
	io.WriteString(h, value)
	dst = h.Sum(dst)
	s.macs[i].Put(h)
	return dst
}

// signature is the base64 signature of value made with key i.
func (s *Signer) signature(i int, value string) string {
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(s.mac(sum[:0], i, value))
}

// Sign appends ":" and the signature of value made with the current key.
func (s *Signer) Sign(value string) string {
	return value + ":" + s.signature(0, value)
}

// Unsign verifies the signature at the end of signed with the current key or
// any fallback, in constant time, and returns the value before it.
func (s *Signer) Unsign(signed string) (string, error) {
	i := strings.LastIndexByte(signed, ':')
	if i < 0 {
		return "", fmt.Errorf("%w: no separator", ErrBadSignature)
	}
	value, sig := signed[:i], signed[i+1:]
	for k := range s.keys {
		if hmac.Equal([]byte(sig), []byte(s.signature(k, value))) {
			return value, nil
		}
	}
	return "", ErrBadSignature
}

// Dumps serializes v as compact, ASCII-only JSON, compresses it when that
// saves more than one byte, and signs it with the timestamp now, exactly as
// Django's signing.dumps(v, compress=True) does.
func (s *Signer) Dumps(v any, now time.Time) (string, error) {
	signed, _, err := s.dumps(v, now)
	return signed, err
}

// dumps is Dumps that also returns the size of the JSON, before
// compression.
func (s *Signer) dumps(v any, now time.Time) (string, int, error) {
	if data, ok := appendJSON(make([]byte, 0, 256), v); ok {
		data = asciiJSON(data)
		return s.sign(data, now), len(data), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python's json.dumps leaves <, > and & alone
	if err := enc.Encode(v); err != nil {
		return "", 0, fmt.Errorf("session: encode json: %w", err)
	}
	data := asciiJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return s.sign(data, now), len(data), nil
}

// asciiJSON escapes every byte of data outside printable ASCII (non-ASCII
// runes as \uXXXX, surrogate pairs above U+FFFF, and DEL), as Python's
// json.dumps does by default (ensure_ascii). It matters for more than
// looks: Django decodes the JSON bytes as latin-1, so raw UTF-8 would load
// in Django as mojibake ("café" as "cafÃ©"). Such bytes occur only inside
// JSON strings, where the escape means the same character.
func asciiJSON(data []byte) []byte {
	i := bytes.IndexFunc(data, func(r rune) bool { return r >= 0x7f })
	if i < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+len(data)/2)
	out = append(out, data[:i]...)
	for _, r := range string(data[i:]) {
		switch {
		case r < 0x7f:
			out = append(out, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, "\\u%04x\\u%04x", r1, r2)
		default:
			out = fmt.Appendf(out, "\\u%04x", r)
		}
	}
	return out
}

func (s *Signer) sign(data []byte, now time.Time) string {
	prefix := ""
	var zbuf bytes.Buffer
	if s.compress(&zbuf, data) && zbuf.Len() < len(data)-1 {
		data = zbuf.Bytes()
		prefix = "."
	}
	var b strings.Builder
	b.Grow(len(prefix) + base64.RawURLEncoding.EncodedLen(len(data)) + 52)
	b.WriteString(prefix)
	b.WriteString(base64.RawURLEncoding.EncodeToString(data))
	b.WriteByte(':')
	b.WriteString(base62(now.Unix()))
	return s.Sign(b.String())
}

// minCompressible is the shortest payload that compression can shorten
// enough for Django's rule (at least 2 bytes shorter): a zlib stream is 6
// bytes of header and checksum around a deflate stream, and a deflate
// stream holds at least a block header (3 bits), the first byte as a
// literal (8 bits at least) and the end-of-block code (7 bits), 3 bytes
// in all. 9 bytes can only beat a payload of 11 or more.
const minCompressible = 11

// compress writes data to zbuf as a zlib stream and reports whether it
// tried. Like Django's zlib.compress it may or may not come out shorter;
// the caller keeps it only when it does, as Django does. Django reads any
// zlib stream, so the compressor is this side's choice: klauspost's at
// BestSpeed, whose writer resets in nanoseconds (the standard library's
// default level clears some 600 KB of hash chains for every session
// saved) and which settles a payload of a few dozen bytes, as most
// sessions are, for half the work of compress/flate's BestSpeed (a
// cheap entropy estimate instead of building Huffman codes that a stored
// block then beats). Measured in BenchmarkCodec and the load benchmark.
func (s *Signer) compress(zbuf *bytes.Buffer, data []byte) bool {
	if len(data) < minCompressible {
		return false
	}
	zw, _ := s.zpool.Get().(*kzlib.Writer)
	if zw == nil {
		zw, _ = kzlib.NewWriterLevel(zbuf, kzlib.BestSpeed) // a valid level: no error
	} else {
		zw.Reset(zbuf)
	}
	zw.Write(data)
	zw.Close()
	s.zpool.Put(zw)
	return true
}

// Loads verifies signed and decodes its JSON payload into a map. Numbers
// stay json.Number so that integers keep their exact value. The signing
// timestamp is not checked (sessions take their age from the store, as in
// Django). Errors wrap ErrBadSignature or ErrMalformed.
func (s *Signer) Loads(signed string) (map[string]any, error) {
	data, _, err := s.loads(signed)
	return data, err
}

// LoadsMaxAge is Loads for a value that must have been signed less than
// maxAge before now, like Django's signing.loads(max_age=...): an older
// one gives an error wrapping ErrExpired. It also returns when the value
// was signed.
func (s *Signer) LoadsMaxAge(signed string, maxAge time.Duration, now time.Time) (map[string]any, time.Time, error) {
	data, ts, err := s.loads(signed)
	if err != nil {
		return nil, time.Time{}, err
	}
	if age := now.Sub(ts); age > maxAge {
		return nil, ts, fmt.Errorf("%w: signed %v ago, over %v", ErrExpired, age.Round(time.Second), maxAge)
	}
	return data, ts, nil
}

// loads verifies and decodes signed, returning its timestamp too.
func (s *Signer) loads(signed string) (map[string]any, time.Time, error) {
	value, err := s.Unsign(signed)
	if err != nil {
		return nil, time.Time{}, err
	}
	i := strings.LastIndexByte(value, ':')
	if i < 0 {
		return nil, time.Time{}, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	ts, ok := unbase62(value[i+1:])
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: bad timestamp", ErrMalformed)
	}
	m, err := s.decodePayload(value[:i])
	return m, time.Unix(ts, 0), err
}

// decodePayload decodes the [.]base64 part of a signed value.
func (s *Signer) decodePayload(payload string) (map[string]any, error) {
	compressed := strings.HasPrefix(payload, ".")
	if compressed {
		payload = payload[1:]
	}
	// Django re-pads and decodes with urlsafe_b64decode, which tolerates
	// padding; accept it too.
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrMalformed, err)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, int64(s.maxPayload)+1))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
		}
	}
	if len(data) > s.maxPayload {
		return nil, fmt.Errorf("%w: payload over %d bytes", ErrMalformed, s.maxPayload)
	}
	m, err := decodeJSONObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}

// decodeJSONObject decodes a JSON object, keeping numbers as json.Number.
// Python writes data as latin-1 bytes of ASCII JSON (non-ASCII escaped), so
// UTF-8 decoding is equivalent.
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

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

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
