package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Passwords are stored as Django stores them (django.contrib.auth.hashers):
// "algorithm$..." strings in auth_user.password. New hashes use Django's
// default hasher, PBKDF2PasswordHasher:
//
//	pbkdf2_sha256$<iterations>$<salt>$<base64 of PBKDF2-HMAC-SHA256, 32 bytes>
//
// and the hashers of Django's default PASSWORD_HASHERS are all checked:
// pbkdf2_sha256, pbkdf2_sha1, argon2 (argon2id and argon2i, version 19)
// and bcrypt_sha256. Anything else (md5, sha1, unsalted, crypt, plain
// bcrypt, scrypt, argon2d) is reported as ErrUnsupportedHasher, never
// taken for a wrong password.

// ErrUnsupportedHasher is returned by CheckPassword for a hash made by a
// hasher this package does not implement. The error wrapping it names the
// algorithm: log in once on the Django site (Django rehashes with its
// default hasher) or set a new password.
var ErrUnsupportedHasher = errors.New("auth: unsupported password hasher")

// ErrMalformedHash is returned by CheckPassword for a stored value that
// names a supported hasher but cannot be parsed.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// unusablePrefix marks a password that can never match
// (UNUSABLE_PASSWORD_PREFIX); Django appends 40 random characters.
const (
	unusablePrefix       = "!"
	unusableSuffixLength = 40
)

// saltChars is Django's RANDOM_STRING_CHARS, and saltLength the length of
// a salt of at least 128 bits from it (BasePasswordHasher.salt():
// ceil(128 / log2(62)) = 22).
const (
	saltChars  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	saltLength = 22
)

// maxIterations bounds the PBKDF2 iteration count read from a stored
// hash: far above any Django default, low enough that a corrupt value
// cannot make a login run for hours.
const maxIterations = 100_000_000

// maxBcryptCost bounds the cost read from a stored bcrypt hash, as
// maxIterations bounds PBKDF2's count: each step doubles the work, and 18
// is 64 times Django's default (12, about half a second on a core), while
// bcrypt allows 31 (days).
const maxBcryptCost = 18

// PBKDF2Iterations returns the iteration count of Django's
// PBKDF2PasswordHasher in the given Django release ("3.2", "5.2", ...):
// new hashes should be made with the count of the Django that shares the
// database, because Django rehashes, at the next login, a password whose
// count differs from its own, and the new hash logs the user out of every
// other session on both sites. Releases before 3.1 are refused: their
// session hash is HMAC-SHA1, which this package does not write.
func PBKDF2Iterations(djangoVersion string) (int, error) {
	// PBKDF2PasswordHasher.iterations of each release, from its release
	// notes; the tests also read 3.2's, 4.2's and 5.2's from the real
	// Django (internal/djangotest's matrix).
	counts := map[string]int{
		"3.1": 216_000,
		"3.2": 260_000,
		"4.0": 320_000,
		"4.1": 390_000,
		"4.2": 600_000,
		"5.0": 720_000,
		"5.1": 870_000,
		"5.2": 1_000_000,
		"6.0": 1_200_000,
	}
	v := strings.TrimSpace(djangoVersion)
	if major, minor, ok := strings.Cut(v, "."); ok {
		// "5.2.7" counts as "5.2".
		minor, _, _ = strings.Cut(minor, ".")
		v = major + "." + minor
	}
	if n, ok := counts[v]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("auth: unknown Django version %q (known: 3.1 to %s)", djangoVersion, LatestDjangoVersion)
}

// LatestDjangoVersion is the newest Django release PBKDF2Iterations knows.
const LatestDjangoVersion = "6.0"

// DefaultDjangoVersion is the Django release assumed when none is named
// (DJANGO_VERSION, Config.Iterations): 5.2, the newest LTS, which is what
// most Django sites sharing a database run. A site on another release
// names it: a hash made at a count its Django does not use is rehashed by
// Django at the next login, which ends the user's other sessions.
const DefaultDjangoVersion = "5.2"

// IsPasswordUsable reports whether encoded can ever match a password
// (is_password_usable): Django's set_unusable_password() stores "!" and
// random characters, for accounts that log in some other way.
func IsPasswordUsable(encoded string) bool {
	return !strings.HasPrefix(encoded, unusablePrefix)
}

// UnusablePassword returns a new unusable password value, as Django's
// make_password(None): "!" and 40 random characters.
func UnusablePassword() string {
	return unusablePrefix + randomString(unusableSuffixLength)
}

// MakePassword hashes password with Django's default hasher,
// pbkdf2_sha256, a fresh 22-character salt and iterations rounds
// (make_password). Django reads the result with any iteration count.
func MakePassword(password string, iterations int) (string, error) {
	if iterations < 1 || iterations > maxIterations {
		return "", fmt.Errorf("auth: PBKDF2 iteration count %d out of range (1 to %d)", iterations, maxIterations)
	}
	return encodePBKDF2("pbkdf2_sha256", sha256.New, password, randomString(saltLength), iterations)
}

// CheckPassword reports whether password matches encoded, a value of
// auth_user.password (check_password), comparing in constant time. An
// unusable password never matches. A hash of a hasher this package does
// not implement is an error wrapping ErrUnsupportedHasher, and an
// unparsable one an error wrapping ErrMalformedHash, so that neither is
// silently taken for a wrong password.
func CheckPassword(password, encoded string) (bool, error) {
	if !IsPasswordUsable(encoded) {
		return false, nil
	}
	algorithm := identify(encoded)
	switch algorithm {
	case "pbkdf2_sha256":
		return checkPBKDF2(algorithm, sha256.New, password, encoded)
	case "pbkdf2_sha1":
		return checkPBKDF2(algorithm, sha1.New, password, encoded)
	case "argon2":
		return checkArgon2(password, encoded)
	case "bcrypt_sha256":
		return checkBcryptSHA256(password, encoded)
	case "":
		return false, fmt.Errorf("%w: the stored value names no algorithm", ErrMalformedHash)
	}
	return false, fmt.Errorf("%w %q (supported: pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256)", ErrUnsupportedHasher, algorithm)
}

// identify names the algorithm of encoded as Django's identify_hasher
// does, ancient unsalted forms included.
func identify(encoded string) string {
	switch {
	case len(encoded) == 32 && !strings.Contains(encoded, "$"),
		len(encoded) == 37 && strings.HasPrefix(encoded, "md5$$"):
		return "unsalted_md5"
	case len(encoded) == 46 && strings.HasPrefix(encoded, "sha1$$"):
		return "unsalted_sha1"
	}
	algorithm, _, _ := strings.Cut(encoded, "$")
	return algorithm
}

func encodePBKDF2(algorithm string, h func() hash.Hash, password, salt string, iterations int) (string, error) {
	key, err := pbkdf2.Key(h, password, []byte(salt), iterations, h().Size())
	if err != nil {
		return "", fmt.Errorf("auth: pbkdf2: %w", err)
	}
	return algorithm + "$" + strconv.Itoa(iterations) + "$" + salt + "$" + base64.StdEncoding.EncodeToString(key), nil
}

// checkPBKDF2 re-encodes password with the stored salt and count and
// compares the whole string, as PBKDF2PasswordHasher.verify does.
func checkPBKDF2(algorithm string, h func() hash.Hash, password, encoded string) (bool, error) {
	parts := strings.SplitN(encoded, "$", 4)
	if len(parts) != 4 {
		return false, fmt.Errorf("%w: %s wants algorithm$iterations$salt$hash", ErrMalformedHash, algorithm)
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations < 1 || iterations > maxIterations {
		return false, fmt.Errorf("%w: %s iteration count %q", ErrMalformedHash, algorithm, parts[1])
	}
	if parts[2] == "" {
		return false, fmt.Errorf("%w: %s has an empty salt", ErrMalformedHash, algorithm)
	}
	again, err := encodePBKDF2(algorithm, h, password, parts[2], iterations)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(again), []byte(encoded)) == 1, nil
}

// checkArgon2 verifies Django's Argon2PasswordHasher format,
// "argon2" + argon2-cffi's encoding:
//
//	argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>
//
// (base64 without padding). argon2id (Django 3.2 and later) and argon2i
// (earlier) are checked; argon2d and version 16 are not in
// golang.org/x/crypto/argon2 and are reported as unsupported.
func checkArgon2(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return false, fmt.Errorf("%w: argon2 wants argon2$variety$v=19$m=,t=,p=$salt$hash", ErrMalformedHash)
	}
	variety, version, params, b64salt, b64hash := parts[1], parts[2], parts[3], parts[4], parts[5]
	derive := argon2.IDKey
	switch variety {
	case "argon2id":
	case "argon2i":
		derive = argon2.Key
	default:
		return false, fmt.Errorf("%w: argon2 variety %q (argon2id and argon2i are supported)", ErrUnsupportedHasher, variety)
	}
	if version != "v=19" {
		return false, fmt.Errorf("%w: argon2 version %q (19 is supported)", ErrUnsupportedHasher, version)
	}
	var memory, time, threads uint64
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return false, fmt.Errorf("%w: argon2 parameter %q", ErrMalformedHash, kv)
		}
		switch k {
		case "m":
			memory = n
		case "t":
			time = n
		case "p":
			threads = n
		default:
			return false, fmt.Errorf("%w: argon2 parameter %q", ErrMalformedHash, kv)
		}
	}
	// Bounds: up to 4 GiB of memory and 255 lanes; Django's defaults are
	// 100 MiB, 2 passes and 8 lanes.
	if memory < 8 || memory > 4<<20 || time < 1 || time > 1000 || threads < 1 || threads > 255 || memory < 8*threads {
		return false, fmt.Errorf("%w: argon2 parameters %q out of range", ErrMalformedHash, params)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(b64salt)
	want, err2 := base64.RawStdEncoding.DecodeString(b64hash)
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 4 {
		return false, fmt.Errorf("%w: argon2 salt or hash", ErrMalformedHash)
	}
	got := derive([]byte(password), salt, uint32(time), uint32(memory), uint8(threads), uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkBcryptSHA256 verifies Django's BCryptSHA256PasswordHasher format,
// "bcrypt_sha256$" + a bcrypt hash of the hex SHA-256 of the password
// (which keeps bcrypt from truncating long passwords).
func checkBcryptSHA256(password, encoded string) (bool, error) {
	_, data, _ := strings.Cut(encoded, "$")
	cost, err := bcrypt.Cost([]byte(data))
	if err != nil {
		return false, fmt.Errorf("%w: bcrypt_sha256: %v", ErrMalformedHash, err)
	}
	if cost > maxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt_sha256 cost %d out of range (up to %d)", ErrMalformedHash, cost, maxBcryptCost)
	}
	sum := sha256.Sum256([]byte(password))
	err = bcrypt.CompareHashAndPassword([]byte(data), []byte(hex.EncodeToString(sum[:])))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt_sha256: %v", ErrMalformedHash, err)
}

// sessionAuthHash is Django's get_session_auth_hash() of a user whose
// password field is password, with secret as SECRET_KEY: the hex
// HMAC-SHA256 of the password hash under salted_hmac's key,
// SHA-256(key salt + secret). It changes whenever the password does, which
// is what ends the user's other sessions.
func sessionAuthHash(secret, password string) string {
	key := sha256.Sum256([]byte("django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash" + secret))
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte(password))
	return hex.EncodeToString(mac.Sum(nil))
}

// randomString returns n characters of saltChars from crypto/rand, as
// Django's get_random_string; bytes that would favour the first letters
// of the alphabet are drawn again.
func randomString(n int) string {
	const limit = 256 - 256%len(saltChars)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24)
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, saltChars[int(c)%len(saltChars)])
			}
		}
	}
	return string(out)
}
