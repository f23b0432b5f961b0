package signing_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// sessionSalt is the salt of Django's session engines (package session's
// SessionSalt), which the golden vectors are signed with: sessions are
// the use of signing.dumps that matters most here.
const sessionSalt = "django.contrib.sessions.SessionStore"

// Golden vectors made by Django's own SessionStore.encode; regenerate with
// /usr/bin/python3 testdata/django/vectors.py generate > testdata/django/vectors.json
const vectorsFile = "testdata/django/vectors.json"

// djangoVectors is the layout of vectorsFile.
type djangoVectors struct {
	DjangoVersion string   `json:"django_version"`
	Secret        string   `json:"secret"`
	Fallbacks     []string `json:"fallbacks"`
	Salt          string   `json:"salt"`
	Timestamp     int64    `json:"timestamp"`
	Vectors       []struct {
		Name       string            `json:"name"`
		Secret     string            `json:"secret"`     // the key Django signed with
		JSON       string            `json:"json"`       // json.dumps(value) as Python writes it
		Types      map[string]string `json:"types"`      // Python type name of each top-level value
		Encoded    string            `json:"encoded"`    // SessionStore().encode(value)
		Compressed bool              `json:"compressed"` // encoded starts with "."
	} `json:"vectors"`
}

func loadDjangoVectors(t *testing.T) djangoVectors {
	t.Helper()
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var v djangoVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", vectorsFile, err)
	}
	if len(v.Vectors) == 0 {
		t.Fatalf("%s holds no vectors", vectorsFile)
	}
	return v
}

// decodeJSONNumbers decodes a JSON object the way the session package
// represents data: numbers as json.Number.
func decodeJSONNumbers(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return m
}

// goTypeMatches reports whether v is how the session package represents a
// Python value of type pyType.
func goTypeMatches(pyType string, v any) bool {
	switch pyType {
	case "int":
		n, ok := v.(json.Number)
		return ok && !strings.ContainsAny(string(n), ".eE")
	case "float":
		n, ok := v.(json.Number)
		return ok && strings.ContainsAny(string(n), ".eE")
	case "str":
		_, ok := v.(string)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "NoneType":
		return v == nil
	case "list":
		_, ok := v.([]any)
		return ok
	case "dict":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// TestDjangoVectorsDecode decodes every string Django produced, checks the
// values and their Go types, and checks that the signature of each is the
// one Go computes, byte for byte.
func TestDjangoVectorsDecode(t *testing.T) {
	vs := loadDjangoVectors(t)
	if vs.Salt != sessionSalt {
		t.Fatalf("Django's salt = %q, sessionSalt = %q", vs.Salt, sessionSalt)
	}
	signer := signing.NewTimestampSigner(vs.Secret, vs.Fallbacks, sessionSalt)
	for _, v := range vs.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			got, err := signer.Loads(v.Encoded)
			if err != nil {
				t.Fatalf("Loads(%q): %v", v.Encoded, err)
			}
			want := decodeJSONNumbers(t, v.JSON)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Loads = %#v, want %#v", got, want)
			}
			for k, pyType := range v.Types {
				if !goTypeMatches(pyType, got[k]) {
					t.Errorf("%s: Python %s loaded as Go %T (%v)", k, pyType, got[k], got[k])
				}
			}
			if strings.HasPrefix(v.Encoded, ".") != v.Compressed {
				t.Errorf("compressed flag %v disagrees with %q", v.Compressed, v.Encoded)
			}
			// The signature is Django's HMAC byte for byte, compressed or not.
			i := strings.LastIndexByte(v.Encoded, ':')
			own := signing.NewSigner(v.Secret, nil, sessionSalt)
			if s := own.Sign(v.Encoded[:i]); s != v.Encoded {
				t.Errorf("Sign(payload) = %q, want %q", s, v.Encoded)
			}
		})
	}
}

// TestDjangoVectorsFallbackOnly checks that a value signed with a rotated
// key verifies only when that key is among the fallbacks.
func TestDjangoVectorsFallbackOnly(t *testing.T) {
	vs := loadDjangoVectors(t)
	found := false
	for _, v := range vs.Vectors {
		if v.Secret == vs.Secret {
			continue
		}
		found = true
		_, err := signing.NewTimestampSigner(vs.Secret, nil, sessionSalt).Loads(v.Encoded)
		if !errors.Is(err, signing.ErrBadSignature) {
			t.Errorf("%s without fallbacks: err = %v, want ErrBadSignature", v.Name, err)
		}
		if _, err := signing.NewTimestampSigner(vs.Secret, []string{"other", v.Secret}, sessionSalt).Loads(v.Encoded); err != nil {
			t.Errorf("%s with its key as second fallback: %v", v.Name, err)
		}
	}
	if !found {
		t.Fatal("no vector is signed with a fallback key")
	}
}

// TestDjangoVectorsTampered flips one character in each part of a Django
// vector; every variant must be refused.
func TestDjangoVectorsTampered(t *testing.T) {
	vs := loadDjangoVectors(t)
	signer := signing.NewTimestampSigner(vs.Secret, vs.Fallbacks, sessionSalt)
	for _, v := range vs.Vectors {
		parts := strings.Split(v.Encoded, ":")
		for p := range parts {
			b := []byte(parts[p])
			i := len(b) / 2
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			tampered := slices.Clone(parts)
			tampered[p] = string(b)
			s := strings.Join(tampered, ":")
			if _, err := signer.Loads(s); !errors.Is(err, signing.ErrBadSignature) {
				t.Errorf("%s, part %d changed: err = %v, want ErrBadSignature", v.Name, p, err)
			}
		}
	}
}

// TestDumpsReproducesDjango checks that Go writes the very JSON text
// Python writes (compact, ASCII-only, <>& left alone, Python's float
// spellings kept) and, for payloads too small to compress, the whole
// signed string byte for byte, the published known-answer vectors among
// them. Compressed payloads may differ in their zlib bytes and still mean
// the same, which TestDjangoAcceptsGoEncoding proves.
func TestDumpsReproducesDjango(t *testing.T) {
	vs := loadDjangoVectors(t)
	now := time.Unix(vs.Timestamp, 0)
	// Python keeps insertion order; Go sorts keys. Every other vector is
	// written in sorted order.
	unsorted := map[string]bool{"unsorted_keys": true}
	byteExact := 0
	for _, v := range vs.Vectors {
		signer := signing.NewTimestampSigner(v.Secret, nil, sessionSalt)
		value := decodeJSONNumbers(t, v.JSON)
		got, err := signer.Dumps(value, now)
		if err != nil {
			t.Fatalf("%s: Dumps: %v", v.Name, err)
		}
		back, err := signer.Loads(got)
		if err != nil || !reflect.DeepEqual(back, value) {
			t.Errorf("%s: Loads(Dumps) = %v, %v; want %v", v.Name, back, err, value)
		}
		if strings.HasPrefix(got, ".") != v.Compressed && len(v.JSON) > 200 {
			t.Errorf("%s: Go compressed=%v, Django compressed=%v", v.Name, !v.Compressed, v.Compressed)
		}
		if text := payloadJSON(t, got); text != v.JSON && !unsorted[v.Name] {
			t.Errorf("%s: Go wrote JSON\n%s\nPython wrote\n%s", v.Name, text, v.JSON)
			continue
		}
		if v.Compressed || unsorted[v.Name] {
			continue
		}
		byteExact++
		if got != v.Encoded {
			t.Errorf("%s: Dumps = %q, Django wrote %q", v.Name, got, v.Encoded)
		}
	}
	// At least django-sessions.md §1.7: {"foo": "bar"} and {} at 1700000000.
	if byteExact < 2 {
		t.Errorf("only %d vectors were comparable byte for byte", byteExact)
	}
}

// payloadJSON returns the JSON text inside a signed session string.
func payloadJSON(t *testing.T, signed string) string {
	t.Helper()
	b64, _, _ := strings.Cut(signed, ":")
	compressed := strings.HasPrefix(b64, ".")
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(b64, "."))
	if err != nil {
		t.Fatalf("payload of %q: %v", signed, err)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("payload of %q: %v", signed, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("payload of %q: %v", signed, err)
		}
	}
	return string(data)
}

// djangoCheckCase is one input of vectors.py check.
type djangoCheckCase struct {
	Name         string `json:"name"`
	Secret       string `json:"secret"`
	Encoded      string `json:"encoded"`
	ExpectedJSON string `json:"expected_json"`
}

// runDjangoCheck has each Django of the matrix (djangotest) decode each
// case, in a subtest per release, and reports the failures.
func runDjangoCheck(t *testing.T, cases []djangoCheckCase) {
	t.Helper()
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) { djangoCheck(t, d, cases) })
}

func djangoCheck(t *testing.T, d djangotest.Django, cases []djangoCheckCase) {
	var results []struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
		Got  string `json:"got"`
	}
	d.RunJSON(t, cases, &results, "testdata/django/vectors.py", "check")
	if len(results) != len(cases) {
		t.Fatalf("Django answered %d cases of %d", len(results), len(cases))
	}
	for i, r := range results {
		if !r.OK {
			t.Errorf("%s: Django decoded %s, want the Python value of %s (from %q)", r.Name, r.Got, cases[i].ExpectedJSON, cases[i].Encoded)
		}
	}
}

// TestDjangoVectorsOnEveryRelease: each Django of the matrix encodes the
// golden values to exactly the committed vectors (made by Django 3.2), so
// the vectors the Go tests decode are those of 4.2 and 5.2 as well.
func TestDjangoVectorsOnEveryRelease(t *testing.T) {
	want := loadDjangoVectors(t)
	want.DjangoVersion = ""
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
		var got djangoVectors
		d.RunJSON(t, nil, &got, "testdata/django/vectors.py", "generate")
		if got.DjangoVersion != d.Version {
			t.Errorf("vectors made by Django %s, want %s", got.DjangoVersion, d.Version)
		}
		got.DjangoVersion = ""
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got.Vectors), len(want.Vectors)) {
				if !reflect.DeepEqual(got.Vectors[i], want.Vectors[i]) {
					t.Errorf("vector %s: Django %s made %+v, committed %+v", want.Vectors[i].Name, d.Version, got.Vectors[i], want.Vectors[i])
				}
			}
			t.Errorf("Django %s's vectors differ from %s (%d vectors, committed %d)", d.Version, vectorsFile, len(got.Vectors), len(want.Vectors))
		}
	})
}

// TestDjangoAcceptsGoEncoding has Django's SessionStore.decode read Go's
// encoding of every golden value and checks it gets the same Python values,
// types included.
func TestDjangoAcceptsGoEncoding(t *testing.T) {
	vs := loadDjangoVectors(t)
	signer := signing.NewTimestampSigner(vs.Secret, nil, sessionSalt)
	var cases []djangoCheckCase
	for _, v := range vs.Vectors {
		enc, err := signer.Dumps(decodeJSONNumbers(t, v.JSON), time.Now())
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		cases = append(cases, djangoCheckCase{Name: v.Name, Secret: vs.Secret, Encoded: enc, ExpectedJSON: v.JSON})
	}
	runDjangoCheck(t, cases)
}

// captureStore keeps the records a session writes, so the test can hand
// the exact stored data to Django.
