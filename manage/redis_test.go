package main

import (
	"context"
	"errors"
	neturl "net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/redistest"
	sqlitemigrations "github.com/djangosessions/gosessions/migrations/sqlite"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	os.Exit(redistest.Main(m))
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// redisDB returns the test server's URL on a database index of the test's
// own (1 to 15), emptied first: manage's commands see every key there.
func redisDB(t *testing.T, index int) (string, *redis.Client) {
	t.Helper()
	u, err := neturl.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + strconv.Itoa(index)
	url := u.String()
	client := redistest.ClientFor(t, url)
	if err := client.FlushDB(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	return url, client
}

// TestSessionsOnRedis: with SESSION_ENGINE=cache and CACHE_URL, manage
// sessions finds the sessions in Redis (walking it with SCAN) and ends them
// through the Redis store.
func TestSessionsOnRedis(t *testing.T) {
	url, client := redisDB(t, 7)
	st := redisstore.New(client)
	signer := signing.NewTimestampSigner(testSecret, nil, session.SessionSalt)
	seed := func(data map[string]any, expiry time.Duration) string {
		t.Helper()
		raw, err := signer.Dumps(data, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec := session.Record{Key: session.NewKey(), Data: raw, Expires: time.Now().Add(expiry)}
		if err := st.Create(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		return rec.Key
	}
	ada1 := seed(map[string]any{"username": "ada", "visits": 3}, time.Hour)
	ada2 := seed(map[string]any{"username": "ada"}, 2*time.Hour)
	bob := seed(map[string]any{"username": "bob"}, 3*time.Hour)
	seed(map[string]any{"username": "old"}, -time.Minute) // expired, in its grace period

	env := map[string]string{"SESSION_ENGINE": "cache", "CACHE_URL": url, "SECRET_KEY": testSecret, "DATABASE_URL": tempDB(t)}
	r := runEnv(t, env, "sessions", "list")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 4 || !strings.HasPrefix(strings.Split(r.stdout, "\n")[1], bob[:8]) {
		t.Errorf("list = %+v; want a header and three live sessions, the latest (bob's) first", r)
	}
	noFullKey(t, r, ada1, ada2, bob)
	if r := runEnv(t, env, "sessions", "list", "--expired", "--json"); r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, `"keys":["username"]`) {
		t.Errorf("list --expired = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "show", ada1[:8]); r.code != 0 || !strings.Contains(r.stdout, `"visits": 3`) {
		t.Errorf("show = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "stats", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"count":3`) {
		t.Errorf("stats = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "revoke", "--where", "username=ada"); r.code != 0 || !strings.Contains(r.stdout, "Revoked 2 sessions") {
		t.Errorf("revoke = %+v", r)
	}
	for _, k := range []string{ada1, ada2} {
		if _, err := st.Load(t.Context(), k); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("a revoked session loads: %v", err)
		}
	}
	if r := runEnv(t, env, "sessions", "delete", bob[:8]); r.code != 0 {
		t.Errorf("delete = %+v", r)
	}
	if _, err := st.Load(t.Context(), bob); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a deleted session loads: %v", err)
	}

	// Engines whose sessions manage cannot reach say so.
	for engine, want := range map[string]string{"signed_cookies": "browser's cookie", "cache": "memory"} {
		e := map[string]string{"SESSION_ENGINE": engine, "SECRET_KEY": testSecret, "DATABASE_URL": tempDB(t)}
		wantFailure(t, runEnv(t, e, "sessions", "list"), want)
	}
}

// TestSessionsDeleteThroughRedisCache: with cached_db and CACHE_URL a
// session that manage deletes is forgotten by Redis too, so that a site
// process reading through Redis never serves it again.
func TestSessionsDeleteThroughRedisCache(t *testing.T) {
	url, client := redisDB(t, 8)
	dbURL := tempDB(t)
	db, err := either.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlitemigrations.Up(db, nil); err != nil {
		t.Fatal(err)
	}
	dbst, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	defer dbst.Close()
	site := redisstore.NewCache(client, dbst) // a site process
	defer site.Close()
	raw, err := signing.NewTimestampSigner(testSecret, nil, session.SessionSalt).Dumps(map[string]any{"username": "ada"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec := session.Record{Key: session.NewKey(), Data: raw, Expires: time.Now().Add(time.Hour)}
	if err := site.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := site.Load(t.Context(), rec.Key); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"SESSION_ENGINE": "cached_db", "CACHE_URL": url, "SECRET_KEY": testSecret, "DATABASE_URL": dbURL}
	if r := runEnv(t, env, "sessions", "revoke", "--where", "username=ada"); r.code != 0 || !strings.Contains(r.stdout, "Revoked 1 session") {
		t.Fatalf("revoke = %+v", r)
	}
	if _, err := site.Load(t.Context(), rec.Key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the site still serves, through Redis, a session manage revoked: %v", err)
	}
}
