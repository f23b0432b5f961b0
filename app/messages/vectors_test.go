package messages

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// The golden vectors: what the real Django of each release wrote for the
// messages of each case (testdata/django/vectors.py generate, one file
// per release). The tests decide the bytes by them.

type djangoVectors struct {
	DjangoVersion string `json:"django_version"`
	Secret        string `json:"secret"`
	Timestamp     int64  `json:"timestamp"`
	MaxCookieSize int    `json:"max_cookie_size"`
	Vectors       []struct {
		Name          string  `json:"name"`
		Messages      [][]any `json:"messages"` // [level, text, extra_tags]
		Cookie        string  `json:"cookie"`   // CookieStorage._encode of all
		Compressed    bool    `json:"compressed"`
		Session       string  `json:"session"`       // SessionStorage's value of all
		StoredCookie  *string `json:"stored_cookie"` // FallbackStorage's cookie
		StoredHeader  *string `json:"stored_cookie_header"`
		StoredSession *string `json:"stored_session"` // and its session value
	} `json:"vectors"`
	Legacy struct {
		Messages [][]any `json:"messages"`
		Cookie   string  `json:"cookie"`
		Quoted   string  `json:"quoted"`
		Read     bool    `json:"read_by_this_django"`
	} `json:"legacy"`
}

// vectorFiles are the releases whose vectors are committed: those of the
// Django matrix (internal/djangotest), for which TestDjangoReadsGo loads
// them too. Vectors are made by one point release of each; the format
// does not change within a release series.
var vectorFiles = []string{"3.2", "4.2", "5.2"}

func loadVectors(t *testing.T, series string) djangoVectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "django", "vectors-"+series+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v djangoVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v.DjangoVersion, series+".") || len(v.Vectors) == 0 {
		t.Fatalf("vectors-%s.json: Django %s, %d vectors", series, v.DjangoVersion, len(v.Vectors))
	}
	return v
}

// want turns the vectors' [level, text, extra_tags] into Messages, those
// below minLevel left out (Django's add drops them).
func want(items [][]any, minLevel Level) []Message {
	var out []Message
	for _, it := range items {
		m := Message{Level: Level(it[0].(float64)), Text: it[1].(string), ExtraTags: it[2].(string)}
		if m.Level >= minLevel {
			out = append(out, m)
		}
	}
	return out
}

// same compares messages by what a page sees: level, text, tags, safety.
func same(got, want []Message) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Level != want[i].Level || got[i].Text != want[i].Text || got[i].ExtraTags != want[i].ExtraTags || got[i].Safe != want[i].Safe {
			return false
		}
	}
	return true
}

func newVectorManager(t *testing.T, v djangoVectors, series string) *Manager {
	t.Helper()
	m, err := New(Config{
		SecretKey:     v.Secret,
		DjangoVersion: series,
		Now:           func() time.Time { return time.Unix(v.Timestamp, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDjangoVectors: for each release, Go reads every cookie and session
// value Django wrote, writes the same bytes Django writes where no zlib
// stream is involved (the cookie of a message list too short to compress,
// and every session value), and splits a list too large for the cookie
// where Django splits it.
func TestDjangoVectors(t *testing.T) {
	for _, series := range vectorFiles {
		t.Run(series, func(t *testing.T) {
			v := loadVectors(t, series)
			if v.MaxCookieSize != MaxCookieSize {
				t.Fatalf("Django's max_cookie_size %d, MaxCookieSize %d", v.MaxCookieSize, MaxCookieSize)
			}
			m := newVectorManager(t, v, series)
			for _, vec := range v.Vectors {
				all := want(vec.Messages, 0)
				// Reading Django's values.
				got, finished, err := m.decodeCookie(vec.Cookie)
				if err != nil || !finished || !same(got, all) {
					t.Errorf("%s: Go read Django's cookie as %+v (all: %v, err %v), want %+v", vec.Name, got, finished, err, all)
				}
				if got, err := decodeSession(vec.Session); err != nil || !same(got, all) {
					t.Errorf("%s: Go read Django's session value as %+v (%v), want %+v", vec.Name, got, err, all)
				}
				// Writing the same bytes.
				parts := make([]string, len(all))
				for i, msg := range all {
					parts[i] = m.encodeMessage(msg, ",")
				}
				// A compressed cookie holds zlib bytes of another compressor:
				// TestDjangoReadsGo has Django read Go's instead.
				if enc := m.signParts(parts); !vec.Compressed && enc != vec.Cookie {
					t.Errorf("%s: Go's cookie\n%s\nDjango's\n%s", vec.Name, enc, vec.Cookie)
				}
				if enc := m.encodeSession(all); enc != vec.Session {
					t.Errorf("%s: Go's session value\n%s\nDjango's\n%s", vec.Name, enc, vec.Session)
				}
				testStoredLikeDjango(t, m, vec.Name, want(vec.Messages, Info), vec.Compressed, vec.StoredCookie, vec.StoredHeader, vec.StoredSession)
			}
			// Django 3.1's format, as a browser sends it back (quoted).
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", "csrftoken=abc; "+CookieName+"="+v.Legacy.Quoted+"; other=1")
			raw, ok := cookieValue(r, CookieName)
			if !ok || raw != v.Legacy.Cookie {
				t.Fatalf("the quoted legacy cookie read as %q, want %q", raw, v.Legacy.Cookie)
			}
			got, finished, err := m.decodeCookie(raw)
			if legacy := want(v.Legacy.Messages, 0); err != nil || !finished || !same(got, legacy) {
				t.Errorf("Django 3.1's format: %+v, %v; want %+v", got, err, legacy)
			}
		})
	}
}

// testStoredLikeDjango runs the middleware on the messages Django's
// FallbackStorage stored and compares what goes into the cookie and the
// session.
func testStoredLikeDjango(t *testing.T, m *Manager, name string, msgs []Message, compressed bool, djCookie, djHeader, djSession *string) {
	t.Helper()
	sm, err := session.New(session.Config{Store: memstore.New(nil), SecretKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var stored string
	h := sm.Handler(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, msg := range msgs {
			AddTags(r.Context(), msg.Level, msg.Text, msg.ExtraTags)
		}
		w.WriteHeader(http.StatusOK)
		stored, _ = session.FromContext(r.Context()).Get(SessionKey, "").(string)
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	var header, value string
	for _, line := range rec.Header().Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(line, CookieName+"="); ok {
			header = line
			value, _, _ = strings.Cut(v, ";")
		}
	}
	if djCookie == nil {
		if header != "" {
			t.Errorf("%s: Go set a messages cookie, Django none", name)
		}
		return
	}
	if !compressed && value != *djCookie {
		t.Errorf("%s: the stored cookie\n%s\nDjango's\n%s", name, value, *djCookie)
	}
	goMsgs, goFinished, err1 := m.decodeCookie(value)
	djMsgs, djFinished, err2 := m.decodeCookie(*djCookie)
	if err1 != nil || err2 != nil || goFinished != djFinished || len(goMsgs) != len(djMsgs) {
		t.Errorf("%s: Go's cookie holds %d messages (all: %v, %v), Django's %d (all: %v, %v)", name, len(goMsgs), goFinished, err1, len(djMsgs), djFinished, err2)
	}
	if attrs, djAttrs := cookieAttrs(header), cookieAttrs(*djHeader); !reflect.DeepEqual(attrs, djAttrs) {
		t.Errorf("%s: cookie attributes %v, Django's %v", name, attrs, djAttrs)
	}
	djStored := ""
	if djSession != nil {
		djStored = *djSession
	}
	if stored != djStored {
		t.Errorf("%s: the session's _messages\n%.200s\nDjango's\n%.200s", name, stored, djStored)
	}
}

// cookieAttrs are a Set-Cookie line's attributes, lower-cased and sorted,
// without the value.
func cookieAttrs(line string) []string {
	parts := strings.Split(line, ";")
	var attrs []string
	for _, p := range parts[1:] {
		attrs = append(attrs, strings.ToLower(strings.TrimSpace(p)))
	}
	slices.Sort(attrs)
	return attrs
}

// checkCase is one input of vectors.py check.
type checkCase struct {
	Name    string  `json:"name"`
	Cookie  *string `json:"cookie"`
	Session *string `json:"session"`
}

// TestDjangoReadsGo has each Django of the matrix read what Go writes
// for it: the cookie and the session value of every case, compressed ones
// included, and the cookie and the session the middleware stores for a
// list too large for the cookie.
func TestDjangoReadsGo(t *testing.T) {
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
		t.Parallel()
		v := loadVectors(t, d.Series)
		m := newVectorManager(t, v, d.Series)
		m.cfg.Now = time.Now
		var cases []checkCase
		wants := map[string][]Message{}
		for _, vec := range v.Vectors {
			all := want(vec.Messages, 0)
			parts := make([]string, len(all))
			for i, msg := range all {
				parts[i] = m.encodeMessage(msg, ",")
			}
			cookie, sess := m.signParts(parts), m.encodeSession(all)
			cases = append(cases, checkCase{Name: vec.Name, Cookie: &cookie, Session: &sess})
			wants[vec.Name] = all
			// And what the middleware stores: the cookie part and the rest.
			fit, rest := m.fitCookie(all)
			restValue := m.encodeSession(rest)
			cases = append(cases, checkCase{Name: vec.Name + "/fitted", Cookie: &fit, Session: &restValue})
		}
		results := runCheck(t, d, cases)
		for i, r := range results {
			name, fitted := strings.CutSuffix(cases[i].Name, "/fitted")
			all := wants[name]
			cookieMsgs, cookieDone := djangoMessages(t, r.Cookie)
			sessMsgs, _ := djangoMessages(t, r.Session)
			if !fitted {
				if !cookieDone || !same(cookieMsgs, all) || !same(sessMsgs, all) {
					t.Errorf("%s: Django read Go's cookie as %+v, its session value as %+v; want %+v", name, cookieMsgs, sessMsgs, all)
				}
				continue
			}
			joined := append(cookieMsgs, sessMsgs...)
			if !same(joined, all) || cookieDone != (len(sessMsgs) == 0) {
				t.Errorf("%s: Django read the stored cookie and session as %+v (cookie complete: %v), want %+v", name, joined, cookieDone, all)
			}
		}
	})
}

// djangoResult is one answer of vectors.py check.
type djangoResult struct {
	Name    string `json:"name"`
	Cookie  []any  `json:"cookie"`
	Session []any  `json:"session"`
}

func runCheck(t *testing.T, d djangotest.Django, cases []checkCase) []djangoResult {
	t.Helper()
	var results []djangoResult
	d.RunJSON(t, cases, &results, filepath.Join("testdata", "django", "vectors.py"), "check")
	if len(results) != len(cases) {
		t.Fatalf("vectors.py check answered %d results for %d cases", len(results), len(cases))
	}
	return results
}

// djangoMessages turns Django's [level, message, extra_tags, safe] lists
// into Messages; done is false when the list ends with the not-finished
// marker.
func djangoMessages(t *testing.T, list []any) (msgs []Message, done bool) {
	t.Helper()
	done = true
	for _, item := range list {
		if item == notFinished {
			done = false
			continue
		}
		f, ok := item.([]any)
		if !ok || len(f) != 4 {
			t.Fatalf("Django answered %v", item)
		}
		tags, _ := f[2].(string) // None: no extra tags
		msgs = append(msgs, Message{Level: Level(f[0].(float64)), Text: f[1].(string), ExtraTags: tags, Safe: f[3].(bool)})
	}
	return msgs, done
}
