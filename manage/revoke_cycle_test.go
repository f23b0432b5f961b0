package main

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database/either"
	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
)

// TestSessionsRevokeWhileCycling: a client logs in again and again while
// manage sessions revoke runs, each login moving its session to a new key
// (cycle_key), often to a key that revoke's pass has already gone by. The
// session ends and stays ended: revoke deletes it or the cycle that raced
// with the delete fails (ErrInterrupted) and leaves nothing behind, and
// revoke goes over the sessions again until a pass finds none that
// matches.
func TestSessionsRevokeWhileCycling(t *testing.T) {
	forEngine(t, func(t *testing.T, db string) {
		// Other users' sessions, so that a pass takes long enough for the
		// cycling session to move many times while it runs.
		ss := make([]stored, 0, 3001)
		for i := range 3000 {
			ss = append(ss, stored{data: map[string]any{"_auth_user_id": strconv.Itoa(1000 + i)}, expiry: time.Hour})
		}
		ss = append(ss, stored{data: map[string]any{"_auth_user_id": "42", "n": 0}, expiry: time.Hour})
		keys := seedSessions(t, db, ss...)

		// The site's process, on connections of its own.
		conn, err := either.OpenURL(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		st, err := dbstore.New(conn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		m, err := session.New(session.Config{Store: st, SecretKey: testSecret, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}

		type ending struct {
			how    string
			key    string
			cycles int
			err    error
		}
		started := make(chan struct{})
		ended := make(chan ending, 1)
		go func() {
			key, cycles := keys[len(keys)-1], 0
			for {
				if cycles == 20 {
					close(started)
				}
				s := m.Open(t.Context(), key)
				if s.Len() == 0 {
					ended <- ending{how: "its key opens nothing", key: key, cycles: cycles}
					return
				}
				s.CycleKey() // a login
				s.Incr("n", 1)
				switch err := s.Save(); {
				case errors.Is(err, session.ErrInterrupted):
					ended <- ending{how: "its login was interrupted", key: s.Key(), cycles: cycles}
					return
				case err != nil:
					ended <- ending{err: err}
					return
				}
				key, cycles = s.Key(), cycles+1
			}
		}()
		<-started
		r := runEnv(t, sessionsEnv(db), "sessions", "revoke", "--where", "_auth_user_id=42")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Revoked ") || !strings.Contains(r.stdout, "; the last found no session left that matches.\n") {
			t.Errorf("revoke = %+v", r)
		}
		var e ending
		select {
		case e = <-ended:
		case <-time.After(15 * time.Second):
			t.Fatalf("15 s after revoke returned the client still cycles its session: revoke missed it\nrevoke said: %s", r.stdout)
		}
		if e.err != nil {
			t.Fatalf("the cycling client failed: %v", e.err)
		}
		t.Logf("the session ended after %d logins (%s); revoke said: %q", e.cycles, e.how, r.stdout)
		if data := m.Open(t.Context(), e.key).Items(); len(data) != 0 {
			t.Errorf("the client's last key %s still opens %v", e.key[:8], data)
		}
		// Stays ended: nothing left anywhere that matches.
		if r := runEnv(t, sessionsEnv(db), "sessions", "revoke", "--where", "_auth_user_id=42", "--dry-run"); r.code != 0 || r.stdout != "Would revoke 0 sessions where _auth_user_id = \"42\".\n" {
			t.Errorf("after revoke, a dry run finds: %+v", r)
		}
	})
}
