package main

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/redisstore"
	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/app/usersessions"
)

// TestSessionsOfAUser walks list --user, reindex, stats and revoke --user
// on sessions logged in behind the index's back (as Django logs them in):
// the index knows nothing of them until reindex adds them; then list
// shows the user's sessions alone, stats counts them by user, and revoke
// --user ends them and no other.
func TestSessionsOfAUser(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		env := sessionsEnv(db)
		keys := seedSessions(t, db,
			stored{data: map[string]any{"_auth_user_id": "1", "username": "a1"}, expiry: 2 * time.Hour},
			stored{data: map[string]any{"_auth_user_id": "1", "username": "a2"}, expiry: 3 * time.Hour},
			stored{data: map[string]any{"_auth_user_id": "2"}, expiry: time.Hour},
			stored{data: map[string]any{"username": "anonymous"}, expiry: time.Hour},
			stored{data: map[string]any{"_auth_user_id": "1"}, expiry: -time.Hour},
		)
		a, _ := userAuth(t, db)
		for _, name := range []string{"alice", "bob"} {
			if _, err := a.CreateUser(t.Context(), name, "pw"); err != nil {
				t.Fatal(err)
			}
		}

		if r := runEnv(t, env, "sessions", "list", "--user", "alice"); r.code != 0 || r.stdout != "No live sessions of alice.\n" {
			t.Errorf("list --user before reindex = %+v: the index knows nothing yet", r)
		}
		if r := runEnv(t, env, "sessions", "list", "--user", "nobody"); r.code != 1 || !strings.Contains(r.stderr, `no user named "nobody"`) {
			t.Errorf("list --user of an unknown user = %+v, want status 1", r)
		}
		r := runEnv(t, env, "sessions", "reindex")
		if r.code != 0 || r.stdout != "Indexed 3 logged-in sessions the index lacked (4 live sessions checked).\n" {
			t.Fatalf("reindex = %+v", r)
		}
		if r := runEnv(t, env, "sessions", "reindex"); r.code != 0 || !strings.HasPrefix(r.stdout, "Indexed 0 logged-in sessions") {
			t.Errorf("reindex again = %+v, want nothing added", r)
		}

		r = runEnv(t, env, "sessions", "list", "--user", "alice")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "KEY ") {
			t.Fatalf("list --user alice = %+v, want a header and 2 sessions", r)
		}
		for i, k := range keys[:2] {
			if !strings.Contains(r.stdout, k[:8]) {
				t.Errorf("list --user alice does not show session %d (%s…)", i, k[:8])
			}
		}
		noFullKey(t, r, keys...)
		if strings.Contains(r.stdout, keys[2][:8]) || strings.Contains(r.stdout, keys[4][:8]) {
			t.Errorf("list --user alice shows bob's or an expired session:\n%s", r.stdout)
		}
		r = runEnv(t, env, "sessions", "list", "--user", "alice", "--json", "--show-keys")
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var l userLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("list --user --json line %q: %v", line, err)
			}
			if len(l.Device) != 16 || l.Expires.Before(time.Now()) {
				t.Errorf("line %+v", l)
			}
			got = append(got, l.Key)
		}
		slices.Sort(got)
		want := slices.Clone(keys[:2])
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("list --user --json --show-keys keys = %v, want %v", got, want)
		}

		r = runEnv(t, env, "sessions", "stats", "--json")
		var st struct{ Users userStats }
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
			t.Fatalf("stats --json = %+v (%v)", r, err)
		}
		if u := st.Users; u.Entries != 3 || u.Users != 2 || len(u.Top) != 2 || u.Top[0] != (userTop{User: "alice", ID: "1", Sessions: 2}) || u.Top[1] != (userTop{User: "bob", ID: "2", Sessions: 1}) {
			t.Errorf("stats users = %+v", st.Users)
		}

		r = runEnv(t, env, "sessions", "revoke", "--user", "alice")
		if r.code != 0 || r.stdout != "Revoked 2 sessions of alice.\n" {
			t.Fatalf("revoke --user alice = %+v", r)
		}
		left := storedKeys(t, db)
		if slices.Contains(left, keys[0]) || slices.Contains(left, keys[1]) || !slices.Contains(left, keys[2]) || !slices.Contains(left, keys[3]) {
			t.Errorf("after revoke --user alice, stored: %d sessions; alice's gone, bob's and the anonymous one kept?", len(left))
		}
		if r := runEnv(t, env, "sessions", "list", "--user", "alice"); r.stdout != "No live sessions of alice.\n" {
			t.Errorf("list --user alice after revoke = %+v", r)
		}
		if r := runEnv(t, env, "sessions", "revoke", "--user", "alice", "--where", "x=1"); r.code != 2 {
			t.Errorf("revoke with --user and --where = %+v, want a usage error", r)
		}
	})
}

// TestClearSessionsSweepsTheIndex: clearsessions also removes the index's
// entries of sessions that are gone, once they are older than the grace
// period, and keeps younger ones.
func TestClearSessionsSweepsTheIndex(t *testing.T) {
	db := tempDB(t)
	seedSessions(t, db)
	_, d := userAuth(t, db)
	b, err := usersessions.NewSQL(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-usersessions.DefaultGrace - time.Minute)
	for i, at := range []time.Time{old, old, time.Now()} {
		e := usersessions.Entry{Owner: "1", Key: "gone" + strconv.Itoa(i), Device: "d", Created: at, LastSeen: at, Touched: at}
		if err := b.Put(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	r := manage(t, db, "clearsessions")
	if r.code != 0 || r.stdout != "Deleted 0 expired sessions.\nRemoved 2 ended sessions from the per-user index.\n" {
		t.Errorf("clearsessions = %+v", r)
	}
	if n, _, _ := b.Count(t.Context()); n != 1 {
		t.Errorf("%d entries left, want the young one", n)
	}
}

// TestSessionsOfAUserOnRedis: with the cache engine on Redis the index
// lives in Redis beside the sessions; reindex, list --user and revoke
// --user work there as on a database.
func TestSessionsOfAUserOnRedis(t *testing.T) {
	url, client := redisDB(t, 9)
	st := redisstore.New(client)
	signer := signing.NewTimestampSigner(testSecret, nil, session.SessionSalt)
	var keys []string
	for _, user := range []string{"1", "1", "2"} {
		raw, err := signer.Dumps(map[string]any{"_auth_user_id": user}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec := session.Record{Key: session.NewKey(), Data: raw, Expires: time.Now().Add(time.Hour)}
		if err := st.Create(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rec.Key)
	}
	dbURL := tempDB(t)
	seedSessions(t, dbURL) // migrated, for the users
	a, _ := userAuth(t, dbURL)
	for _, name := range []string{"alice", "bob"} {
		if _, err := a.CreateUser(t.Context(), name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SESSION_ENGINE": "cache", "CACHE_URL": url, "SECRET_KEY": testSecret, "DATABASE_URL": dbURL}
	if r := runEnv(t, env, "sessions", "reindex"); r.code != 0 || !strings.HasPrefix(r.stdout, "Indexed 3 logged-in sessions") {
		t.Fatalf("reindex = %+v", r)
	}
	r := runEnv(t, env, "sessions", "list", "--user", "alice")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 3 || !strings.Contains(r.stdout, keys[0][:8]) || !strings.Contains(r.stdout, keys[1][:8]) {
		t.Errorf("list --user alice = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "revoke", "--user", "alice"); r.code != 0 || r.stdout != "Revoked 2 sessions of alice.\n" {
		t.Errorf("revoke --user alice = %+v", r)
	}
	for i, k := range keys {
		_, err := st.Load(t.Context(), k)
		if gone := errors.Is(err, session.ErrNotFound); gone != (i < 2) {
			t.Errorf("session %d after revoke --user alice: %v", i, err)
		}
	}
	if r := runEnv(t, env, "sessions", "stats"); r.code != 0 || !strings.Contains(r.stdout, "Per-user index: 1 session of 1 user") {
		t.Errorf("stats = %+v", r)
	}
}
