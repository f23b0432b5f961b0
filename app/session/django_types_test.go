package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// What Session.Set stores for Go values, read by Django. The codec itself
// (package signing) is checked against Django's golden vectors in its own
// tests; this file checks the session's normalization of Go values on top.

// vectorsScript is the Django side of package signing's golden vectors;
// its "check" mode decodes cases with Django's SessionStore.decode.
const vectorsScript = "../signing/testdata/django/vectors.py"

// payloadJSON returns the JSON text inside session data signed with
// secret.
func payloadJSON(t *testing.T, secret, signed string) string {
	t.Helper()
	data, _, err := signing.NewTimestampSigner(secret, nil, session.SessionSalt).UnsignBytes(signed, signing.DefaultMaxPayload)
	if err != nil {
		t.Fatalf("payload of %q: %v", signed, err)
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
	d.RunJSON(t, cases, &results, vectorsScript, "check")
	if len(results) != len(cases) {
		t.Fatalf("Django answered %d cases of %d", len(results), len(cases))
	}
	for i, r := range results {
		if !r.OK {
			t.Errorf("%s: Django decoded %s, want the Python value of %s (from %q)", r.Name, r.Got, cases[i].ExpectedJSON, cases[i].Encoded)
		}
	}
}

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
		{"string_del", "a\x7fb", `"a\u007fb"`},
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
	const secret = "go-writes-django-reads"
	stored := storeGoTypes(t, secret)
	for _, c := range goTypeCases() {
		want := `{"` + c.name + `":` + c.python + `}`
		if got := payloadJSON(t, secret, stored[c.name]); got != want {
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
