package templates

import (
	"slices"
	"strings"
	"testing"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		want    string
	}{
		{0, "0 s"},
		{45, "45 s"},
		{60, "1 minute (60 s)"},
		{300, "5 minutes (300 s)"},
		{3600, "1 hour (3600 s)"},
		{5400, "1 hour 30 minutes (5400 s)"},
		{86400, "1 day (86400 s)"},
		{93600, "1 day 2 hours (93600 s)"},
		{86700, "about 1 day (86700 s)"},                // 1 day 0 hours 5 minutes: the second unit would be hours
		{1209600, "14 days (1209600 s)"},                // SESSION_COOKIE_AGE
		{1209543, "about 13 days 23 hours (1209543 s)"}, // a fixed expiry date, a minute later
		{90061, "about 1 day 1 hour (90061 s)"},
		{-120, "minus 2 minutes (-120 s)"},
	} {
		if got := duration(tc.seconds); got != tc.want {
			t.Errorf("duration(%d) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}

func TestCodeParts(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"", []string{""}},
		{"s.Set(key, value)", []string{"s.Set(key, value)"}},
		// Runs shorter than minBreakable stay whole.
		{`x := c.FormValue("")`, []string{`x := c.FormValue("")`}},
		{"    request.session.get_expiry_age()", []string{"    request.", "session.", "get_expiry_age()"}},
		{`"django.contrib.sessions.backends.db"`, []string{`"django.`, "contrib.", "sessions.", "backends.", `db"`}},
		// After an opening bracket, and after the dot of a call; never
		// after a one-letter receiver.
		{`name := cleanUsername(c.FormValue("username"))`, []string{`name := cleanUsername(`, `c.FormValue(`, `"username"))`}},
		{`s.ExpiryDate().UTC().Format("2006-01-02")`, []string{`s.ExpiryDate().`, `UTC().`, `Format(`, `"2006-01-02")`}},
		{`return HttpResponseBadRequest("expiry must be")`, []string{`return HttpResponseBadRequest(`, `"expiry must be")`}},
		{`templates.EditorForm{Key: 1}`, []string{`templates.`, `EditorForm{`, `Key: 1}`}},
		// A dot that does not join two names is not a break.
		{"end of sentence. Next_word_is_very_long", []string{"end of sentence. Next_word_is_very_long"}},
		{"état.donnéesDeSessionÉtendues", []string{"état.", "donnéesDeSessionÉtendues"}},
		{"\t\tx.very_long_identifier_name", []string{"\t\tx.very_long_identifier_name"}},
	} {
		got := codeParts(tc.line)
		if !slices.Equal(got, tc.want) {
			t.Errorf("codeParts(%q) = %q, want %q", tc.line, got, tc.want)
		}
		if strings.Join(got, "") != tc.line {
			t.Errorf("codeParts(%q) lost text: %q", tc.line, got)
		}
	}
}

func TestKeyParts(t *testing.T) {
	if got := keyParts("login_count"); !slices.Equal(got, []string{"login_count"}) {
		t.Errorf("short key cut: %q", got)
	}
	long := "django_language_preference_of_the_user"
	if got := keyParts(long); !slices.Equal(got, []string{"django_", "language_", "preference_", "of_", "the_", "user"}) {
		t.Errorf("long key: %q", got)
	}
	if got := keyParts("trailing_underscore_key_long_"); strings.Join(got, "") != "trailing_underscore_key_long_" || got[len(got)-1] == "" {
		t.Errorf("trailing separator: %q", got)
	}
	if keyClass("login_count") != "key" || keyClass(long) != "key long-key" {
		t.Error("key classes")
	}
}

func TestNewCode(t *testing.T) {
	src := "func f() {\n\tif x {\n\t\treturn\n\t}\n\n  two spaces\n" + strings.Repeat("\t", 12) + "deep\n\n\n"
	c := NewCode("f", src)
	var depths []int
	for _, l := range c.Lines {
		depths = append(depths, l.Depth)
	}
	if want := []int{0, 1, 2, 1, 0, 0, MaxDepth}; !slices.Equal(depths, want) {
		t.Errorf("depths %v, want %v", depths, want)
	}
	if got, want := c.Source(), strings.TrimRight(src, "\n"); got != want {
		t.Errorf("Source() = %q, want %q", got, want)
	}
	if got := lineClass(1); got != "ln d1" {
		t.Errorf("lineClass(1) = %q", got)
	}
	if got := lineClass(99); got != "ln d8" {
		t.Errorf("lineClass(99) = %q", got)
	}
}
