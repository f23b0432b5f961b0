package session_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

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
	if vs.Salt != session.SessionSalt {
		t.Fatalf("Django's salt = %q, session.SessionSalt = %q", vs.Salt, session.SessionSalt)
	}
	signer := session.NewSigner(vs.Secret, vs.Fallbacks, session.SessionSalt)
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
			own := session.NewSigner(v.Secret, nil, session.SessionSalt)
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
		_, err := session.NewSigner(vs.Secret, nil, session.SessionSalt).Loads(v.Encoded)
		if !errors.Is(err, session.ErrBadSignature) {
			t.Errorf("%s without fallbacks: err = %v, want ErrBadSignature", v.Name, err)
		}
		if _, err := session.NewSigner(vs.Secret, []string{"other", v.Secret}, session.SessionSalt).Loads(v.Encoded); err != nil {
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
	signer := session.NewSigner(vs.Secret, vs.Fallbacks, session.SessionSalt)
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
			if _, err := signer.Loads(s); !errors.Is(err, session.ErrBadSignature) {
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
		signer := session.NewSigner(v.Secret, nil, session.SessionSalt)
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
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) { djangoCheck(t, d, in, cases) })
}

func djangoCheck(t *testing.T, d djangotest.Django, in []byte, cases []djangoCheckCase) {
	cmd := d.Command("testdata/django/vectors.py", "check")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vectors.py check: %v\n%s", err, stderr.String())
	}
	var results []struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
		Got  string `json:"got"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("vectors.py check output %q: %v", out, err)
	}
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
		var stderr bytes.Buffer
		cmd := d.Command("testdata/django/vectors.py", "generate")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("vectors.py generate: %v\n%s", err, stderr.String())
		}
		var got djangoVectors
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("vectors.py generate: %v", err)
		}
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
	signer := session.NewSigner(vs.Secret, nil, session.SessionSalt)
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
type captureStore struct{ recs map[string]session.Record }

func (s *captureStore) Load(_ context.Context, key string) (session.Record, error) {
	rec, ok := s.recs[key]
	if !ok {
		return session.Record{}, session.ErrNotFound
	}
	return rec, nil
}

func (s *captureStore) Create(_ context.Context, rec session.Record) error {
	if _, ok := s.recs[rec.Key]; ok {
		return session.ErrExists
	}
	s.recs[rec.Key] = rec
	return nil
}

func (s *captureStore) Update(_ context.Context, rec session.Record, old string) error {
	cur, ok := s.recs[rec.Key]
	if !ok {
		return session.ErrNotFound
	}
	if cur.Data != old {
		return session.ErrConflict
	}
	s.recs[rec.Key] = rec
	return nil
}

func (s *captureStore) Delete(_ context.Context, key, old string) error {
	if cur, ok := s.recs[key]; ok && old != "" && cur.Data != old {
		return session.ErrConflict
	}
	delete(s.recs, key)
	return nil
}

// goTypeCase is a Go value a handler might store and the JSON text Python
// writes for the value Django must load from it.
type goTypeCase struct {
	name   string
	value  any
	python string // json.dumps(value) as Python writes it
}

func goTypeCases() []goTypeCase {
	type profile struct {
		Name  string   `json:"name"`
		Roles []string `json:"roles"`
		Age   int      `json:"age"`
	}
	return []goTypeCase{
		{"int", 42, `42`},
		{"int_negative", -7, `-7`},
		{"int64_max", int64(math.MaxInt64), `9223372036854775807`},
		{"int64_min", int64(math.MinInt64), `-9223372036854775808`},
		{"uint64_max", uint64(math.MaxUint64), `18446744073709551615`},
		{"big_number", json.Number("100000000000000000000000000000000000000000"), `100000000000000000000000000000000000000000`},
		{"float_whole", 3.0, `3.0`},
		{"float", 0.1, `0.1`},
		{"float_big", 1e21, `1e+21`},
		{"float_small", -2.5e-8, `-2.5e-08`},
		{"float32", float32(1.5), `1.5`},
		{"string", "plain", `"plain"`},
		{"string_html", `<a href="x">&amp;</a>`, `"<a href=\"x\">&amp;</a>"`},
		{"string_non_ascii", "café Ωμέγα 日本語 😀", `"caf\u00e9 \u03a9\u03bc\u03ad\u03b3\u03b1 \u65e5\u672c\u8a9e \ud83d\ude00"`},
		{"string_separators", "a\u2028b\u2029c\u00a0d\x00e\tf\n", `"a\u2028b\u2029c\u00a0d\u0000e\tf\n"`},
		{"string_empty", "", `""`},
		{"true", true, `true`},
		{"false", false, `false`},
		{"nil", nil, `null`},
		{"list", []any{1, "two", 3.5, nil, false}, `[1,"two",3.5,null,false]`},
		{"int_slice", []int{1, 2, 3}, `[1,2,3]`},
		{"empty_slice", []string{}, `[]`},
		{"map", map[string]any{"b": 2, "a": []any{1.0, "x"}, "ü": map[string]any{}}, `{"a":[1.0,"x"],"b":2,"\u00fc":{}}`},
		{"struct", profile{Name: "harun_dev", Roles: []string{"admin"}, Age: 30}, `{"age":30,"name":"harun_dev","roles":["admin"]}`},
		{"time", time.Date(2030, 1, 2, 3, 4, 5, 600000000, time.UTC), `"2030-01-02T03:04:05.600000+00:00"`},
		{"_auth_user_id", "42", `"42"`},
		{"_session_expiry", 300, `300`},
	}
}

// storeGoTypes stores each case as its own session through Session.Set and
// Save, as handlers do, and returns the stored data by case name.
func storeGoTypes(t *testing.T, secret string) map[string]string {
	t.Helper()
	st := &captureStore{recs: map[string]session.Record{}}
	cfg := session.DefaultConfig()
	cfg.Store, cfg.SecretKey = st, secret
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range goTypeCases() {
		s := m.Open(context.Background(), "")
		s.Set(c.name, c.value)
		if err := s.Save(); err != nil {
			t.Fatalf("%s: Save: %v", c.name, err)
		}
		rec, ok := st.recs[s.Key()]
		if !ok {
			t.Fatalf("%s: nothing stored", c.name)
		}
		out[c.name] = rec.Data
	}
	return out
}

// TestGoTypesWritePythonJSON checks, without Django, that what Session.Set
// stores is the JSON text Python would write for the same value.
func TestGoTypesWritePythonJSON(t *testing.T) {
	stored := storeGoTypes(t, "go-writes-django-reads")
	for _, c := range goTypeCases() {
		want := `{"` + c.name + `":` + c.python + `}`
		if got := payloadJSON(t, stored[c.name]); got != want {
			t.Errorf("%s: stored %s, Python writes %s", c.name, got, want)
		}
	}
}

// TestDjangoReadsGoTypes has Django load what Session.Set stored for each
// Go value and checks the Python value and type it gets.
func TestDjangoReadsGoTypes(t *testing.T) {
	const secret = "go-writes-django-reads"
	stored := storeGoTypes(t, secret)
	var checks []djangoCheckCase
	for _, c := range goTypeCases() {
		checks = append(checks, djangoCheckCase{
			Name:         c.name,
			Secret:       secret,
			Encoded:      stored[c.name],
			ExpectedJSON: `{"` + c.name + `":` + c.python + `}`,
		})
	}
	runDjangoCheck(t, checks)
}

// TestSetCyclicValueIsAnError checks that a value containing itself, which
// normalization walks into, is refused with ErrValue instead of
// overflowing the stack.
func TestSetCyclicValueIsAnError(t *testing.T) {
	cfg := session.DefaultConfig()
	cfg.Store, cfg.SecretKey = &captureStore{recs: map[string]session.Record{}}, "k"
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	s := m.Open(context.Background(), "")
	s.Set("x", cyclic)
	if err := s.Err(); !errors.Is(err, session.ErrValue) {
		t.Fatalf("Err() = %v, want ErrValue", err)
	}
}
