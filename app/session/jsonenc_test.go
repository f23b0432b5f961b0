package session

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdJSON is what encoding/json writes for v, as Signer.dumps used it.
func stdJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// checkSameJSON fails unless appendJSON writes what encoding/json
// writes for v, or declines v.
func checkSameJSON(t *testing.T, v any) {
	t.Helper()
	got, ok := appendJSON(nil, v)
	want, err := stdJSON(v)
	switch {
	case !ok:
		return // declined: encoding/json does it
	case err != nil:
		t.Errorf("appendJSON(%#v) = %s, but encoding/json fails: %v", v, got, err)
	case string(got) != want:
		t.Errorf("appendJSON(%#v) = %s, encoding/json writes %s", v, got, want)
	}
}

func TestAppendJSONIsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", json.Number("0"), json.Number("-1.5e+10"), json.Number("12345678901234567890123"),
		map[string]any{}, map[string]any(nil), []any{}, []any(nil),
		map[string]any{"b": json.Number("1"), "a": []any{"x", nil, true, map[string]any{"z": "", "y": json.Number("2")}}},
		map[string]any{"\x01k\"": "v", "K": "w", "k": "x"},
	} {
		checkSameJSON(t, v)
	}
	// What it must decline (encoding/json errors, or non-ASCII text that
	// encoding/json writes its own way).
	for _, v := range []any{json.Number("01"), json.Number("1."), json.Number("abc"), json.Number("-"), "café", map[string]any{"é": 1}, 42, struct{}{}} {
		if got, ok := appendJSON(nil, v); ok {
			t.Errorf("appendJSON(%#v) = %s, want it declined", v, got)
		}
	}
	// Random documents of the normalized kinds.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		checkSameJSON(t, randomValue(rng, 3))
	}
}

func TestJSONNumberGrammar(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "10", "1.5", "-0.25", "1e5", "1E+5", "1e-05", "123.456e789"} {
		if !jsonNumber(s) {
			t.Errorf("jsonNumber(%q) = false", s)
		}
	}
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "1 ", "NaN", "--1"} {
		if jsonNumber(s) {
			t.Errorf("jsonNumber(%q) = true", s)
		}
	}
}

// randomValue returns a random normalized session value nested up to
// depth, with strings of every ASCII byte.
func randomValue(rng *rand.Rand, depth int) any {
	str := func() string {
		b := make([]byte, rng.IntN(8))
		for i := range b {
			b[i] = byte(rng.IntN(0x80))
		}
		return string(b)
	}
	k := rng.IntN(6)
	if depth == 0 {
		k = rng.IntN(4)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return str()
	case 3:
		return json.Number([]string{"0", "-7", "3.25", "1e-9", "18446744073709551616"}[rng.IntN(5)])
	case 4:
		m := map[string]any{}
		for range rng.IntN(5) {
			m[str()] = randomValue(rng, depth-1)
		}
		return m
	}
	s := make([]any, rng.IntN(5))
	for i := range s {
		s[i] = randomValue(rng, depth-1)
	}
	return s
}
