package messages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/messages"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/internal/djangotest"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

// The live test runs the real Django (djangotest's djangosite, whose
// /messages/add and /messages/read views use django.contrib.messages) and
// a Go site with the same two routes on one SQLite file and one
// SECRET_KEY, and drives both with one cookie jar, as one browser visits
// two sites on one host.

// liveMessage is a message as both sites' /messages/read answer it.
type liveMessage struct {
	Level int    `json:"level"`
	Text  string `json:"message"`
	Tags  string `json:"tags"`
}

func startGoMessages(t *testing.T, db *database.DB, djangoVersion string) string {
	t.Helper()
	store, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	scfg := session.DefaultConfig()
	scfg.Store = store
	scfg.SecretKey = djangotest.SecretKey
	sm, err := session.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	mm, err := messages.New(messages.Config{
		SecretKey:     djangotest.SecretKey,
		DjangoVersion: djangoVersion,
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(sm.Middleware(), mm.Middleware())
	e.GET("/messages/add", func(c echo.Context) error {
		level, _ := strconv.Atoi(c.QueryParam("level"))
		for _, text := range c.QueryParams()["message"] {
			if err := messages.AddTags(c.Request().Context(), messages.Level(level), text, c.QueryParam("tags")); err != nil {
				return err
			}
		}
		return c.NoContent(http.StatusOK)
	})
	e.GET("/messages/read", func(c echo.Context) error {
		out := []liveMessage{}
		for _, m := range messages.Get(c.Request().Context()) {
			out = append(out, liveMessage{int(m.Level), m.Text, m.Tags()})
		}
		return c.JSON(http.StatusOK, map[string]any{"messages": out})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

// browser is one visitor of both sites.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar}}
}

func (b *browser) add(base string, level int, tags string, texts ...string) {
	b.t.Helper()
	q := url.Values{"level": {strconv.Itoa(level)}, "message": texts, "tags": {tags}}
	resp, err := b.client.Get(base + "/messages/add?" + q.Encode())
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("add on %s: %s", base, resp.Status)
	}
}

func (b *browser) read(base string) []liveMessage {
	b.t.Helper()
	resp, err := b.client.Get(base + "/messages/read")
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Messages []liveMessage `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		b.t.Fatalf("read on %s: %s, %v", base, resp.Status, err)
	}
	return body.Messages
}

func TestDjangoMessagesSQLite(t *testing.T) {
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db.sqlite3")
		dj, gs := startBoth(t, djangotest.Options{Django: d, SQLite: path}, "sqlite:"+path)
		testMessages(t, dj, gs)
	})
}

// TestDjangoMessagesPostgres: the same on PostgreSQL, where the messages
// that do not fit in the cookie travel in a session both sites keep there.
func TestDjangoMessagesPostgres(t *testing.T) {
	djangotest.Each(t, func(t *testing.T, d djangotest.Django) {
		t.Parallel()
		d.RequirePostgres(t)
		u := pgtest.NewDatabase(t)
		dj, gs := startBoth(t, djangotest.Options{Django: d, Postgres: u}, u)
		testMessages(t, dj, gs)
	})
}

// startBoth migrates the database with Django, lets Go's migrations adopt
// it, and starts both sites; it returns their base URLs. The Go site
// writes the messages for the release it shares them with.
func startBoth(t *testing.T, opts djangotest.Options, goURL string) (dj, gs string) {
	t.Helper()
	p := djangotest.New(t, opts)
	p.Manage(t, false, "migrate", "-v", "0")
	db := dbtest.Open(t, goURL) // Go's migrations adopt Django's tables
	dj, _ = p.Start(t)
	return dj, startGoMessages(t, db, p.Django().Series)
}

// testMessages: a message added on either site is shown once, with its
// level and tags, by the next read on the other, and is gone after on
// both; messages too large for the cookie travel through the session.
func testMessages(t *testing.T, dj, gs string) {
	sites := map[string]string{"Go": gs, "Django": dj}
	for _, from := range []string{"Go", "Django"} {
		to := "Django"
		if from == "Django" {
			to = "Go"
		}
		t.Run("added on "+from+", shown once on "+to, func(t *testing.T) {
			b := newBrowser(t)
			b.add(sites[from], 25, "", "Saved on "+from+".")
			b.add(sites[from], 40, "form sticky", "café, \"quoted\"; 日本")
			b.add(sites[from], 10, "", "a DEBUG message is below MESSAGE_LEVEL")
			want := []liveMessage{{25, "Saved on " + from + ".", "success"}, {40, "café, \"quoted\"; 日本", "form sticky error"}}
			if got := b.read(sites[to]); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("read on %s: %+v, want %+v", to, got, want)
			}
			for _, site := range []string{to, from} {
				if got := b.read(sites[site]); len(got) != 0 {
					t.Errorf("read again on %s: %+v, want nothing", site, got)
				}
			}
		})
		t.Run("too large for the cookie, added on "+from+", shown on "+to, func(t *testing.T) {
			b := newBrowser(t)
			var want []liveMessage
			for i := range 4 {
				text := fmt.Sprintf("%d %s", i, noise(900, uint64(i)+7))
				b.add(sites[from], 20, "", text)
				want = append(want, liveMessage{20, text, "info"})
			}
			got := b.read(sites[to])
			if len(got) != len(want) {
				t.Fatalf("read on %s: %d messages, want %d", to, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("message %d on %s: %d %.24q, want %.24q", i, to, got[i].Level, got[i].Text, want[i].Text)
				}
			}
			for _, site := range []string{to, from} {
				if got := b.read(sites[site]); len(got) != 0 {
					t.Errorf("read again on %s: %d messages, want none (cookie or session not emptied)", site, len(got))
				}
			}
		})
	}
	t.Run("added on both sites, read on each", func(t *testing.T) {
		b := newBrowser(t)
		b.add(gs, 20, "", "first, on Go")
		b.add(dj, 30, "", "second, on Django")
		b.add(gs, 40, "", "third, on Go")
		want := []liveMessage{{20, "first, on Go", "info"}, {30, "second, on Django", "warning"}, {40, "third, on Go", "error"}}
		if got := b.read(dj); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("read on Django: %+v, want %+v", got, want)
		}
		b.add(dj, 20, "", strings.Repeat("big ", 10)+noise(3000, 3))
		if got := b.read(gs); len(got) != 1 || !strings.HasPrefix(got[0].Text, "big ") {
			t.Fatalf("a message over the cookie size, from Django, read on Go: %+v", got)
		}
	})
}
