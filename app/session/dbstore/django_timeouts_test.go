package dbstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/internal/djangotest"
)

// TestDjangoHonoursTheTimeouts: a session the Go site writes with
// SESSION_IDLE_TIMEOUT carries it in expire_date, so the real Django
// (which has no such setting) stops loading it once the session has gone
// unused that long, although its own cookie age is two weeks; and one
// with SESSION_ABSOLUTE_TIMEOUT likewise, that long after its login. The
// newest Django release only: the column is all Django reads.
func TestDjangoHonoursTheTimeouts(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "db.sqlite3")
	p := djangotest.New(t, djangotest.Options{SQLite: dbPath})
	p.Manage(t, false, "migrate", "-v", "0")
	migrate(t, dbPath)
	dj, _ := p.Start(t)
	db := openDB(t, dbPath)

	for _, tc := range []struct {
		name            string
		idle, absolute  time.Duration
		use             bool // used on the Go side after 10 minutes
		alive, deadFrom int  // minutes of Django's clock
	}{
		// Idle 30 min, used at +10 min: gone for Django at +41 min, not at +39.
		{name: "idle", idle: 30 * time.Minute, use: true, alive: 39, deadFrom: 41},
		// Absolute 60 min, used at +10 min and more: gone at +61 whatever.
		{name: "absolute", absolute: time.Hour, use: true, alive: 59, deadFrom: 61},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGo(t, db)
			cfg := g.manager.Config()
			cfg.IdleTimeout, cfg.AbsoluteTimeout = tc.idle, tc.absolute
			m, err := session.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			base := serveGo(t, m)
			b := newBrowser(t)
			b.get(base, "/set?user=7")
			key := b.key(base)
			if key == "" {
				t.Fatal("no session")
			}
			if st := probe(t, dj, key); st.Data["user"] == nil {
				t.Fatalf("Django does not read the Go session at once: %+v", st.Data)
			}
			if tc.use {
				g.clock.Set(10 * time.Minute)
				probe(t, base, key) // a use: the Go side refreshes the expiry
			}
			setDjangoClock(t, dj, tc.alive*60)
			if st := probe(t, dj, key); st.Data["user"] == nil {
				t.Errorf("Django at +%d min: the session is gone, want it alive", tc.alive)
			}
			setDjangoClock(t, dj, tc.deadFrom*60)
			if st := probe(t, dj, key); st.Data["user"] != nil {
				t.Errorf("Django at +%d min still loads the session: the timeout is not in expire_date", tc.deadFrom)
			}
			setDjangoClock(t, dj, 0)
		})
	}
}
