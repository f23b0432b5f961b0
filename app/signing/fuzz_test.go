package signing_test

import (
	"encoding/base64"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/signing"
)

// fuzzSecret signed the valid seeds.
const fuzzSecret = "django-insecure-test-key"

var fuzzSeeds = []string{
	"",
	":",
	"::",
	"e30:1r31eq:sw4BObxzkSltHfA2RpvFt_J3Nn_GqBioB9rTbTJm1kQ",
	"eyJmb28iOiJiYXIifQ:1r31eq:7WGwVzzEufhFT5dQ4R-DkAywyDU4c6pTxIp-PC5ck1c",
	".eJwNy7kNgDAURMFeHL_Auz6-TSuIApDIIEP0jtOR5k3XeT9p2zPCFCqNTjCYaKGQUUEVNdRRoIEmzngd44IrbrjjwAPP4_sBe8cS7A:1r31eq:sjUBwQKMfEAhcTyBBXN10e0TRIvgmtXCUqPNV8P0WiU",
	"bad:encoded:value",
	"Zmxhc2tkajphbGtkamY=",
}

// FuzzLoads feeds arbitrary signed data to the decoder: it must never
// panic, and whatever it accepts must survive an encode/decode round trip.
func FuzzLoads(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	signer := signing.NewTimestampSigner(fuzzSecret, nil, sessionSalt)
	f.Fuzz(func(t *testing.T, raw string) {
		data, err := signer.Loads(raw)
		if err != nil {
			if !errors.Is(err, signing.ErrBadSignature) && !errors.Is(err, signing.ErrMalformed) {
				t.Fatalf("Loads(%q) error %v wraps neither sentinel", raw, err)
			}
			return
		}
		roundTrip(t, signer, data)
	})
}

// FuzzSignedPayload signs arbitrary payload bytes correctly, so the fuzzer
// reaches the base64, zlib and JSON decoding behind the signature check.
func FuzzSignedPayload(f *testing.F) {
	f.Add([]byte(`{"foo":"bar"}`), false)
	f.Add([]byte(`{"a":[1,2,{"b":null}],"n":123456789012345678901234567890}`), false)
	f.Add([]byte("x\x9c\xab\xae\x05\x00\x01u\x00\xf9"), true) // zlib of {}
	f.Add([]byte(`[1,2]`), false)
	f.Add([]byte(`{"a":1}{"b":2}`), false)
	signer := signing.NewTimestampSigner(fuzzSecret, nil, sessionSalt)
	f.Fuzz(func(t *testing.T, payload []byte, compressed bool) {
		value := base64.RawURLEncoding.EncodeToString(payload) + ":1r31eq"
		if compressed {
			value = "." + value
		}
		data, err := signer.Loads(signing.NewSigner(fuzzSecret, nil, sessionSalt).Sign(value))
		if err != nil {
			if !errors.Is(err, signing.ErrMalformed) {
				t.Fatalf("correctly signed payload %q: error %v is not ErrMalformed", payload, err)
			}
			return
		}
		roundTrip(t, signer, data)
	})
}

func roundTrip(t *testing.T, signer *signing.TimestampSigner, data map[string]any) {
	t.Helper()
	enc, err := signer.Dumps(data, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatalf("Dumps of decoded data %v: %v", data, err)
	}
	again, err := signer.Loads(enc)
	if err != nil {
		t.Fatalf("Loads(Dumps(%v)): %v", data, err)
	}
	if !reflect.DeepEqual(again, data) {
		t.Fatalf("round trip changed data: %v -> %v", data, again)
	}
}
