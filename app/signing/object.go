package signing

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	kzlib "github.com/klauspost/compress/zlib"
)

// MarshalJSON returns v as JSON the way Django's JSONSerializer writes it
// (Python's json.dumps with separators=(",", ":")): compact, <, > and &
// left alone, and every byte outside printable ASCII escaped. The escaping
// matters for more than looks: Django decodes the JSON bytes as latin-1,
// so raw UTF-8 would load in Django as mojibake ("café" as "cafÃ©").
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python's json.dumps leaves <, > and & alone
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("signing: encode json: %w", err)
	}
	return asciiJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// asciiJSON escapes every byte of data outside printable ASCII (non-ASCII
// runes as \uXXXX, surrogate pairs above U+FFFF, and DEL), as Python's
// json.dumps does by default (ensure_ascii). Such bytes occur only inside
// JSON strings, where the escape means the same character.
func asciiJSON(data []byte) []byte {
	i := bytes.IndexFunc(data, func(r rune) bool { return r >= 0x7f })
	if i < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+len(data)/2)
	out = append(out, data[:i]...)
	for _, r := range string(data[i:]) {
		switch {
		case r < 0x7f:
			out = append(out, byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, "\\u%04x\\u%04x", r1, r2)
		default:
			out = fmt.Appendf(out, "\\u%04x", r)
		}
	}
	return out
}

// encodePayload is the value sign_object signs: data in base64, zlib
// compressed behind a "." when that makes it at least 2 bytes shorter.
func (r *keyring) encodePayload(data []byte) string {
	prefix := ""
	var zbuf bytes.Buffer
	if r.compress(&zbuf, data) && zbuf.Len() < len(data)-1 {
		data = zbuf.Bytes()
		prefix = "."
	}
	var b strings.Builder
	b.Grow(len(prefix) + base64.RawURLEncoding.EncodedLen(len(data)) + 52)
	b.WriteString(prefix)
	b.WriteString(base64.RawURLEncoding.EncodeToString(data))
	return b.String()
}

// minCompressible is the shortest payload that compression can shorten
// enough for Django's rule (at least 2 bytes shorter): a zlib stream is 6
// bytes of header and checksum around a deflate stream, and a deflate
// stream holds at least a block header (3 bits), the first byte as a
// literal (8 bits at least) and the end-of-block code (7 bits), 3 bytes
// in all. 9 bytes can only beat a payload of 11 or more.
const minCompressible = 11

// compress writes data to zbuf as a zlib stream and reports whether it
// tried. Like Django's zlib.compress it may or may not come out shorter;
// the caller keeps it only when it does, as Django does. Django reads any
// zlib stream, so the compressor is this side's choice: klauspost's at
// BestSpeed, whose writer resets in nanoseconds (the standard library's
// default level clears some 600 KB of hash chains for every value signed)
// and which settles a payload of a few dozen bytes, as most sessions are,
// for half the work of compress/flate's BestSpeed (a cheap entropy
// estimate instead of building Huffman codes that a stored block then
// beats). Measured in the session package's BenchmarkCodec and the load
// benchmark.
func (r *keyring) compress(zbuf *bytes.Buffer, data []byte) bool {
	if len(data) < minCompressible {
		return false
	}
	zw, _ := r.zpool.Get().(*kzlib.Writer)
	if zw == nil {
		zw, _ = kzlib.NewWriterLevel(zbuf, kzlib.BestSpeed) // a valid level: no error
	} else {
		zw.Reset(zbuf)
	}
	zw.Write(data)
	zw.Close()
	r.zpool.Put(zw)
	return true
}

// decodePayload decodes the [.]base64 value of sign_object, refusing a
// payload over maxSize bytes.
func (r *keyring) decodePayload(payload string, maxSize int) ([]byte, error) {
	compressed := strings.HasPrefix(payload, ".")
	if compressed {
		payload = payload[1:]
	}
	// Django re-pads and decodes with urlsafe_b64decode, which tolerates
	// padding; accept it too.
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrMalformed, err)
	}
	if compressed {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, int64(maxSize)+1))
		if err != nil {
			return nil, fmt.Errorf("%w: zlib: %v", ErrMalformed, err)
		}
	}
	if len(data) > maxSize {
		return nil, fmt.Errorf("%w: payload over %d bytes", ErrMalformed, maxSize)
	}
	return data, nil
}

// unmarshalJSON decodes exactly one JSON value from data into v, numbers
// in interface values as json.Number. Python writes ASCII JSON (non-ASCII
// escaped) as latin-1 bytes, so UTF-8 decoding is equivalent.
func unmarshalJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// decodeObject decodes a JSON object, numbers as json.Number; the error
// wraps ErrMalformed.
func decodeObject(data []byte) (map[string]any, error) {
	var m map[string]any
	err := unmarshalJSON(data, &m)
	if err == nil && m == nil {
		err = errors.New("JSON value is not an object")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return m, nil
}
