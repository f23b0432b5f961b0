package signing_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// TestSignerAgainstDjango has Django's own Signer, TimestampSigner, dumps
// and sign_object run beside Go's, on each Django of the matrix: what is
// not compressed must be the same string byte for byte, and each side
// must read the other's.
func TestSignerAgainstDjango(t *testing.T) { djangotest.Each(t, testSignerAgainstDjango) }

func testSignerAgainstDjango(t *testing.T, d djangotest.Django) {
	const key, salt = "signing-test-key", "django.contrib.messages"
	now := time.Unix(1700000000, 0)
	messages := []any{[]any{"__json_message", 0, 20, "Saved."}, []any{"__json_message", 0, 40, "café failed"}}
	long := map[string]any{"text": strings.Repeat("x", 200)}
	s := signing.NewSigner(key, nil, salt)
	ts := signing.NewTimestampSigner(key, nil, salt)
	goValues := map[string]string{
		"sign":                   s.Sign("hello"),
		"sign_default_salt":      signing.NewSigner(key, nil, "").Sign("hello"),
		"timestamp_sign":         ts.Sign("hello", now),
		"timestamp_default_salt": signing.NewTimestampSigner(key, nil, "").Sign("hello", now),
		"sign_object":            must(s.SignObject(messages)),
		"sign_object_long":       must(s.SignObject(long)),
		"dumps":                  must(signing.NewTimestampSigner(key, nil, signing.DefaultSalt).Dumps(map[string]any{"a": 1}, now)),
		"dumps_long":             must(ts.Dumps(long, now)),
	}
	in := map[string]any{"key": key, "salt": salt, "now": now.Unix(), "go": goValues}
	var got struct {
		Django map[string]string `json:"django"`
		Go     map[string]any    `json:"go"`
	}
	d.RunJSON(t, in, &got, "testdata/django/signer.py")

	// Byte for byte where nothing can be compressed (zlib streams may
	// differ, and zlib's level 6 shortens what BestSpeed does not, so
	// Django may compress where Go does not: both read both).
	for _, name := range []string{"sign", "sign_default_salt", "timestamp_sign", "timestamp_default_salt", "dumps"} {
		if got.Django[name] != goValues[name] {
			t.Errorf("%s: Go %q, Django %q", name, goValues[name], got.Django[name])
		}
	}
	// Django reads every Go value.
	wantRead := map[string]any{
		"sign": "hello", "sign_default_salt": "hello", "timestamp_sign": "hello", "timestamp_default_salt": "hello",
		"sign_object":      []any{[]any{"__json_message", 0.0, 20.0, "Saved."}, []any{"__json_message", 0.0, 40.0, "café failed"}},
		"sign_object_long": map[string]any{"text": strings.Repeat("x", 200)}, "dumps": map[string]any{"a": 1.0},
		"dumps_long": map[string]any{"text": strings.Repeat("x", 200)},
	}
	for name, want := range wantRead {
		if !reflect.DeepEqual(got.Go[name], want) {
			t.Errorf("Django read Go's %s as %#v, want %#v", name, got.Go[name], want)
		}
	}
	// Go reads every Django value.
	if v, err := s.Unsign(got.Django["sign"]); err != nil || v != "hello" {
		t.Errorf("Unsign(Django's sign) = %q, %v", v, err)
	}
	if v, at, err := ts.Unsign(got.Django["timestamp_sign"]); err != nil || v != "hello" || !at.Equal(now) {
		t.Errorf("TimestampSigner.Unsign(Django's) = %q, %v, %v", v, at, err)
	}
	for _, name := range []string{"sign_object", "sign_object_long"} {
		var v any
		if err := s.UnsignObject(got.Django[name], &v); err != nil {
			t.Errorf("UnsignObject(Django's %s): %v", name, err)
		}
	}
	if !strings.HasPrefix(got.Django["sign_object_long"], ".") || !strings.HasPrefix(goValues["sign_object_long"], ".") {
		t.Errorf("a long repetitive object is compressed by both: Django %q, Go %q", got.Django["sign_object_long"], goValues["sign_object_long"])
	}
	if m, err := ts.Loads(got.Django["dumps_long"]); err != nil || m["text"] != strings.Repeat("x", 200) {
		t.Errorf("Loads(Django's dumps_long) = %v, %v", m, err)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// TestSignatureErrors: each way a value is refused is told by its error,
// and an expired signature is a bad signature too, as Django's
// SignatureExpired is a BadSignature.
func TestSignatureErrors(t *testing.T) {
	now := time.Unix(1700000000, 0)
	ts := signing.NewTimestampSigner("k", []string{"old"}, "salt")
	signed, err := ts.Dumps(map[string]any{"n": 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.LoadsMaxAge(signed, time.Minute, now.Add(time.Minute)); err != nil {
		t.Errorf("exactly max age old: %v", err)
	}
	_, _, err = ts.LoadsMaxAge(signed, time.Minute, now.Add(time.Minute+time.Second))
	if !errors.Is(err, signing.ErrSignatureExpired) || !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("expired: %v, want ErrSignatureExpired, a ErrBadSignature", err)
	}
	if m, err := ts.Loads(signed); err != nil || m["n"] != json.Number("1") {
		t.Errorf("Loads = %v, %v; want n as json.Number 1", m, err)
	}
	for name, other := range map[string]*signing.TimestampSigner{
		"another key":  signing.NewTimestampSigner("k2", nil, "salt"),
		"another salt": signing.NewTimestampSigner("k", nil, "salt2"),
	} {
		if _, err := other.Loads(signed); !errors.Is(err, signing.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if _, err := signing.NewTimestampSigner("new", []string{"k"}, "salt").Loads(signed); err != nil {
		t.Errorf("old key among the fallbacks: %v", err)
	}
	if _, err := ts.Loads(strings.Replace(signed, ":", ";", 1)); !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("tampered: %v", err)
	}
	// Signed correctly, but not what was asked for.
	s := signing.NewSigner("k", nil, "salt")
	var v map[string]any
	if err := s.UnsignObject(s.Sign("not base64!"), &v); !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("UnsignObject of a signed non-payload: %v, want ErrMalformed", err)
	}
	if _, err := ts.Loads(ts.Sign("eyJhIjoxfQ", now) + "x"); !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("signature with a byte more: %v", err)
	}
	if _, _, err := ts.UnsignBytes(ts.SignBytes(bytes.Repeat([]byte("a"), 100), now), 99); !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("payload over the limit: %v, want ErrMalformed", err)
	}
	if _, err := ts.Loads(ts.Sign("W10", now)); !errors.Is(err, signing.ErrMalformed) { // [] is no object
		t.Errorf("a list where an object is wanted: %v, want ErrMalformed", err)
	}
}

// TestMarshalJSONIsPythons: compact, <>& kept, everything outside
// printable ASCII escaped, as json.dumps(v, separators=(",", ":")).
func TestMarshalJSONIsPythons(t *testing.T) {
	got, err := signing.MarshalJSON(map[string]any{"b": "<a&b>", "a": "café\x7f😀", "c": []any{1, true, nil}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"a":"caf\u00e9\u007f\ud83d\ude00","b":"<a&b>","c":[1,true,null]}`
	if string(got) != want {
		t.Errorf("MarshalJSON = %s, want %s", got, want)
	}
	if _, err := signing.MarshalJSON(func() {}); err == nil {
		t.Error("MarshalJSON of a func: no error")
	}
}
