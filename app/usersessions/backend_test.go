package usersessions_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/database"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/internal/dbtest"
	"github.com/djangosessions/gosessions/internal/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func newSQL(t testing.TB, db *database.DB) usersessions.Backend {
	t.Helper()
	b, err := usersessions.NewSQL(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// backends are the backends under test, each new for every call.
func backends() map[string]func(t *testing.T) usersessions.Backend {
	return map[string]func(t *testing.T) usersessions.Backend{
		"memory":   func(*testing.T) usersessions.Backend { return usersessions.NewMemory() },
		"sqlite":   func(t *testing.T) usersessions.Backend { return newSQL(t, dbtest.SQLite(t)) },
		"postgres": func(t *testing.T) usersessions.Backend { return newSQL(t, dbtest.Postgres(t)) },
		"redis": func(t *testing.T) usersessions.Backend {
			return usersessions.NewRedis(redistest.Client(t), redistest.Prefix(t))
		},
	}
}

// key is a session key of Django's shape, numbered.
func key(n int) string { return fmt.Sprintf("k%031d", n) }

// TestBackends: every backend keeps the contract the index relies on:
// Put inserts with a growing Seq or updates an entry's last seen, address
// and browser (never its Seq, device or creation), Owned lists by Seq,
// Drop removes only an entry not written since the time it is given,
// RemoveKey removes every owner's entry of a key, and the counts and the
// sweep see what is there.
func TestBackends(t *testing.T) {
	for name, newBackend := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t)
			ctx := context.Background()
			t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			put := func(owner string, n int, at time.Time, ip, ua string) {
				t.Helper()
				e := usersessions.Entry{Owner: owner, Key: key(n), Device: fmt.Sprintf("dev%d", n), Created: at, LastSeen: at, Touched: at, IP: ip, UserAgent: ua}
				if err := b.Put(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			put("7", 1, t0, "192.0.2.1", "Firefox")
			put("7", 2, t0.Add(time.Second), "192.0.2.2", "Chrome")
			put("8", 3, t0, "", "")
			put("8", 1, t0, "", "") // another owner's entry of the same key

			// An update: last seen, touched and what is given; not the rest.
			put("7", 1, t0.Add(time.Hour), "", "Safari")
			e, ok, err := b.Get(ctx, "7", key(1))
			if err != nil || !ok {
				t.Fatalf("Get: %v %v", ok, err)
			}
			if e.Device != "dev1" || !e.Created.Equal(t0) || !e.LastSeen.Equal(t0.Add(time.Hour)) || !e.Touched.Equal(t0.Add(time.Hour)) || e.IP != "192.0.2.1" || e.UserAgent != "Safari" {
				t.Errorf("after an update: %+v", e)
			}

			owned, err := b.Owned(ctx, "7")
			if err != nil {
				t.Fatal(err)
			}
			if len(owned) != 2 || owned[0].Key != key(1) || owned[1].Key != key(2) || owned[0].Seq >= owned[1].Seq {
				t.Fatalf("Owned(7) = %+v, want keys 1 then 2 by Seq", owned)
			}
			if n, o, err := b.Count(ctx); err != nil || n != 4 || o != 2 {
				t.Errorf("Count = %d entries, %d owners, %v; want 4, 2", n, o, err)
			}
			if top, err := b.Top(ctx, 2); err != nil || len(top) != 2 || top[0] != (usersessions.OwnerCount{Owner: "7", Entries: 2}) || top[1] != (usersessions.OwnerCount{Owner: "8", Entries: 2}) {
				t.Errorf("Top(2) = %+v, %v; want 7 and 8 with 2 each", top, err)
			}

			// Drop: only an entry not written since before.
			if dropped, err := b.Drop(ctx, "7", key(1), t0.Add(time.Hour)); err != nil || dropped {
				t.Errorf("Drop of an entry written at the bound: %v %v, want kept", dropped, err)
			}
			if dropped, err := b.Drop(ctx, "7", key(2), t0.Add(time.Hour)); err != nil || !dropped {
				t.Errorf("Drop of an old entry: %v %v, want dropped", dropped, err)
			}
			if dropped, err := b.Drop(ctx, "7", key(2), t0.Add(time.Hour)); err != nil || dropped {
				t.Errorf("Drop of an entry gone: %v %v", dropped, err)
			}

			// RemoveKey: every owner's entry of the key.
			if err := b.RemoveKey(ctx, key(1)); err != nil {
				t.Fatal(err)
			}
			for _, owner := range []string{"7", "8"} {
				if _, ok, _ := b.Get(ctx, owner, key(1)); ok {
					t.Errorf("owner %s's entry of a removed key is still there", owner)
				}
			}
			if err := b.RemoveKey(ctx, key(1)); err != nil {
				t.Errorf("RemoveKey twice: %v", err)
			}
			if n, o, err := b.Count(ctx); err != nil || n != 1 || o != 1 {
				t.Errorf("Count = %d entries, %d owners, %v; want 1, 1", n, o, err)
			}

			// A new entry after removals still gets a greater Seq.
			put("8", 4, t0, "", "")
			owned, _ = b.Owned(ctx, "8")
			if len(owned) != 2 || owned[0].Key != key(3) || owned[1].Key != key(4) || owned[1].Seq <= owned[0].Seq {
				t.Errorf("Owned(8) = %+v", owned)
			}

			// Sweep: entries written before the bound whose session is
			// not live (key 3 here; key 4 is live).
			live := func(_ context.Context, k string) (bool, error) { return k == key(4), nil }
			n, err := b.Sweep(ctx, t0.Add(time.Minute), t0.Add(time.Minute), live)
			if err != nil {
				t.Fatal(err)
			}
			if _, isSQL := b.(*usersessions.SQL); isSQL {
				// The SQL backend asks django_session, which is empty here:
				// neither session is live.
				if n != 2 {
					t.Errorf("SQL Sweep removed %d, want 2", n)
				}
				return
			}
			if n != 1 {
				t.Errorf("Sweep removed %d, want 1", n)
			}
			if owned, _ := b.Owned(ctx, "8"); len(owned) != 1 || owned[0].Key != key(4) {
				t.Errorf("after Sweep, Owned(8) = %+v", owned)
			}
		})
	}
}
