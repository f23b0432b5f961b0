package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// keyAlphabet is Django's VALID_KEY_CHARS: lower case so that keys survive
// case-insensitive file systems and cache backends.
const keyAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// keyLength is the length of generated session keys, as in Django
// (log2(36^32) ≈ 165 bits of entropy).
const keyLength = 32

// NewKey returns a fresh session key: 32 characters from [a-z0-9], drawn
// from crypto/rand without modulo bias.
func NewKey() string {
	var out [keyLength]byte
	var buf [64]byte
	n := 0
	for n < keyLength {
		if _, err := rand.Read(buf[:]); err != nil {
			// crypto/rand.Read never returns an error on supported platforms
			// (Go 1.24+ crashes the program instead), so this is unreachable.
			panic("session: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 252 = 7*36: values at or above it would bias the alphabet.
			if b >= 252 {
				continue
			}
			out[n] = keyAlphabet[b%36]
			n++
			if n == keyLength {
				break
			}
		}
	}
	return string(out[:])
}

// ValidKey reports whether key has the shape of a session key: 8 to 40
// characters from [a-z0-9]. Django accepts any key of 8 characters or more
// and its column holds 40; this package also rejects every character that
// Django never generates, so a cookie can never smuggle odd bytes into a
// store query or a log line.
func ValidKey(key string) bool {
	if len(key) < 8 || len(key) > 40 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// KeyHash returns a short, non-reversible tag for key, for log lines: logs
// must never carry a usable session key.
func KeyHash(key string) string {
	if key == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}
