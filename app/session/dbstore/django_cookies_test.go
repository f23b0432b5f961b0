package dbstore_test

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// TestDjangoSignedCookiesInterop runs Django's signed_cookies engine and
// the session package's SignedCookies against each other, on each Django
// of the matrix, one browser
// holding the one cookie for both sites (cookies ignore the port): the
// data lives in the cookie, in Django's format, so what one site writes
// the other reads, compressed or not; a flush on one logs the browser out
// of both; a tampered cookie reads as empty on both.
func TestDjangoSignedCookiesInterop(t *testing.T) { djangotest.Each(t, testDjangoSignedCookies) }

func testDjangoSignedCookies(t *testing.T, dj djangotest.Django) {
	django, _ := startDjango(t, dj, filepath.Join(t.TempDir(), "db.sqlite3"),
		"DJANGO_SESSION_ENGINE=django.contrib.sessions.backends.signed_cookies")
	cfg := session.DefaultConfig()
	cfg.SignedCookies = true
	cfg.SecretKey = sharedSecret
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	goBase := serveGo(t, m)
	b := newBrowser(t)
	signer := signing.NewTimestampSigner(sharedSecret, nil, session.CookieSalt)

	// Django writes, Go reads.
	d := b.get(django, "/set"+query("user", "ann", "n", "3", "nested", `{"a":[1,2.5,null]}`, "word", "café"))
	cookie := b.key(django)
	if data, err := signer.Loads(cookie); err != nil || data["user"] != "ann" {
		t.Fatalf("Django's cookie %q does not load with the signed_cookies salt: %v %v", cookie, data, err)
	}
	sameData(t, "Go reading Django's cookie", b.get(goBase, "/get"), d)

	// Go writes, Django reads, keeping Django's keys.
	g := b.get(goBase, "/set"+query("cart", `["book"]`, "n", "4"))
	if !strings.Contains(b.key(goBase), ":") || b.key(goBase) == cookie {
		t.Fatalf("the Go site did not send a new signed cookie: %q", b.key(goBase))
	}
	sameData(t, "Django reading Go's cookie", b.get(django, "/get"), g)

	// A large, compressible value: each side writes the compressed form
	// (a leading "."), the other reads it.
	big := strings.Repeat("compressible ", 150)
	b.get(django, "/set"+query("big", big))
	if !strings.HasPrefix(b.key(django), ".") {
		t.Errorf("Django's cookie with a compressible value is not compressed: %.40q", b.key(django))
	}
	if got := b.get(goBase, "/get").Data["big"]; got != big {
		t.Errorf("Go read Django's compressed value as %.40q", got)
	}
	b.get(goBase, "/set"+query("big2", big))
	if !strings.HasPrefix(b.key(goBase), ".") {
		t.Errorf("Go's cookie with a compressible value is not compressed: %.40q", b.key(goBase))
	}
	if got := b.get(django, "/get").Data["big2"]; got != big {
		t.Errorf("Django read Go's compressed value as %.40q", got)
	}

	// A tampered cookie reads as empty on both.
	tampered := strings.Replace(b.key(goBase), "e", "f", 1)
	for name, base := range map[string]string{"Go": goBase, "Django": django} {
		if st := probe(t, base, tampered); len(st.Data) != 0 {
			t.Errorf("%s read a tampered cookie as %v", name, st.Data)
		}
	}

	// Flush on the Go site: the browser has no session left, on either.
	b.get(goBase, "/flush")
	if k := b.key(goBase); k != "" {
		t.Errorf("after a flush the browser still holds %.40q", k)
	}
	if st := b.get(django, "/get"); len(st.Data) != 0 {
		t.Errorf("Django after Go's flush: %v", st.Data)
	}

	// A cookie older than SESSION_COOKIE_AGE: refused by both (Django's
	// max_age, the Go side's LoadsMaxAge).
	old, err := signer.Dumps(map[string]any{"user": "old"}, time.Now().Add(-1209601*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for name, base := range map[string]string{"Go": goBase, "Django": django} {
		if st := probe(t, base, old); len(st.Data) != 0 {
			t.Errorf("%s read a cookie signed two weeks ago as %v", name, st.Data)
		}
	}
}
