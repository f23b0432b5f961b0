package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
)

func TestNewSessionFlags(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if s.Modified() || s.Accessed() {
		t.Fatalf("new session: modified=%v accessed=%v, want false false", s.Modified(), s.Accessed())
	}
	if !s.IsEmpty() {
		t.Fatal("new session is not empty")
	}
	if got := s.Get("missing", nil); got != nil {
		t.Fatalf("Get(missing) = %v, want nil", got)
	}
	if got := s.Get("missing", "dflt"); got != "dflt" {
		t.Fatalf("Get(missing, dflt) = %v", got)
	}
	if !s.Accessed() || s.Modified() {
		t.Fatalf("after Get: accessed=%v modified=%v, want true false", s.Accessed(), s.Modified())
	}
}

func TestSetPopDelete(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	s.Set("some key", 1)
	if !s.Modified() {
		t.Fatal("Set did not mark modified")
	}
	if got := s.Pop("some key", nil); got != json.Number("1") {
		t.Fatalf("Pop = %#v, want json.Number(1)", got)
	}
	if s.Has("some key") {
		t.Fatal("key still present after Pop")
	}

	s = v.m.Open(context.Background(), "")
	if got := s.Pop("nope", "dflt"); got != "dflt" {
		t.Fatalf("Pop(missing, dflt) = %v", got)
	}
	if !s.Accessed() || s.Modified() {
		t.Fatalf("Pop(missing): accessed=%v modified=%v, want true false", s.Accessed(), s.Modified())
	}
	s.Delete("nope")
	if s.Modified() {
		t.Fatal("Delete of a missing key marked the session modified")
	}
	s.Set("a", "b")
	s.Delete("a")
	if s.Has("a") || s.Len() != 0 {
		t.Fatalf("after Delete: Has=%v Len=%d", s.Has("a"), s.Len())
	}
}

func TestSetDefaultAndUpdate(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if got := s.SetDefault("foo", "bar"); got != "bar" {
		t.Fatalf("SetDefault = %v, want bar", got)
	}
	if got := s.SetDefault("foo", "baz"); got != "bar" {
		t.Fatalf("second SetDefault = %v, want bar", got)
	}
	if !s.Accessed() || !s.Modified() {
		t.Fatal("SetDefault did not mark accessed and modified")
	}

	s = v.m.Open(context.Background(), "")
	s.Update(map[string]any{})
	if !s.Modified() {
		t.Fatal("Update({}) did not mark modified (Django marks it)")
	}
	s.Update(map[string]any{"x": 1, "y": "z"})
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Fatalf("Keys = %v", got)
	}
	items := s.Items()
	if len(items) != 2 || items["y"] != "z" {
		t.Fatalf("Items = %v", items)
	}
	items["y"] = "changed"
	if s.GetString("y", "") != "z" {
		t.Fatal("Items returned the live map, not a copy")
	}
}

func TestHasDoesNotModify(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if s.Has("some key") {
		t.Fatal("Has on empty session")
	}
	if !s.Accessed() || s.Modified() {
		t.Fatalf("Has: accessed=%v modified=%v", s.Accessed(), s.Modified())
	}
}

func TestTypedGettersRoundTrip(t *testing.T) {
	v := newEnv(t)
	type prefs struct {
		Theme string   `json:"theme"`
		Tags  []string `json:"tags"`
	}
	when := time.Date(2030, 1, 2, 3, 4, 5, 600000000, time.UTC)
	key := v.newStored(map[string]any{
		"int":   42,
		"big":   uint64(math.MaxUint64),
		"float": 2.5,
		"whole": 3.0,
		"bool":  true,
		"str":   "héllo <b>&</b>",
		"time":  when,
		"prefs": prefs{Theme: "dark", Tags: []string{"a", "b"}},
		"null":  nil,
	})
	s := v.m.Open(context.Background(), key) // a fresh load from the store
	if got := s.GetInt("int", -1); got != 42 {
		t.Errorf("GetInt(int) = %d, want 42", got)
	}
	if got := s.Get("int", nil); got != json.Number("42") {
		t.Errorf("Get(int) = %#v, want json.Number 42", got)
	}
	if got := s.GetInt("big", -1); got != -1 {
		t.Errorf("GetInt(big) = %d, want default -1 (does not fit)", got)
	}
	if got, ok := session.Get[uint64](s, "big"); !ok || got != math.MaxUint64 {
		t.Errorf("Get[uint64](big) = %d, %v", got, ok)
	}
	if got := s.GetFloat("float", 0); got != 2.5 {
		t.Errorf("GetFloat = %v", got)
	}
	if got := s.Get("whole", nil); got != json.Number("3.0") {
		t.Errorf("Get(whole) = %#v, want json.Number 3.0 (a float stays a float)", got)
	}
	if got := s.GetInt("float", -1); got != -1 {
		t.Errorf("GetInt(2.5) = %d, want default", got)
	}
	if got := s.GetBool("bool", false); !got {
		t.Error("GetBool = false")
	}
	if got := s.GetString("str", ""); got != "héllo <b>&</b>" {
		t.Errorf("GetString = %q", got)
	}
	if got := s.GetString("int", "dflt"); got != "dflt" {
		t.Errorf("GetString on an int = %q, want default", got)
	}
	if got := s.GetTime("time", time.Time{}); !got.Equal(when) {
		t.Errorf("GetTime = %v, want %v", got, when)
	}
	if got, ok := session.Get[prefs](s, "prefs"); !ok || got.Theme != "dark" || !reflect.DeepEqual(got.Tags, []string{"a", "b"}) {
		t.Errorf("Get[prefs] = %+v, %v", got, ok)
	}
	if _, ok := session.Get[int](s, "str"); ok {
		t.Error("Get[int] on a string succeeded")
	}
	if got, ok := s.Lookup("null"); !ok || got != nil {
		t.Errorf("Lookup(null) = %v, %v, want nil, true", got, ok)
	}
}

func TestIncr(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if got := s.Incr("n", 1); got != 1 {
		t.Fatalf("Incr on missing = %d", got)
	}
	if got := s.Incr("n", 41); got != 42 {
		t.Fatalf("Incr = %d", got)
	}
	s.Set("s", "text")
	if got := s.Incr("s", 2); got != 2 {
		t.Fatalf("Incr on a string = %d, want 2 (counts as 0)", got)
	}
	s.Set("max", int64(math.MaxInt64))
	if got := s.Incr("max", 1); got != math.MaxInt64 {
		t.Fatalf("Incr saturating = %d", got)
	}
}

func TestNonJSONValueBlocksSave(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	s.Set("ok", 1)
	s.Set("bad", make(chan int))
	s.Set("nan", math.NaN())
	if err := s.Err(); !errors.Is(err, session.ErrValue) {
		t.Fatalf("Err = %v, want ErrValue", err)
	}
	if err := s.Save(); !errors.Is(err, session.ErrValue) {
		t.Fatalf("Save = %v, want ErrValue", err)
	}
	if v.mem.Len() != 0 {
		t.Fatal("a session with a non-JSON value was stored")
	}
}

func TestClearKeepsKey(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"a": 1})
	s := v.m.Open(context.Background(), key)
	s.Clear()
	if !s.Accessed() || !s.Modified() || s.Len() != 0 {
		t.Fatalf("Clear: accessed=%v modified=%v len=%d", s.Accessed(), s.Modified(), s.Len())
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if s.Key() != key {
		t.Fatalf("key changed by Clear: %q -> %q", key, s.Key())
	}
	if got := v.stored(key); got == nil || len(got) != 0 {
		t.Fatalf("stored after Clear = %v, want an empty record", got)
	}
}

func TestSaveKeepsData(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	s.Set("x", 10)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got := s.GetInt("x", 0); got != 10 {
		t.Fatalf("after Save x = %d", got)
	}
	if got := v.stored(s.Key()); got["x"] != json.Number("10") {
		t.Fatalf("stored = %v", got)
	}
}

func TestFlush(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"user": "ann"})
	s := v.m.Open(context.Background(), key)
	s.Flush()
	if s.Key() != "" || !s.Modified() || !s.Accessed() || s.Len() != 0 {
		t.Fatalf("after Flush: key=%q modified=%v accessed=%v len=%d", s.Key(), s.Modified(), s.Accessed(), s.Len())
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if v.stored(key) != nil {
		t.Fatal("old record survives Flush")
	}
	if v.mem.Len() != 0 {
		t.Fatalf("Flush stored a new (empty) record: %d records", v.mem.Len())
	}
	// Data set after a flush goes to a brand new key.
	s = v.m.Open(context.Background(), v.newStored(map[string]any{"a": 1}))
	old := s.Key()
	s.Flush()
	s.Set("b", 2)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if s.Key() == "" || s.Key() == old || v.stored(old) != nil {
		t.Fatalf("flush then set: key %q (old %q), old stored %v", s.Key(), old, v.stored(old))
	}
	if got := v.stored(s.Key()); len(got) != 1 || got["b"] != json.Number("2") {
		t.Fatalf("new record = %v", got)
	}
}

func TestCycleKey(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"a": "c"})
	s := v.m.Open(context.Background(), key) // not loaded yet: CycleKey must load
	s.CycleKey()
	if s.Key() == key || !session.ValidKey(s.Key()) {
		t.Fatalf("CycleKey: key %q (old %q)", s.Key(), key)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if v.stored(key) != nil {
		t.Fatal("old record survives CycleKey")
	}
	if got := v.stored(s.Key()); !reflect.DeepEqual(got, map[string]any{"a": "c"}) {
		t.Fatalf("data under the new key = %v", got)
	}
}

// TestCycleKeyOfANewSession: CycleKey on a session not stored yet (the
// login of a visitor without one) chooses its key at once, and the save
// creates the record under that key; a session left empty stores nothing.
func TestCycleKeyOfANewSession(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	s.CycleKey()
	key := s.Key()
	if !session.ValidKey(key) || len(key) != 32 {
		t.Fatalf("Key after CycleKey of a new session = %q, want a fresh key", key)
	}
	s.Set("user", "ann")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if s.Key() != key || v.stored(key)["user"] != "ann" {
		t.Fatalf("saved under %q, stored %v; want the key chosen by CycleKey, %q", s.Key(), v.stored(key), key)
	}

	empty := v.m.Open(context.Background(), "")
	empty.CycleKey()
	if err := empty.Save(); err != nil {
		t.Fatal(err)
	}
	if empty.Key() != "" {
		t.Fatalf("an empty session kept the key %q after its save: an empty session is never stored", empty.Key())
	}

	// Through the middleware: the cookie carries the key chosen at once;
	// a session left empty sends no cookie.
	v.handle("/cycle-only", func(c echo.Context, s *session.Session) error {
		s.CycleKey()
		return c.NoContent(http.StatusOK)
	})
	if rec := v.do("/cycle-only", ""); setCookieHeader(rec) != "" {
		t.Fatalf("an empty session cycled got a cookie: %q", setCookieHeader(rec))
	}
	var chosen string
	v.handle("/login", func(c echo.Context, s *session.Session) error {
		s.CycleKey()
		chosen = s.Key()
		s.Set("user", "bob")
		return c.NoContent(http.StatusOK)
	})
	rec := v.do("/login", "")
	if ck := sessionCookie(rec); ck == nil || ck.Value != chosen || chosen == "" {
		t.Fatalf("cookie %v, key seen in the handler %q", ck, chosen)
	}
}

func TestCycleKeyMergesConcurrentChange(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"visits": 1})
	login := v.m.Open(context.Background(), key)
	login.CycleKey()
	login.Set("username", "ann")
	// Another tab increments the old session before the login saves.
	other := v.m.Open(context.Background(), key)
	other.Incr("visits", 1)
	if err := other.Save(); err != nil {
		t.Fatal(err)
	}
	if err := login.Save(); err != nil {
		t.Fatal(err)
	}
	got := v.stored(login.Key())
	if got["visits"] != json.Number("2") || got["username"] != "ann" {
		t.Fatalf("after cycle: %v, want visits 2 and username ann", got)
	}
	if v.stored(key) != nil {
		t.Fatal("old record survives")
	}
}

func TestInvalidKeyNeverAdopted(t *testing.T) {
	v := newEnv(t)
	for _, key := range []string{"", "1", "abcdefg", "ABCDEFGHIJKLMNOP", "abcdefgh'; DROP TABLE x;--", strings.Repeat("a", 41), "unknownkeyunknownkeyunknownkey12"} {
		s := v.m.Open(context.Background(), key)
		s.Set("x", 1)
		if err := s.Save(); err != nil {
			t.Fatalf("Save for key %q: %v", key, err)
		}
		if s.Key() == key || !session.ValidKey(s.Key()) || len(s.Key()) != 32 {
			t.Fatalf("key %q: saved under %q", key, s.Key())
		}
	}
}

func TestKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		k := session.NewKey()
		if len(k) != 32 || !session.ValidKey(k) || seen[k] {
			t.Fatalf("NewKey() = %q (dup=%v)", k, seen[k])
		}
		seen[k] = true
	}
	if session.ValidKey("abcdefg") || !session.ValidKey("abcdefgh") || session.ValidKey("abcdefgH") || session.ValidKey("abcdéfgh") {
		t.Fatal("ValidKey length/alphabet rules broken")
	}
	if h := session.KeyHash("abcdefgh"); strings.Contains(h, "abcdefgh") || len(h) != 12 {
		t.Fatalf("KeyHash = %q", h)
	}
}

func TestExpiry(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if got := s.ExpiryAge(); got != 1209600 {
		t.Fatalf("default ExpiryAge = %d", got)
	}
	now := v.clock.Now()
	s.SetExpiry(10)
	if got := s.ExpiryAge(); got != 10 {
		t.Errorf("SetExpiry(10): age %d", got)
	}
	if got := s.ExpiryDate(); !got.Equal(now.Add(10 * time.Second)) {
		t.Errorf("SetExpiry(10): date %v", got)
	}
	s.SetExpiryAt(now.Add(10 * time.Second))
	if got := s.ExpiryAge(); got != 10 {
		t.Errorf("SetExpiryAt(+10s): age %d", got)
	}
	s.SetExpiryAt(now.Add(299900 * time.Millisecond))
	if got := s.ExpiryAge(); got != 299 {
		t.Errorf("SetExpiryAt(+299.9s): age %d, want 299 (floor, like Django)", got)
	}
	s.SetExpiryAt(now.Add(-500 * time.Millisecond))
	if got := s.ExpiryAge(); got != -1 {
		t.Errorf("SetExpiryAt(-0.5s): age %d, want -1", got)
	}
	s.SetExpiry(0)
	if got := s.ExpiryAge(); got != 1209600 {
		t.Errorf("SetExpiry(0): age %d, want the cookie age", got)
	}
	s.ResetExpiry()
	if got := s.ExpiryAge(); got != 1209600 || s.Has("_session_expiry") {
		t.Errorf("ResetExpiry: age %d", got)
	}
}

func TestExpireAtBrowserCloseTruthTable(t *testing.T) {
	for _, setting := range []bool{false, true} {
		v := newEnv(t, func(c *session.Config) { c.ExpireAtBrowserClose = setting })
		s := v.m.Open(context.Background(), "")
		s.SetExpiry(10)
		if s.ExpireAtBrowserClose() {
			t.Errorf("setting %v, SetExpiry(10): true", setting)
		}
		s.SetExpiry(0)
		if !s.ExpireAtBrowserClose() {
			t.Errorf("setting %v, SetExpiry(0): false", setting)
		}
		s.ResetExpiry()
		if s.ExpireAtBrowserClose() != setting {
			t.Errorf("setting %v, ResetExpiry: %v", setting, !setting)
		}
	}
}

func TestExpiredSessionLoadsEmpty(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	s.Set("a", 1)
	s.SetExpiry(60)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	key := s.Key()
	v.clock.Advance(59 * time.Second)
	if got := v.m.Open(context.Background(), key).GetInt("a", 0); got != 1 {
		t.Fatalf("before expiry a = %d", got)
	}
	v.clock.Advance(time.Second)
	s = v.m.Open(context.Background(), key)
	if s.Len() != 0 || s.Key() != "" {
		t.Fatalf("expired session: len %d key %q, want empty and no key", s.Len(), s.Key())
	}
}

func TestTamperedDataLoadsEmpty(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"user": "ann"})
	rec, err := v.mem.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"flipped":   strings.Replace(rec.Data, "e", "f", 1),
		"truncated": rec.Data[:len(rec.Data)/2],
		"garbage":   "not a session at all",
		"empty":     "",
		"other key": signing.NewSigner("another secret", nil, session.SessionSalt).Sign("eyJ1c2VyIjoiZXZlIn0:1r31eq"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := v.mem.Update(context.Background(), session.Record{Key: key, Data: data, Expires: rec.Expires}, mustLoad(t, v, key).Data); err != nil {
				t.Fatal(err)
			}
			v.logs.Reset()
			s := v.m.Open(context.Background(), key)
			if s.Len() != 0 || s.Err() != nil {
				t.Fatalf("tampered session: len %d err %v", s.Len(), s.Err())
			}
			if !strings.Contains(v.logs.String(), "session data corrupted") {
				t.Fatalf("no warning logged: %q", v.logs.String())
			}
			// The key is kept: a later write replaces the bad data.
			s.Set("user", "bob")
			if err := s.Save(); err != nil || s.Key() != key {
				t.Fatalf("Save: %v, key %q", err, s.Key())
			}
			if got := v.stored(key); got["user"] != "bob" {
				t.Fatalf("stored = %v", got)
			}
		})
	}
}

func mustLoad(t *testing.T, v *env, key string) session.Record {
	t.Helper()
	rec, err := v.mem.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestNoResurrection(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"user": "ann"})
	slow := v.m.Open(context.Background(), key)
	slow.Set("cart", 3) // loaded before the logout
	logout := v.m.Open(context.Background(), key)
	logout.Flush()
	if err := logout.Save(); err != nil {
		t.Fatal(err)
	}
	if err := slow.Save(); !errors.Is(err, session.ErrInterrupted) {
		t.Fatalf("Save after concurrent delete = %v, want ErrInterrupted", err)
	}
	if v.mem.Len() != 0 {
		t.Fatal("the deleted session came back")
	}
}

func TestConcurrentIncrementsAndKeys(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"visits": 0})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := v.m.Open(context.Background(), key)
			s.Incr("visits", 1)
			if i%2 == 0 {
				s.Set("even", i)
			} else {
				s.Set("odd", i)
			}
			errs <- s.Save()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := v.stored(key)
	if got["visits"] != json.Number("200") {
		t.Fatalf("visits = %v after %d concurrent increments (lost %v)", got["visits"], n, got["visits"])
	}
	if _, ok := got["even"]; !ok {
		t.Fatal("a concurrent change to another key was lost")
	}
	if _, ok := got["odd"]; !ok {
		t.Fatal("a concurrent change to another key was lost")
	}
}

func TestConfigValidation(t *testing.T) {
	cfg := session.DefaultConfig()
	if _, err := session.New(cfg); err == nil {
		t.Fatal("New without a store succeeded")
	}
	v := newEnv(t)
	cfg.Store = v.mem
	if _, err := session.New(cfg); err == nil {
		t.Fatal("New without a secret succeeded")
	}
	cfg.SecretKey = "s"
	for name, f := range map[string]func(*session.Config){
		"cookie name": func(c *session.Config) { c.CookieName = "bad name" },
		"age":         func(c *session.Config) { c.CookieAge = time.Millisecond },
		"samesite":    func(c *session.Config) { c.CookieSameSite = 9 },
	} {
		c := cfg
		f(&c)
		if _, err := session.New(c); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
	if _, err := session.New(cfg); err != nil {
		t.Fatal(err)
	}
}

func TestDecodedCacheIsolatesRequests(t *testing.T) {
	v := newEnv(t, func(c *session.Config) { c.DecodedCacheSize = 10 })
	key := v.newStored(map[string]any{"prefs": map[string]any{"theme": "dark", "tags": []any{"a"}}})
	for range 2 {
		s := v.m.Open(context.Background(), key)
		prefs := s.Get("prefs", nil).(map[string]any)
		if prefs["theme"] != "dark" || len(prefs["tags"].([]any)) != 1 {
			t.Fatalf("prefs = %v: a request saw another request's unsaved change", prefs)
		}
		prefs["theme"] = "light" // changed in place, never saved
		prefs["tags"].([]any)[0] = "z"
	}
	// A changed record is decoded again, not served from memory.
	s := v.m.Open(context.Background(), key)
	s.Set("prefs", "replaced")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	rec := mustLoad(t, v, key)
	other := v.m.Open(context.Background(), key)
	if got := other.GetString("prefs", ""); got != "replaced" {
		t.Fatalf("after a save: prefs = %q", got)
	}
	if err := v.mem.Update(context.Background(), session.Record{Key: key, Data: "tampered", Expires: rec.Expires}, rec.Data); err != nil {
		t.Fatal(err)
	}
	if n := v.m.Open(context.Background(), key).Len(); n != 0 {
		t.Fatalf("tampered record served from the decoded cache: %d keys", n)
	}
}

// Django's test_test_cookie: absent, set, worked, deleted.
func TestTestCookie(t *testing.T) {
	v := newEnv(t)
	s := v.m.Open(context.Background(), "")
	if s.TestCookieWorked() {
		t.Fatal("TestCookieWorked on a fresh session")
	}
	s.SetTestCookie()
	if !s.TestCookieWorked() {
		t.Fatal("TestCookieWorked after SetTestCookie = false")
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	again := v.m.Open(context.Background(), s.Key())
	if !again.TestCookieWorked() {
		t.Fatal("the test cookie did not survive a save and load")
	}
	again.DeleteTestCookie()
	if again.TestCookieWorked() || again.Has("testcookie") {
		t.Fatal("the test cookie is still there after DeleteTestCookie")
	}
	again.DeleteTestCookie() // absent: no panic, no error
}

func TestCookieAge(t *testing.T) {
	v := newEnv(t, func(c *session.Config) { c.CookieAge = 86400 * time.Second })
	s := v.m.Open(context.Background(), "")
	if got := s.CookieAge(); got != 86400 {
		t.Fatalf("CookieAge() = %d, want 86400", got)
	}
	s.SetExpiry(60)
	if got := s.CookieAge(); got != 86400 {
		t.Fatalf("CookieAge() after SetExpiry(60) = %d, want 86400 (the setting, not the session's expiry)", got)
	}
}

// TestMarkModified: a value changed in place and marked is saved, and two
// concurrent requests that each change a different key in place keep
// both changes (the mark is per key, not a whole-session flag).
func TestMarkModified(t *testing.T) {
	v := newEnv(t)
	key := v.newStored(map[string]any{"cart": []any{"apples"}, "prefs": map[string]any{"theme": "light"}})

	cartReq := v.m.Open(context.Background(), key)
	prefsReq := v.m.Open(context.Background(), key)
	cart := cartReq.Get("cart", nil).([]any)
	prefs := prefsReq.Get("prefs", nil).(map[string]any)

	cartReq.Set("cart", append(cart, "pears")) // a plain Set, for comparison
	cart2 := cartReq.Get("cart", nil).([]any)
	cart2[0] = "figs" // in place, then marked
	cartReq.MarkModified("cart")
	prefs["theme"] = "dark"
	prefs["size"] = 3
	prefsReq.MarkModified("prefs")
	if !prefsReq.Modified() {
		t.Fatal("MarkModified did not mark the session modified")
	}
	// Reads in the same request see the change, as the session holds it.
	if got := prefsReq.Get("prefs", nil).(map[string]any)["size"]; got != jsonNumber(3) {
		t.Fatalf("prefs[size] read back in the request = %#v", got)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, s := range []*session.Session{cartReq, prefsReq} {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Save() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := v.stored(key)
	want := map[string]any{
		"cart":  []any{"figs", "pears"},
		"prefs": map[string]any{"theme": "dark", "size": jsonNumber(3)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %v, want %v (a concurrent in-place change was lost)", got, want)
	}

	// A change made after the mark is not saved unless marked again.
	s := v.m.Open(context.Background(), key)
	p := s.Get("prefs", nil).(map[string]any)
	p["theme"] = "blue"
	s.MarkModified("prefs")
	p["theme"] = "green"
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got := v.stored(key)["prefs"].(map[string]any)["theme"]; got != "blue" {
		t.Fatalf("theme = %v, want the value at MarkModified, blue", got)
	}

	// A missing key records nothing; a value JSON cannot hold is an error.
	s = v.m.Open(context.Background(), key)
	s.MarkModified("absent")
	if s.Modified() {
		t.Fatal("MarkModified of a missing key marked the session modified")
	}
	p = s.Get("prefs", nil).(map[string]any)
	p["bad"] = nan()
	s.MarkModified("prefs")
	if err := s.Err(); !errors.Is(err, session.ErrValue) {
		t.Fatalf("Err after marking a NaN = %v, want ErrValue", err)
	}
}
