package csrf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Golden vectors of Django's token format, one file per Django release
// of the matrix; regenerate with
//
//	PYTHONPATH=<that Django> /usr/bin/python3 testdata/django/vectors.py generate > testdata/django/vectors-X.Y.json
type formatVectors struct {
	DjangoVersion string `json:"django_version"`
	AllowedChars  string `json:"allowed_chars"`
	SecretLength  int    `json:"secret_length"`
	TokenLength   int    `json:"token_length"`
	SessionKey    string `json:"session_key"`
	Masked        []struct {
		Secret, Mask, Token, Unmasked string
	} `json:"masked"`
	Formats []struct {
		Value string `json:"value"`
		// Reason is _check_token_format's (Django 4.0 and later): "" for
		// a well-formed value.
		Reason *string `json:"reason"`
		// Sanitized is what Django 3.2's _sanitize_token does with it:
		// kept (a token), masked (a secret) or replaced.
		Sanitized string `json:"sanitized"`
	} `json:"formats"`
}

// TestDjangoFormatVectors: Go masks a secret with a given mask into the
// token Django makes with it, unmasks Django's tokens into their secret,
// and judges every sample cookie or token as Django does (its reason in
// 4.2 and 5.2; in 3.2, kept as a token, masked as a secret, or replaced),
// for each release's committed vectors.
func TestDjangoFormatVectors(t *testing.T) {
	files, err := filepath.Glob("testdata/django/vectors-*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("want the vectors of Django 3.2, 4.2 and 5.2, found %v (%v)", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v formatVectors
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			t.Logf("Django %s", v.DjangoVersion)
			if v.AllowedChars != AllowedChars || v.SecretLength != SecretLength || v.TokenLength != TokenLength || v.SessionKey != SessionKey {
				t.Errorf("Django's constants %q %d %d %q differ from Go's", v.AllowedChars, v.SecretLength, v.TokenLength, v.SessionKey)
			}
			if len(v.Masked) == 0 || len(v.Formats) == 0 {
				t.Fatal("no vectors")
			}
			for _, m := range v.Masked {
				if got := maskWith(m.Secret, m.Mask); got != m.Token {
					t.Errorf("mask %q with %q: Go %q, Django %q", m.Secret, m.Mask, got, m.Token)
				}
				if got := Unmask(m.Token); got != m.Secret || m.Unmasked != m.Secret {
					t.Errorf("unmask %q: Go %q, Django %q, want %q", m.Token, got, m.Unmasked, m.Secret)
				}
				if !Matches(m.Token, m.Secret) || !Matches(m.Secret, m.Secret) {
					t.Errorf("%q or the secret itself does not match %q", m.Token, m.Secret)
				}
			}
			for _, fv := range v.Formats {
				got := CheckFormat(fv.Value)
				switch {
				case fv.Reason != nil:
					if got != *fv.Reason {
						t.Errorf("CheckFormat(%q) = %q, Django %q", fv.Value, got, *fv.Reason)
					}
				case fv.Sanitized == "kept":
					if got != "" || len(fv.Value) != TokenLength {
						t.Errorf("%q: Django 3.2 keeps it as a token; Go: %q", fv.Value, got)
					}
				case fv.Sanitized == "masked":
					if got != "" || len(fv.Value) != SecretLength {
						t.Errorf("%q: Django 3.2 takes it as a secret; Go: %q", fv.Value, got)
					}
				case fv.Sanitized == "replaced":
					if got == "" {
						t.Errorf("%q: Django 3.2 replaces it; Go accepts it", fv.Value)
					}
				default:
					t.Errorf("%q: a vector with neither reason nor sanitized", fv.Value)
				}
			}
		})
	}
}
