package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Hashes made by Django 3.2 (manage.py shell on the djangosite project):
// PBKDF2PasswordHasher().encode(...), make_password(..., hasher=...), and
// argon2-cffi's low-level hash_secret for the older argon2i variety. The
// live tests check freshly made ones too.
var djangoHashes = []struct {
	name, password, encoded string
}{
	{"pbkdf2_sha256", "correct horse", "pbkdf2_sha256$1000$sEdbt1xQ2VBHxqZ9a8AaXb$oX9G3+pzbKQNVbjxjIx0B2rcYG+43ePtB2QgNRwFNR8="},
	{"pbkdf2_sha1", "correct horse", "pbkdf2_sha1$1000$sEdbt1xQ2VBHxqZ9a8AaXb$ZWfPCIcNDEmojTbmwvwH8Tm0zDQ="},
	{"pbkdf2_sha256 non-ASCII", "pässwörd ✓", "pbkdf2_sha256$2$abc$yWhYqnNP27asfYc/JMvhdUJv+26TDVWDuudJd1Ohm+c="},
	{"argon2id (Django's default parameters)", "correct horse", "argon2$argon2id$v=19$m=102400,t=2,p=8$ajdEVUp3Y1VGb2ZRd2lHS0V2OW9CYQ$k7eyMYlv7s+khImpLLDV3g"},
	{"argon2i", "correct horse", "argon2$argon2i$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0$00mWQZWjw+VeiMijoo/jVA"},
	{"bcrypt_sha256", "correct horse", "bcrypt_sha256$$2b$12$DaOh5WmkpHu1eGau1wDwve/K17fbYWyFLByMMtGIAzHLPfM4IjjRq"},
}

func TestCheckPasswordDjangoHashes(t *testing.T) {
	for _, tt := range djangoHashes {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := CheckPassword(tt.password, tt.encoded)
			if !ok || err != nil {
				t.Errorf("CheckPassword(right password) = %v, %v; want true", ok, err)
			}
			ok, err = CheckPassword(tt.password+"x", tt.encoded)
			if ok || err != nil {
				t.Errorf("CheckPassword(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestMakePassword(t *testing.T) {
	encoded, err := MakePassword("correct horse", 1000)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2_sha256" || parts[1] != "1000" {
		t.Fatalf("MakePassword = %q, want pbkdf2_sha256$1000$salt$hash", encoded)
	}
	if salt := parts[2]; len(salt) != 22 || strings.Trim(salt, saltChars) != "" {
		t.Errorf("salt %q: want 22 characters of Django's RANDOM_STRING_CHARS", salt)
	}
	if key, err := base64.StdEncoding.DecodeString(parts[3]); err != nil || len(key) != 32 {
		t.Errorf("hash %q: want the standard base64 of 32 bytes (%v)", parts[3], err)
	}
	if ok, err := CheckPassword("correct horse", encoded); !ok || err != nil {
		t.Errorf("CheckPassword of MakePassword's hash = %v, %v", ok, err)
	}
	again, _ := MakePassword("correct horse", 1000)
	if again == encoded {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, n := range []int{0, -1, maxIterations + 1} {
		if _, err := MakePassword("x", n); err == nil {
			t.Errorf("MakePassword with %d iterations: no error", n)
		}
	}
}

func TestUnusablePassword(t *testing.T) {
	u := UnusablePassword()
	if !strings.HasPrefix(u, "!") || len(u) != 41 || IsPasswordUsable(u) {
		t.Errorf("UnusablePassword() = %q (usable %v), want ! and 40 characters, unusable", u, IsPasswordUsable(u))
	}
	// Django's set_unusable_password() value never matches, even the text
	// after the "!" as a password.
	if ok, err := CheckPassword(u[1:], u); ok || err != nil {
		t.Errorf("CheckPassword on an unusable password = %v, %v", ok, err)
	}
	if !IsPasswordUsable(djangoHashes[0].encoded) || !IsPasswordUsable("") {
		t.Error("a hash (or an empty value) reported unusable; only a leading ! is")
	}
}

func TestCheckPasswordReportsWhatItCannotCheck(t *testing.T) {
	unsupported := []string{
		"md5$salt$0e6ee5c9d6b4cd0b8b2a1f5e6e2b4f6a",          // MD5PasswordHasher
		"sha1$salt$0e6ee5c9d6b4cd0b8b2a1f5e6e2b4f6a12345678", // SHA1PasswordHasher
		"5f4dcc3b5aa765d61d8327deb882cf99",                   // unsalted MD5 (ancient Django)
		"md5$$5f4dcc3b5aa765d61d8327deb882cf99",              // unsalted MD5 with an empty salt
		"sha1$$5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8",     // unsalted SHA1
		"crypt$$ab1Hv2Lg7ltQo",
		"bcrypt$$2b$12$DaOh5WmkpHu1eGau1wDwve/K17fbYWyFLByMMtGIAzHLPfM4IjjRq",
		"scrypt$16384$salt$8$1$aGFzaA==",
		"argon2$argon2d$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0$g71rOpUH/bouPskVfhEVOQ", // made by argon2-cffi; Django checks it
		"argon2$argon2i$v=16$m=256,t=3,p=2$c2FsdHNhbHRzYWx0$00mWQZWjw+VeiMijoo/jVA",
		"sha512_custom$1$2$3",
	}
	for _, encoded := range unsupported {
		ok, err := CheckPassword("password", encoded)
		if ok || !errors.Is(err, ErrUnsupportedHasher) {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, ErrUnsupportedHasher", encoded, ok, err)
		}
	}
	malformed := []string{
		"",
		"pbkdf2_sha256",
		"pbkdf2_sha256$abc$salt$hash",
		"pbkdf2_sha256$0$salt$hash",
		"pbkdf2_sha256$-5$salt$hash",
		"pbkdf2_sha256$999999999999$salt$hash",
		"pbkdf2_sha256$1000$$hash",
		"argon2$argon2id$v=19$m=102400,t=2$c2FsdA$aGFzaA",
		"argon2$argon2id$v=19$m=102400,t=2,p=8,x=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g",
		"argon2$argon2id$v=19$m=99999999,t=2,p=8$c2FsdHNhbHRzYWx0$aGFzaGhhc2g",
		"argon2$argon2id$v=19$m=256,t=0,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2g",
		"argon2$argon2id$v=19$m=256,t=3,p=2$!!!$aGFzaGhhc2g",
		"bcrypt_sha256$$2b$12$short",
		"bcrypt_sha256$garbage",
	}
	for _, encoded := range malformed {
		ok, err := CheckPassword("password", encoded)
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckPassword(%q) = %v, %v; want false, ErrMalformedHash", encoded, ok, err)
		}
	}
}

// TestPBKDF2ComparesTheWholeEncoding: like Django's verify, the stored
// value must be exactly what the password encodes to; a hash with a
// padded iteration count matches in neither.
func TestPBKDF2ComparesTheWholeEncoding(t *testing.T) {
	encoded := "pbkdf2_sha256$01000$sEdbt1xQ2VBHxqZ9a8AaXb$oX9G3+pzbKQNVbjxjIx0B2rcYG+43ePtB2QgNRwFNR8="
	if ok, err := CheckPassword("correct horse", encoded); ok || err != nil {
		t.Errorf("CheckPassword with iterations 01000 = %v, %v; want false as in Django", ok, err)
	}
}

func TestPBKDF2Iterations(t *testing.T) {
	for version, want := range map[string]int{"3.1": 216_000, "3.2": 260_000, "3.2.25": 260_000, "4.2": 600_000, "5.0": 720_000, "5.2.7": 1_000_000, "6.0": 1_200_000, " 4.1 ": 390_000} {
		if got, err := PBKDF2Iterations(version); got != want || err != nil {
			t.Errorf("PBKDF2Iterations(%q) = %d, %v; want %d", version, got, err, want)
		}
	}
	for _, version := range []string{"", "3.0", "2.2", "7", "6.9", "x.y"} {
		if _, err := PBKDF2Iterations(version); err == nil {
			t.Errorf("PBKDF2Iterations(%q): no error", version)
		}
	}
	if _, err := PBKDF2Iterations(DefaultDjangoVersion); err != nil {
		t.Errorf("DefaultDjangoVersion %q is not in the table: %v", DefaultDjangoVersion, err)
	}
	if _, err := PBKDF2Iterations(LatestDjangoVersion); err != nil {
		t.Errorf("LatestDjangoVersion %q is not in the table: %v", LatestDjangoVersion, err)
	}
}

// TestSessionAuthHash: Django 3.2's User(password=...).get_session_auth_hash()
// with SECRET_KEY "vector-secret".
func TestSessionAuthHash(t *testing.T) {
	const want = "44d5134a2209eff1ca1bb15d1f4612bb1c736e4bec014203e3e33b0abe8edef0"
	if got := sessionAuthHash("vector-secret", "pbkdf2_sha256$2$abc$x"); got != want {
		t.Errorf("sessionAuthHash = %s, want Django's %s", got, want)
	}
}

func TestValidateUsername(t *testing.T) {
	for _, name := range []string{"a", "joe.bloggs+test@example.com", "ünïcödé_名前", "user-1", strings.Repeat("x", 150)} {
		if err := ValidateUsername(name); err != nil {
			t.Errorf("ValidateUsername(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "with space", "semi;colon", "new\nline", "slash/", strings.Repeat("x", 151)} {
		if err := ValidateUsername(name); !errors.Is(err, ErrInvalidUsername) {
			t.Errorf("ValidateUsername(%q) = %v, want ErrInvalidUsername", name, err)
		}
	}
	if got := NormalizeUsername("ｊｏｅ"); got != "joe" {
		t.Errorf("NormalizeUsername(fullwidth joe) = %q, want joe (NFKC)", got)
	}
}

// TestBcryptCostIsBounded: the cost of a bcrypt hash is read from the
// stored value, and each step doubles the work (Django's default, 12,
// takes about half a second): a hash with an absurd cost is refused as
// malformed before it runs, as PBKDF2's iteration count and Argon2's
// parameters are. Costs up to maxBcryptCost are checked.
func TestBcryptCostIsBounded(t *testing.T) {
	sum := sha256.Sum256([]byte("password"))
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(sum[:])), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	encoded := "bcrypt_sha256$" + string(h)
	if ok, err := CheckPassword("password", encoded); !ok || err != nil {
		t.Fatalf("CheckPassword(cost %d) = %v, %v; want true", bcrypt.MinCost, ok, err)
	}
	for _, cost := range []int{maxBcryptCost + 1, bcrypt.MaxCost} {
		absurd := strings.Replace(encoded, fmt.Sprintf("$%02d$", bcrypt.MinCost), fmt.Sprintf("$%02d$", cost), 1)
		start := time.Now()
		ok, err := CheckPassword("password", absurd)
		t.Logf("cost %d: %v, %v in %v", cost, ok, err, time.Since(start))
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckPassword(cost %d) = %v, %v; want false, ErrMalformedHash", cost, ok, err)
		}
	}
}
