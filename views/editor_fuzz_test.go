package views

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/templates"
)

// FuzzEditorValue feeds arbitrary text to the editor's value field: the
// editor must either refuse it with a message for the form, or accept a
// value that the session framework stores and reads back unchanged. A
// value it accepts and the store then refuses would be a 500.
func FuzzEditorValue(f *testing.F) {
	for _, seed := range []string{
		"", "hello", "42", "-0.5e10", `"quoted"`, "true", "null", `[1, "a"]`, `{"a": {"b": [null]}}`,
		"{not json", "[1,]", `"\ud800"`, `{"a":1}{"b":2}`, "1e999999", "\xff",
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		strings.Repeat("[", 101) + strings.Repeat("]", 101),
		strings.Repeat("[", 1500) + strings.Repeat("]", 1500),
		`["\"[[[[", "\\"]`,
	} {
		f.Add(seed)
	}
	cfg := session.DefaultConfig()
	cfg.Store = memstore.New(nil)
	cfg.SecretKey = "fuzz-secret-key"
	m, err := session.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	h := &Handlers{Sessions: m}
	f.Fuzz(func(t *testing.T, raw string) {
		value, _, problem := h.parseEntry(templates.EditorForm{Key: "k", Value: raw})
		if problem != "" {
			if value != nil {
				t.Fatalf("refused %q (%s) but returned %#v", raw, problem, value)
			}
			return
		}
		ctx := context.Background()
		s := m.Open(ctx, "")
		s.Set("k", value)
		if err := s.Save(); err != nil {
			t.Fatalf("accepted %.200q, but the session cannot store it: %v", raw, err)
		}
		got, ok := m.Open(ctx, s.Key()).Lookup("k")
		if !ok {
			t.Fatalf("accepted %q, but it is not there after a reload", raw)
		}
		if a, b := jsonText(got), jsonText(value); a != b {
			t.Fatalf("accepted %q as %s, read back as %s", raw, b, a)
		}
		if !json.Valid([]byte(raw)) {
			if value != raw {
				t.Fatalf("text %q is stored as %#v, not as itself", raw, value)
			}
		} else if str, ok := value.(string); ok && !strings.HasPrefix(strings.TrimSpace(raw), `"`) {
			t.Fatalf("JSON %q is stored as the string %q", raw, str)
		}
	})
}

// TestJSONDepth checks the nesting count on the strings that could fool it.
func TestJSONDepth(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want int
	}{
		{`1`, 0},
		{`"[[["`, 0},
		{`[]`, 1},
		{`[[1], {"a": [2]}]`, 3},
		{`["\"[[", "\\", [[]]]`, 3},
		{`{"a": "}}}", "b": {"c": "\\\"{"}}`, 2},
	} {
		if got := jsonDepth(tc.raw); got != tc.want {
			t.Errorf("jsonDepth(%s) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}
