package csrf

import (
	"crypto/rand"
	"crypto/subtle"
	"unicode/utf8"
)

// Django's token format (django/middleware/csrf.py): a secret of
// SecretLength characters of AllowedChars, and form tokens of TokenLength
// characters, a fresh mask followed by the secret enciphered with it.
const (
	// AllowedChars is CSRF_ALLOWED_CHARS: string.ascii_letters +
	// string.digits, in that order (the order matters to the cipher).
	AllowedChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// SecretLength is CSRF_SECRET_LENGTH.
	SecretLength = 32
	// TokenLength is CSRF_TOKEN_LENGTH, a masked secret.
	TokenLength = 2 * SecretLength
	// SessionKey is CSRF_SESSION_KEY: where the secret is kept in the
	// session with CSRF_USE_SESSIONS.
	SessionKey = "_csrftoken"
	// FormField is the hidden input of Django's {% csrf_token %}.
	FormField = "csrfmiddlewaretoken"
)

// Format reasons, Django's REASON_INCORRECT_LENGTH and
// REASON_INVALID_CHARACTERS: phrases without a subject, completed by
// "CSRF cookie " or "CSRF token from POST ".
const (
	ReasonIncorrectLength   = "has incorrect length"
	ReasonInvalidCharacters = "has invalid characters"
)

// charIndex maps a byte of AllowedChars to its index, -1 for any other.
var charIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(AllowedChars); i++ {
		t[AllowedChars[i]] = int8(i)
	}
	return t
}()

// NewSecret returns a new secret, Django's _get_new_csrf_string():
// SecretLength characters drawn uniformly from AllowedChars with
// crypto/rand.
func NewSecret() string {
	return randomString(SecretLength)
}

// randomString is get_random_string(n, CSRF_ALLOWED_CHARS): each character
// uniform (bytes of 248 and above are drawn again, 248 being the largest
// multiple of 62 under 256).
func randomString(n int) string {
	const limit = 256 - 256%len(AllowedChars)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24)
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, AllowedChars[int(b)%len(AllowedChars)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// Mask returns a form token for secret, Django's _mask_cipher_secret: a
// fresh random mask, then each character of the secret shifted by the
// mask's character at the same place, modulo len(AllowedChars). Every call
// gives another token for the same secret (against BREACH); Unmask of any
// of them gives the secret back. secret must be a valid secret (see
// CheckFormat); anything else gives "".
func Mask(secret string) string {
	return maskWith(secret, randomString(SecretLength))
}

// maskWith is Mask with a chosen mask.
func maskWith(secret, mask string) string {
	if !validChars(secret) || len(secret) != SecretLength || len(mask) != SecretLength || !validChars(mask) {
		return ""
	}
	n := len(AllowedChars)
	out := make([]byte, TokenLength)
	copy(out, mask)
	for i := 0; i < SecretLength; i++ {
		out[SecretLength+i] = AllowedChars[(int(charIndex[secret[i]])+int(charIndex[mask[i]]))%n]
	}
	return string(out)
}

// Unmask returns the secret of a masked token, Django's
// _unmask_cipher_token. token must have TokenLength characters of
// AllowedChars; anything else gives "".
func Unmask(token string) string {
	if len(token) != TokenLength || !validChars(token) {
		return ""
	}
	n := len(AllowedChars)
	out := make([]byte, SecretLength)
	for i := 0; i < SecretLength; i++ {
		// Python's chars[x - y] with a negative index counts from the
		// end: (x - y) mod n.
		out[i] = AllowedChars[(int(charIndex[token[SecretLength+i]])-int(charIndex[token[i]])+n)%n]
	}
	return string(out)
}

// CheckFormat is Django's _check_token_format (Django 4.0 and later): a
// secret or a token, masked or not, has SecretLength or TokenLength
// characters, all of AllowedChars. It returns "" when s is well formed,
// else ReasonIncorrectLength or ReasonInvalidCharacters, length first.
// The length is counted in characters, as Python counts it: 31 letters
// and an "é" have the right length and an invalid character.
func CheckFormat(s string) string {
	if n := utf8.RuneCountInString(s); n != SecretLength && n != TokenLength {
		return ReasonIncorrectLength
	}
	if !validChars(s) {
		return ReasonInvalidCharacters
	}
	return ""
}

// SecretOf returns the secret a well-formed token or cookie value stands
// for: a masked one unmasked, a secret as it is; "" when s is not well
// formed (see CheckFormat).
func SecretOf(s string) string {
	switch {
	case CheckFormat(s) != "":
		return ""
	case len(s) == TokenLength:
		return Unmask(s)
	}
	return s
}

// Matches reports whether token (a form field or header value, masked or
// not) stands for secret, Django's _does_token_match, in constant time.
// A token that is not well formed never matches.
func Matches(token, secret string) bool {
	t := SecretOf(token)
	if t == "" || len(secret) != SecretLength {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(t), []byte(secret)) == 1
}

func validChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if charIndex[s[i]] < 0 {
			return false
		}
	}
	return true
}

// headerTitle is Django's HttpHeaders.parse_header_name for a header
// name, Python's str.title(): "X-CSRFToken" becomes "X-Csrftoken", as
// Django names the header in its reasons.
func headerTitle(name string) string {
	out := []byte(name)
	prevLetter := false
	for i, c := range out {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		switch {
		case letter && !prevLetter && 'a' <= c && c <= 'z':
			out[i] = c - 'a' + 'A'
		case letter && prevLetter && 'A' <= c && c <= 'Z':
			out[i] = c - 'A' + 'a'
		}
		prevLetter = letter
	}
	return string(out)
}
