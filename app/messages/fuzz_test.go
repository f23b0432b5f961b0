package messages

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzCookie feeds arbitrary Cookie headers to the reading of the
// messages cookie: it must never panic, and what it accepts must come
// back the same after the middleware writes it again.
func FuzzCookie(f *testing.F) {
	m, err := New(Config{SecretKey: "fuzz-secret"})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := m.fitCookie([]Message{{Level: Info, Text: "Saved."}, {Level: Error, Text: "café \"x\"", ExtraTags: "a b"}})
	for _, seed := range []string{
		"", "messages=", "messages=" + good, "messages=\"" + good + "\"", `messages="\054\"\\"`, "messages=a:b:c",
		"a=1; messages=x; messages=" + good, `messages="[[\"__json_message\"\0540\05420\054\"x\"]]:1:x"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", header)
		raw, ok := cookieValue(r, CookieName)
		if !ok {
			return
		}
		msgs, _, err := m.decodeCookie(raw)
		if err != nil {
			return
		}
		again, rest := m.fitCookie(msgs)
		back, _, err := m.decodeCookie(again)
		if err != nil {
			t.Fatalf("Go's own cookie of %v does not read back: %v", msgs, err)
		}
		if len(rest) > 0 {
			return // the rest would be in the session
		}
		if !same(back, msgs) {
			t.Fatalf("read %v, written and read again %v", msgs, back)
		}
	})
}

// FuzzSignedPayload signs arbitrary JSON correctly, so that the fuzzer
// reaches the decoding of the messages behind the signature.
func FuzzSignedPayload(f *testing.F) {
	m, err := New(Config{SecretKey: "fuzz-secret"})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`[["__json_message",0,20,"x"]]`, `[["__json_message",1,40,"x","t"],"__messagesnotfinished__"]`,
		`[["__json_message",0,"20","x"]]`, `[["__json_message",0,20.5,"x"]]`, `[["__json_message",0,20,5]]`,
		`[["__json_message",0,20,"x",null]]`, `["__messagesnotfinished__"]`, `[]`, `{}`, `[[]]`, `null`,
		`[["__json_message",0,99999999999999999999,"x"]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		value := m.signer.SignBytes(payload, time.Unix(1700000000, 0))
		msgs, _, err := m.decodeCookie(value)
		if err != nil {
			return
		}
		if _, err := decodeSession(m.encodeSession(msgs)); err != nil {
			t.Fatalf("read %v from %q, but its session form does not read back: %v", msgs, payload, err)
		}
	})
}
