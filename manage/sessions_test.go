package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/signing"
	"github.com/djangosessions/gosessions/internal/pgtest"
)

const testSecret = "manage-sessions-test-secret"

// runEnv runs the command in-process with the environment env.
func runEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, func(k string) string { return env[k] }, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// sessionsEnv is the environment of a site on dbURL with testSecret.
func sessionsEnv(dbURL string) map[string]string {
	return map[string]string{"DATABASE_URL": dbURL, "SECRET_KEY": testSecret}
}

// stored is a session to seed.
type stored struct {
	key    string         // "" for a new key; a prefix ending in "-" gets random characters after it
	data   map[string]any // signed with testSecret
	raw    string         // stored as is instead of data, when set
	expiry time.Duration  // from now
}

// seedSessions migrates dbURL and stores the sessions through the
// session store, signed as the site signs them; it returns their keys.
func seedSessions(t *testing.T, dbURL string, ss ...stored) []string {
	t.Helper()
	if r := manage(t, dbURL, "migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	db, err := either.OpenURL(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := dbstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer := signing.NewTimestampSigner(testSecret, nil, session.SessionSalt)
	var keys []string
	for _, s := range ss {
		key := s.key
		switch {
		case key == "":
			key = session.NewKey()
		case strings.HasSuffix(key, "-"):
			key = strings.TrimSuffix(key, "-")
			key += session.NewKey()[len(key):]
		}
		data := s.raw
		if data == "" {
			if data, err = signer.Dumps(s.data, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Create(t.Context(), session.Record{Key: key, Data: data, Expires: time.Now().Add(s.expiry)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return keys
}

// forEngine runs test on a fresh SQLite file and on a fresh PostgreSQL
// database (skipped without TEST_POSTGRES_URL, failed under CI).
func forEngine(t *testing.T, test func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, tempDB(t)) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.NewDatabase(t)) })
}

// noFullKey fails when any of keys appears whole in r's output.
func noFullKey(t *testing.T, r result, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if strings.Contains(r.stdout, k) || strings.Contains(r.stderr, k) {
			t.Errorf("the whole key %s… was printed: stdout %q, stderr %q", k[:8], r.stdout, r.stderr)
		}
	}
}

// otherKeyData is session data signed by a site with another SECRET_KEY.
func otherKeyData(t *testing.T) string {
	t.Helper()
	raw, err := signing.NewTimestampSigner("another-site's-key", nil, session.SessionSalt).Dumps(map[string]any{"username": "mallory"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSessionsList(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		env := sessionsEnv(db)
		if r := runEnv(t, env, "sessions", "list"); r.code != 1 || !strings.Contains(r.stderr, "not migrated") {
			t.Errorf("list on an unmigrated database = %+v, want status 1 saying it is not migrated", r)
		}
		keys := seedSessions(t, db,
			stored{data: map[string]any{"username": "alice", "visits": 3}, expiry: 2 * time.Hour},
			stored{data: map[string]any{"username": "bob", "_auth_user_id": "42"}, expiry: 3 * time.Hour},
			stored{data: map[string]any{}, expiry: time.Hour},
			stored{raw: otherKeyData(t), expiry: 30 * time.Minute},
			stored{data: map[string]any{"username": "gone"}, expiry: -time.Hour},
		)
		r := runEnv(t, env, "sessions", "list")
		if r.code != 0 {
			t.Fatalf("list = %+v", r)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("list printed %d lines, want a header and 4 live sessions:\n%s", len(lines), r.stdout)
		}
		if !strings.HasPrefix(lines[0], "KEY       EXPIRES (UTC)") {
			t.Errorf("header = %q", lines[0])
		}
		// Latest expiry first; 8 characters of each key; the data's keys.
		for i, want := range []struct {
			key, keys string
		}{{keys[1], "_auth_user_id, username"}, {keys[0], "username, visits"}, {keys[2], "(empty)"}, {keys[3], "(bad signature)"}} {
			line := lines[i+1]
			if !strings.HasPrefix(line, want.key[:8]+"  ") || !strings.HasSuffix(line, "  "+want.keys) {
				t.Errorf("line %d = %q, want key %s… and %q", i+1, line, want.key[:8], want.keys)
			}
		}
		if !strings.Contains(r.stderr, "1 session could not be decoded (bad signature") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("stderr = %q, want one line counting the undecodable session", r.stderr)
		}
		noFullKey(t, r, keys...)

		r = runEnv(t, env, "sessions", "list", "--limit", "2", "--show-keys")
		lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], keys[1]+"  ") || !strings.HasPrefix(lines[2], keys[0]+"  ") {
			t.Errorf("list --limit 2 --show-keys = %+v, want the two latest with whole keys", r)
		}

		r = runEnv(t, env, "sessions", "list", "--expired")
		lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if r.code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], keys[4][:8]) || !strings.HasSuffix(lines[1], "  username") {
			t.Errorf("list --expired = %+v, want the one expired session", r)
		}

		r = runEnv(t, env, "sessions", "list", "--json")
		if r.code != 0 {
			t.Fatalf("list --json = %+v", r)
		}
		var got []listLine
		for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			var x listLine
			if err := json.Unmarshal([]byte(l), &x); err != nil {
				t.Fatalf("line %q is not JSON: %v", l, err)
			}
			got = append(got, x)
		}
		if len(got) != 4 {
			t.Fatalf("list --json gave %d lines, want 4:\n%s", len(got), r.stdout)
		}
		if g := got[0]; g.Key != keys[1][:8] || !slices.Equal(g.Keys, []string{"_auth_user_id", "username"}) || g.Size < 20 || g.Error != "" ||
			g.ExpireDate.Sub(time.Now().Add(3*time.Hour)).Abs() > time.Minute {
			t.Errorf("first JSON line = %+v", g)
		}
		if g := got[2]; g.Keys == nil || len(g.Keys) != 0 {
			t.Errorf("an empty session's keys = %#v, want []", g.Keys)
		}
		if g := got[3]; g.Keys != nil || g.Error != "bad signature" {
			t.Errorf("the undecodable session's line = %+v, want no keys and the error", g)
		}
		noFullKey(t, r, keys...)
	})
}

func TestSessionsListEmpty(t *testing.T) {
	db := tempDB(t)
	seedSessions(t, db)
	env := sessionsEnv(db)
	if r := runEnv(t, env, "sessions", "list"); r.code != 0 || r.stdout != "No live sessions.\n" || r.stderr != "" {
		t.Errorf("list = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "list", "--expired"); r.code != 0 || r.stdout != "No expired sessions.\n" {
		t.Errorf("list --expired = %+v", r)
	}
	if r := runEnv(t, env, "sessions", "list", "--json"); r.code != 0 || r.stdout != "" {
		t.Errorf("list --json = %+v, want no lines", r)
	}
}

func TestSessionsShow(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		keys := seedSessions(t, db,
			stored{key: "abcdef1-", data: map[string]any{"username": "alice", "note": "<b>&</b>", "visits": 3, "_auth_user_id": "42"}, expiry: 14*24*time.Hour + time.Minute},
			stored{key: "abcdef2-", data: map[string]any{"username": "bob"}, expiry: -2 * time.Hour},
			stored{key: "badbad-", raw: otherKeyData(t), expiry: time.Hour},
		)
		env := sessionsEnv(db)

		for _, arg := range []string{keys[0], keys[0][:7], keys[0][:12]} {
			r := runEnv(t, env, "sessions", "show", arg)
			want := fmt.Sprintf("Session: %s\nExpires: ", keys[0][:8])
			if r.code != 0 || !strings.HasPrefix(r.stdout, want) || r.stderr != "" {
				t.Fatalf("show %s… = %+v", arg[:7], r)
			}
			for _, w := range []string{"UTC (in 14 days", "\"username\": \"alice\"", "\"visits\": 3\n", "\"_auth_user_id\": \"42\"", "\"note\": \"<b>&</b>\"", "Size:    "} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("show does not say %q:\n%s", w, r.stdout)
				}
			}
			noFullKey(t, r, keys...)
		}

		r := runEnv(t, env, "sessions", "show", "--json", keys[1][:7])
		var doc showDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); r.code != 0 || err != nil {
			t.Fatalf("show --json = %+v (%v)", r, err)
		}
		if doc.Key != keys[1][:8] || !doc.Expired || doc.Data["username"] != "bob" || doc.Size == 0 {
			t.Errorf("show --json of an expired session = %+v", doc)
		}
		if r := runEnv(t, env, "sessions", "show", keys[1][:7]); !strings.Contains(r.stdout, "(expired 2 hours ago)") {
			t.Errorf("show of an expired session = %q", r.stdout)
		}

		wantFailure(t, runEnv(t, env, "sessions", "show", "abcdef"), "manage sessions show:", "abcdef is the start of several session keys")
		wantFailure(t, runEnv(t, env, "sessions", "show", "zzzzzzzz"), "manage sessions show:", "no session has a key starting with zzzzzzzz")
		unknown := session.NewKey()
		r = runEnv(t, env, "sessions", "show", unknown)
		wantFailure(t, r, "no session has a key starting with "+unknown[:8])
		noFullKey(t, r, unknown)
		r = runEnv(t, env, "sessions", "show", keys[2])
		wantFailure(t, r, "manage sessions show:", "session "+keys[2][:8]+" could not be decoded: bad signature")
		noFullKey(t, r, keys...)
		if r.stdout != "" || strings.Contains(r.stderr, "mallory") {
			t.Errorf("show printed what it could not verify: %+v", r)
		}
	})
}

func TestSessionsDelete(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		keys := seedSessions(t, db,
			stored{key: "abcdef1-", data: map[string]any{"username": "alice"}, expiry: time.Hour},
			stored{key: "abcdef2-", data: map[string]any{"username": "bob"}, expiry: time.Hour},
			stored{raw: otherKeyData(t), expiry: -time.Hour},
		)
		// delete needs no SECRET_KEY: it decodes nothing.
		env := map[string]string{"DATABASE_URL": db}
		wantFailure(t, runEnv(t, env, "sessions", "delete", "abcdef"), "manage sessions delete:", "several session keys")
		r := runEnv(t, env, "sessions", "delete", keys[0][:10])
		if r.code != 0 || r.stdout != "Deleted session "+keys[0][:8]+".\n" || r.stderr != "" {
			t.Errorf("delete = %+v", r)
		}
		r = runEnv(t, env, "sessions", "delete", keys[2]) // expired and undecodable: still a row to delete
		if r.code != 0 || r.stdout != "Deleted session "+keys[2][:8]+".\n" {
			t.Errorf("delete of an expired session = %+v", r)
		}
		noFullKey(t, r, keys...)
		if got := storedKeys(t, db); !slices.Equal(got, []string{keys[1]}) {
			t.Errorf("left %q, want only %s…", got, keys[1][:8])
		}
		wantFailure(t, runEnv(t, env, "sessions", "delete", keys[0]), "no session has a key starting with "+keys[0][:8])
		// Now "abcdef" names one session.
		if r := runEnv(t, env, "sessions", "delete", "abcdef"); r.code != 0 {
			t.Errorf("delete of the last abcdef session = %+v", r)
		}
	})
}

// TestSessionsDatabaseURLFlag: --database-url names the database of every
// sessions command, over DATABASE_URL (which here names a file that does
// not exist).
func TestSessionsDatabaseURLFlag(t *testing.T) {
	db := tempDB(t)
	keys := seedSessions(t, db,
		stored{data: map[string]any{"username": "alice", "_auth_user_id": "7"}, expiry: time.Hour},
		stored{data: map[string]any{"username": "bob"}, expiry: time.Hour},
	)
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "missing", "db.sqlite3"), "SECRET_KEY": testSecret}
	flag := "--database-url=" + db
	for _, args := range [][]string{
		{"list"},
		{"show", keys[0][:8]},
		{"stats"},
		{"delete", keys[1][:8]},
		{"revoke", "--where", "_auth_user_id=7"},
	} {
		r := runEnv(t, env, append([]string{"sessions", args[0], flag}, args[1:]...)...)
		if r.code != 0 {
			t.Errorf("sessions %s with --database-url = %+v", strings.Join(args, " "), r)
		}
	}
	if got := storedKeys(t, db); len(got) != 0 {
		t.Errorf("after delete and revoke through the flag, %d sessions left, want none", len(got))
	}
}

func TestSessionsRevoke(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		keys := seedSessions(t, db,
			stored{data: map[string]any{"_auth_user_id": "42", "username": "alice"}, expiry: time.Hour},  // 0: string "42"
			stored{data: map[string]any{"_auth_user_id": 42}, expiry: time.Hour},                         // 1: number 42
			stored{data: map[string]any{"_auth_user_id": "420"}, expiry: time.Hour},                      // 2
			stored{data: map[string]any{"_auth_user_id": []any{"42"}}, expiry: time.Hour},                // 3: a list never matches
			stored{data: map[string]any{"_auth_user_id": "42"}, expiry: -time.Minute},                    // 4: expired: not live
			stored{data: map[string]any{"username": "42"}, expiry: time.Hour},                            // 5: another name
			stored{raw: otherKeyData(t), expiry: time.Hour},                                              // 6: undecodable
			stored{data: map[string]any{"visits": 3, "admin": true, "x": nil}, expiry: time.Hour},        // 7
			stored{data: map[string]any{"visits": 3.5, "admin": "true", "x": "null"}, expiry: time.Hour}, // 8
			stored{data: map[string]any{"_auth_user_id": "42", "sneaky": "=="}, expiry: 2 * time.Minute}, // 9
		)
		env := sessionsEnv(db)

		r := runEnv(t, env, "sessions", "revoke", "--where", "_auth_user_id=42", "--dry-run")
		if r.code != 0 || !strings.HasSuffix(r.stdout, "Would revoke 3 sessions where _auth_user_id = \"42\".\n") || strings.Count(r.stdout, "\n") != 4 {
			t.Errorf("revoke --dry-run = %+v", r)
		}
		for _, k := range []string{keys[0], keys[1], keys[9]} {
			if !strings.Contains(r.stdout, k[:8]+"  expires ") {
				t.Errorf("dry run does not list %s…: %q", k[:8], r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "1 session could not be decoded") {
			t.Errorf("dry run stderr = %q, want the undecodable session counted", r.stderr)
		}
		if got := storedKeys(t, db); len(got) != len(keys) {
			t.Fatalf("the dry run deleted sessions: %d left of %d", len(got), len(keys))
		}

		r = runEnv(t, env, "sessions", "revoke", "--where=_auth_user_id=42")
		if r.code != 0 || r.stdout != "Revoked 3 sessions where _auth_user_id = \"42\".\n2 passes (at most 20); the last found no session left that matches.\n" {
			t.Errorf("revoke = %+v", r)
		}
		if !strings.Contains(r.stderr, "1 session could not be decoded") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("revoke stderr = %q", r.stderr)
		}
		noFullKey(t, r, keys...)
		want := []string{keys[2], keys[3], keys[4], keys[5], keys[6], keys[7], keys[8]}
		slices.Sort(want)
		if got := storedKeys(t, db); !slices.Equal(got, want) {
			t.Errorf("left %d sessions, want %d: the matching live ones gone, the rest kept", len(got), len(want))
		}

		// The number 3, the boolean true, null; and the strings "true" and
		// "null" whose text is VALUE too.
		for _, tt := range []struct {
			where string
			keys  []string
		}{{"visits=3", keys[7:8]}, {"admin=true", keys[7:9]}, {"x=null", keys[7:9]}, {"visits=3.5", keys[8:9]}, {"visits=3.0", nil}} {
			r := runEnv(t, env, "sessions", "revoke", "--where", tt.where, "--dry-run")
			if r.code != 0 || strings.Count(r.stdout, "\n") != len(tt.keys)+1 {
				t.Errorf("revoke --where %s --dry-run = %+v, want %d sessions", tt.where, r, len(tt.keys))
			}
			for _, k := range tt.keys {
				if !strings.Contains(r.stdout, k[:8]+"  expires") {
					t.Errorf("revoke --where %s --dry-run does not list %s…: %q", tt.where, k[:8], r.stdout)
				}
			}
		}
		r = runEnv(t, env, "sessions", "revoke", "--where", "nobody=here")
		if r.code != 0 || r.stdout != "Revoked 0 sessions where nobody = \"here\".\n" {
			t.Errorf("revoke matching nothing = %+v", r)
		}
	})
}

// interposedStore is the real store with a hook run before each Delete:
// it stands for a request that saves the session between revoke's read
// and its delete.
type interposedStore struct {
	session.Store
	beforeDelete func(key string)
}

func (s interposedStore) Delete(ctx context.Context, key, old string) error {
	s.beforeDelete(key)
	return s.Store.Delete(ctx, key, old)
}

type interposedSource struct {
	source
	st session.Store
}

func (s interposedSource) store() session.Store { return s.st }

// TestSessionsRevokeChangedMeanwhile: a session saved by a request after
// revoke read it is checked again: still matching, it is deleted on the
// retry; no longer matching, it is kept.
func TestSessionsRevokeChangedMeanwhile(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		keys := seedSessions(t, db,
			stored{data: map[string]any{"_auth_user_id": "42", "visits": 1}, expiry: time.Hour}, // a request adds a visit
			stored{data: map[string]any{"_auth_user_id": "42", "visits": 1}, expiry: time.Hour}, // a request logs in another user
		)
		var stdout, stderr bytes.Buffer
		c := &sessionsCmd{getenv: func(k string) string { return sessionsEnv(db)[k] }, stdout: &stdout, stderr: &stderr, now: time.Now()}
		done, err := c.open(t.Context(), "", true)
		if err != nil {
			t.Fatal(err)
		}
		defer done()
		real := c.src.store()
		signer := signing.NewTimestampSigner(testSecret, nil, session.SessionSalt)
		changed := map[string]int{}
		c.src = interposedSource{source: c.src, st: interposedStore{Store: real, beforeDelete: func(key string) {
			changed[key]++
			if changed[key] > 1 {
				return // one concurrent save each
			}
			rec, err := real.Load(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			data := map[string]any{"_auth_user_id": "42", "visits": 2}
			if key == keys[1] {
				data = map[string]any{"_auth_user_id": "7", "visits": 1}
			}
			newData, err := signer.Dumps(data, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := real.Update(t.Context(), session.Record{Key: key, Data: newData, Expires: rec.Expires}, rec.Data); err != nil {
				t.Fatal(err)
			}
		}}}
		if err := c.revokeWhere(t.Context(), where{"_auth_user_id", "42"}, false); err != nil {
			t.Fatal(err)
		}
		want := "Revoked 1 session where _auth_user_id = \"42\".\nKept 1 session that changed meanwhile and no longer matches.\n2 passes (at most 20); the last found no session left that matches.\n"
		if stdout.String() != want {
			t.Errorf("stdout = %q, want %q", stdout.String(), want)
		}
		if changed[keys[0]] != 2 || changed[keys[1]] != 1 {
			t.Errorf("delete attempts = %v, want 2 for the session still matching (a retry), 1 for the other", changed)
		}
		if got := storedKeys(t, db); !slices.Equal(got, []string{keys[1]}) {
			t.Errorf("left %d sessions, want only the one that no longer matches", len(got))
		}
	})
}

func TestSessionsStats(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		env := map[string]string{"DATABASE_URL": db} // stats decodes nothing
		seedSessions(t, db)
		r := runEnv(t, env, "sessions", "stats", "--json")
		if r.code != 0 || r.stdout != `{"live":{"count":0,"bytes":0,"average_bytes":0,"earliest_expiry":null,"latest_expiry":null},"expired":{"count":0,"bytes":0,"average_bytes":0,"earliest_expiry":null,"latest_expiry":null}}`+"\n" {
			t.Errorf("stats --json of an empty table = %+v", r)
		}
		now := time.Now()
		seedSessions(t, db,
			stored{raw: strings.Repeat("a", 100), expiry: time.Hour},
			stored{raw: strings.Repeat("b", 201), expiry: 3 * time.Hour},
			stored{raw: strings.Repeat("c", 50), expiry: -time.Hour},
		)
		r = runEnv(t, env, "sessions", "stats", "--json")
		var st struct{ Live, Expired classStats }
		if err := json.Unmarshal([]byte(r.stdout), &st); r.code != 0 || err != nil {
			t.Fatalf("stats --json = %+v (%v)", r, err)
		}
		near := func(p *time.Time, want time.Time) bool { return p != nil && p.Sub(want).Abs() < time.Minute }
		if l := st.Live; l.Count != 2 || l.Bytes != 301 || l.Average != 150 || !near(l.Earliest, now.Add(time.Hour)) || !near(l.Latest, now.Add(3*time.Hour)) {
			t.Errorf("live = %+v", l)
		}
		if e := st.Expired; e.Count != 1 || e.Bytes != 50 || e.Average != 50 || !near(e.Earliest, now.Add(-time.Hour)) || !near(e.Latest, now.Add(-time.Hour)) {
			t.Errorf("expired = %+v", e)
		}
		r = runEnv(t, env, "sessions", "stats")
		lines := strings.Split(r.stdout, "\n")
		if r.code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "SESSIONS      COUNT") ||
			!strings.HasPrefix(lines[1], "live              2           301       150  ") ||
			!strings.HasPrefix(lines[2], "expired           1            50        50  ") || lines[3] != "Expiry times are UTC." {
			t.Errorf("stats = %+v", r)
		}
	})
}

// TestSessionsManyBatches: revoke and stats walk more sessions than one
// batch holds.
func TestSessionsManyBatches(t *testing.T) {
	db := tempDB(t)
	var ss []stored
	for i := range 2*batchSize + 500 {
		ss = append(ss, stored{data: map[string]any{"team": fmt.Sprint(i % 5)}, expiry: time.Duration(i+1) * time.Minute})
	}
	seedSessions(t, db, ss...)
	env := sessionsEnv(db)
	r := runEnv(t, env, "sessions", "stats", "--json")
	if !strings.HasPrefix(r.stdout, `{"live":{"count":2500,`) {
		t.Errorf("stats = %+v", r)
	}
	r = runEnv(t, env, "sessions", "revoke", "--where", "team=3")
	if r.code != 0 || r.stdout != "Revoked 500 sessions where team = \"3\".\n2 passes (at most 20); the last found no session left that matches.\n" {
		t.Errorf("revoke = %+v", r)
	}
	r = runEnv(t, env, "sessions", "list", "--limit", "3000", "--json")
	if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != 2000 || strings.Contains(r.stdout, `["team"]`) && strings.Contains(r.stdout, `"team":"3"`) {
		t.Errorf("list after revoke: status %d, %d lines, want 2000", r.code, n)
	}
}

func TestSessionsUsageErrors(t *testing.T) {
	db := tempDB(t)
	env := sessionsEnv(db)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"sessions"}, []string{"manage sessions:", "no command given"}},
		{[]string{"sessions", "purge"}, []string{"manage sessions:", `unknown command "purge"`}},
		{[]string{"sessions", "list", "--limit", "0"}, []string{"manage sessions list:", "--limit 0"}},
		{[]string{"sessions", "list", "--limit=-3"}, []string{"--limit -3"}},
		{[]string{"sessions", "list", "--verbose"}, []string{"manage sessions list:", "-verbose"}},
		{[]string{"sessions", "list", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"sessions", "show"}, []string{"manage sessions show:", "give a session key"}},
		{[]string{"sessions", "show", "abcde"}, []string{"at least 6 characters"}},
		{[]string{"sessions", "show", "ABCDEFGH"}, []string{"not a session key"}},
		{[]string{"sessions", "show", "abcdefgh", "ijklmnop"}, []string{"one session key"}},
		{[]string{"sessions", "delete", "abc%de"}, []string{"manage sessions delete:", "not a session key"}},
		{[]string{"sessions", "revoke"}, []string{"manage sessions revoke:", "--where NAME=VALUE is required"}},
		{[]string{"sessions", "revoke", "--where", "username"}, []string{"invalid --where", "NAME=VALUE"}},
		{[]string{"sessions", "revoke", "--where", "=alice"}, []string{"invalid --where"}},
		{[]string{"sessions", "revoke", "--where"}, []string{"where"}},
		{[]string{"sessions", "stats", "--yaml"}, []string{"manage sessions stats:", "-yaml"}},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runEnv(t, env, tt.args...)
			wantUsage(t, r, tt.want...)
			if !strings.Contains(r.stderr, "Usage: manage sessions") {
				t.Errorf("not the sessions usage: %q", r.stderr)
			}
		})
	}
	if _, err := os.Stat(strings.TrimPrefix(db, "sqlite:")); err == nil {
		t.Error("a usage error created the database file")
	}
	for _, args := range [][]string{{"sessions", "-h"}, {"sessions", "list", "-h"}, {"sessions", "revoke", "--help"}} {
		r := runEnv(t, env, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: manage sessions") || !strings.Contains(r.stdout, "Session.objects.filter(expire_date__gt=now)") {
			t.Errorf("%q = %+v, want the usage with Django's equivalents", args, r)
		}
	}
}

func TestSessionsFailures(t *testing.T) {
	db := tempDB(t)
	keys := seedSessions(t, db, stored{data: map[string]any{"a": 1}, expiry: time.Hour})
	// No SECRET_KEY and no development key: the commands that decode fail.
	env := map[string]string{"DATABASE_URL": db}
	for _, args := range [][]string{{"list"}, {"show", keys[0]}, {"revoke", "--where", "a=1"}} {
		r := runEnv(t, env, append([]string{"sessions"}, args...)...)
		wantFailure(t, r, "manage sessions "+args[0]+":", "SECRET_KEY is not set")
	}
	// The site's development key, kept beside the database, is used.
	path := strings.TrimPrefix(db, "sqlite:")
	if err := os.WriteFile(path+".secret_key", []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runEnv(t, env, "sessions", "show", keys[0]); r.code != 0 || !strings.Contains(r.stdout, `"a": 1`) {
		t.Errorf("show with the development key = %+v", r)
	}
	// Another key than the one that signed: the session is undecodable.
	r := runEnv(t, map[string]string{"DATABASE_URL": db, "SECRET_KEY": "wrong"}, "sessions", "show", keys[0])
	wantFailure(t, r, "bad signature")
	// ...unless the signing key is among the fallbacks.
	r = runEnv(t, map[string]string{"DATABASE_URL": db, "SECRET_KEY": "new", "SECRET_KEY_FALLBACKS": "older," + testSecret}, "sessions", "show", keys[0])
	if r.code != 0 {
		t.Errorf("show with the key among the fallbacks = %+v", r)
	}

	unmigrated := sessionsEnv(tempDB(t))
	for _, cmd := range []string{"list", "stats"} {
		wantFailure(t, runEnv(t, unmigrated, "sessions", cmd), "manage sessions "+cmd+":", "not migrated", "manage migrate")
	}
	wantFailure(t, runEnv(t, sessionsEnv("postgres://site:s3cret@127.0.0.1:1/site"), "sessions", "stats"), "manage sessions stats:")
}

// TestPostgresSessionsUnreachable: an unreachable server fails with one
// line without the password.
func TestPostgresSessionsUnreachable(t *testing.T) {
	for _, cmd := range [][]string{{"list"}, {"show", "abcdefgh"}, {"delete", "abcdefgh"}, {"revoke", "--where", "a=b"}, {"stats"}} {
		r := runEnv(t, sessionsEnv("postgres://site:s3cret@127.0.0.1:1/site"), append([]string{"sessions"}, cmd...)...)
		wantFailure(t, r, "manage sessions "+cmd[0]+":", "connection refused")
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("stderr shows the password: %q", r.stderr)
		}
	}
}
