package usersessions_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/dbstore"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/usersessions"
	"github.com/djangosessions/gosessions/internal/dbtest"
)

const secret = "usersessions test secret"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// userOf labels a session by its "user", as auth labels it by
// _auth_user_id.
func userOf(data map[string]any) string {
	u, _ := data["user"].(string)
	return u
}

// fixture is a session manager watched by an index, on a real store and
// backend, with a settable clock.
type fixture struct {
	t     *testing.T
	clock *clock
	store session.Store
	idx   *usersessions.Index
	m     *session.Manager
	list  *usersessions.Sessions
	// plain is a manager on the same store without the index: a Django
	// site, as the index sees it.
	plain *session.Manager
}

// fixtures run a test on the memory engine (memstore and the Memory
// backend) and on the db engine on SQLite (dbstore and the SQL backend).
func fixtures(t *testing.T, test func(t *testing.T, f *fixture)) {
	engines := map[string]func(t *testing.T, now func() time.Time) (session.Store, usersessions.Backend){
		"memory": func(t *testing.T, now func() time.Time) (session.Store, usersessions.Backend) {
			return memstore.New(now), usersessions.NewMemory()
		},
		"sqlite": func(t *testing.T, now func() time.Time) (session.Store, usersessions.Backend) {
			db := dbtest.SQLite(t)
			st, err := dbstore.New(db, dbstore.WithClock(now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st, newSQL(t, db)
		},
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: time.Now().Truncate(time.Second)}
			st, b := open(t, c.Now)
			idx, err := usersessions.New(b, usersessions.Config{Label: userOf, Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			newManager := func(w session.Watcher) *session.Manager {
				m, err := session.New(session.Config{Store: st, SecretKey: secret, Now: c.Now, Watcher: w, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			m := newManager(idx)
			test(t, &fixture{t: t, clock: c, store: st, idx: idx, m: m, list: idx.Sessions(m), plain: newManager(nil)})
		})
	}
}

// client is a request context of a browser.
func client(ip, ua string) context.Context {
	return usersessions.WithClient(context.Background(), usersessions.Client{IP: ip, UserAgent: ua})
}

// login stores a new session of user from the client of ctx, as a login
// does (a new session, or a key cycle of key), and returns its key.
func (f *fixture) login(ctx context.Context, user, key string) string {
	f.t.Helper()
	s := f.m.Open(ctx, key)
	s.CycleKey()
	s.Set("user", user)
	if err := s.Save(); err != nil {
		f.t.Fatal(err)
	}
	return s.Key()
}

// keys lists user's sessions, as keys, with current as the request's.
func (f *fixture) devices(user, current string) []usersessions.Device {
	f.t.Helper()
	ds, err := f.list.List(context.Background(), user, current)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds
}

func keysOf(ds []usersessions.Device) map[string]bool {
	out := map[string]bool{}
	for _, d := range ds {
		out[d.Key] = true
	}
	return out
}

func (f *fixture) wantListed(user string, keys ...string) {
	f.t.Helper()
	got := keysOf(f.devices(user, ""))
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	if len(got) != len(want) {
		f.t.Errorf("user %s has %d sessions listed, want %d", user, len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			f.t.Errorf("user %s's live session %s is missing from the list", user, k[:8])
		}
	}
	for k := range got {
		if !want[k] {
			f.t.Errorf("user %s's list has %s, which is not one of their live sessions", user, k[:8])
		}
	}
}

// TestListIsExact: logins on several devices are listed with their
// address and browser, this device first; a logout, a key cycle (the
// device keeps its id), a session deleted behind the site's back and a
// session given to another user are followed; a dead entry is dropped
// once the grace period has passed, and not before.
func TestListIsExact(t *testing.T) {
	fixtures(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		a := f.login(client("192.0.2.1", "Firefox"), "7", "")
		f.clock.Advance(time.Second)
		b := f.login(client("192.0.2.2", "Chrome"), "7", "")
		c := f.login(client("192.0.2.3", "curl"), "7", "")
		other := f.login(ctx, "8", "")
		f.wantListed("7", a, b, c)
		f.wantListed("8", other)

		ds := f.devices("7", b)
		if len(ds) != 3 || ds[0].Key != b || !ds[0].Current || ds[0].IP != "192.0.2.2" || ds[0].UserAgent != "Chrome" {
			t.Fatalf("devices = %+v, want b (Chrome, 192.0.2.2) first, current", ds)
		}
		for _, d := range ds {
			if d.ID == "" || d.ID == d.Key || len(d.ID) != 16 {
				t.Errorf("device id %q: want 16 opaque characters, never the key", d.ID)
			}
		}

		// A key cycle (a password change): the device keeps its id.
		idOf := func(key string) string {
			for _, d := range f.devices("7", "") {
				if d.Key == key {
					return d.ID
				}
			}
			return ""
		}
		before := idOf(c)
		s := f.m.Open(ctx, c)
		s.CycleKey()
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		c2 := s.Key()
		f.wantListed("7", a, b, c2)
		if after := idOf(c2); after != before {
			t.Errorf("a key cycle changed the device id from %s to %s", before, after)
		}

		// A logout.
		s = f.m.Open(ctx, a)
		s.Flush()
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		f.wantListed("7", b, c2)

		// Another user on b's key (without a login's flush): not 7's.
		s = f.m.Open(ctx, b)
		s.Set("user", "8")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		f.wantListed("7", c2)
		f.wantListed("8", other, b)

		// A session deleted behind the site's back (Django's logout): not
		// listed at once; its entry is dropped after the grace period.
		if err := f.store.Delete(ctx, c2, ""); err != nil {
			t.Fatal(err)
		}
		f.wantListed("7")
		entries := func() int64 {
			n, _, err := f.idx.Backend().Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		n := entries()
		f.clock.Advance(usersessions.DefaultGrace + time.Second)
		f.wantListed("7")
		if got := entries(); got != n-1 {
			t.Errorf("%d entries after a listing past the grace period, want %d (the dead one dropped)", got, n-1)
		}
	})
}

// TestSeenIndexesSessionsWrittenElsewhere: a session logged in without
// the index (a Django site) is not listed until the Go side sees it used
// or Ensure (manage sessions reindex) adds it; a use records its last
// seen at most once per SeenEvery.
func TestSeenIndexesSessionsWrittenElsewhere(t *testing.T) {
	fixtures(t, func(t *testing.T, f *fixture) {
		ctx := client("198.51.100.7", "Safari")
		s := f.plain.Open(ctx, "")
		s.Set("user", "7")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		django := s.Key()
		f.wantListed("7")

		f.m.Open(ctx, django).Len() // the Go site sees it used
		f.wantListed("7", django)
		ds := f.devices("7", "")
		seen := ds[0].LastSeen
		if ds[0].IP != "198.51.100.7" || ds[0].UserAgent != "Safari" {
			t.Errorf("device %+v: want the client that used it", ds[0])
		}

		f.clock.Advance(usersessions.DefaultSeenEvery / 2)
		f.m.Open(ctx, django).Len()
		if got := f.devices("7", "")[0].LastSeen; !got.Equal(seen) {
			t.Errorf("last seen moved to %v within SeenEvery: a read became a write", got)
		}
		f.clock.Advance(usersessions.DefaultSeenEvery)
		f.m.Open(ctx, django).Len()
		if got := f.devices("7", "")[0].LastSeen; !got.Equal(f.clock.Now()) {
			t.Errorf("last seen %v after SeenEvery, want %v", got, f.clock.Now())
		}

		// Ensure: what reindex does for a session nobody used yet.
		s = f.plain.Open(ctx, "")
		s.Set("user", "7")
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		rec, data, err := f.m.Peek(ctx, s.Key())
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			added, err := f.idx.Ensure(ctx, rec.Key, data)
			if err != nil || added != want {
				t.Errorf("Ensure #%d = %v, %v; want %v", i+1, added, err, want)
			}
		}
		f.wantListed("7", django, s.Key())
	})
}

// TestSignOutCannotBeUndone: "sign out all other devices" ends every
// other device's session and keeps this device's (also after it cycles
// its key); a request of a signed-out device that read its session
// before fails to save it, by an update or a key cycle (ErrInterrupted),
// and nothing comes back.
func TestSignOutCannotBeUndone(t *testing.T) {
	fixtures(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		mine := f.login(client("192.0.2.1", "Firefox"), "7", "")
		b := f.login(ctx, "7", "")
		c := f.login(ctx, "7", "")
		other := f.login(ctx, "8", "")

		inflightB := f.m.Open(ctx, b) // requests of b and c in flight
		inflightB.Len()
		inflightC := f.m.Open(ctx, c)
		inflightC.Len()

		n, err := f.list.SignOutOthers(ctx, "7", mine)
		if err != nil || n != 2 {
			t.Fatalf("SignOutOthers = %d, %v; want 2", n, err)
		}
		f.wantListed("7", mine)
		f.wantListed("8", other)

		inflightB.Incr("n", 1)
		if err := inflightB.Save(); !errors.Is(err, session.ErrInterrupted) {
			t.Errorf("an update in flight of a signed-out session: %v, want ErrInterrupted", err)
		}
		inflightC.CycleKey()
		inflightC.Set("user", "7")
		if err := inflightC.Save(); !errors.Is(err, session.ErrInterrupted) {
			t.Errorf("a key cycle in flight of a signed-out session: %v, want ErrInterrupted", err)
		}
		f.wantListed("7", mine)

		// This device's later key cycle keeps it, and signing it out
		// by its id ends it.
		s := f.m.Open(ctx, mine)
		s.CycleKey()
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		ds := f.devices("7", s.Key())
		if len(ds) != 1 || !ds[0].Current {
			t.Fatalf("devices after the cycle: %+v", ds)
		}
		if n, err := f.list.SignOut(ctx, "7", ds[0].ID); err != nil || n != 1 {
			t.Errorf("SignOut = %d, %v; want 1", n, err)
		}
		f.wantListed("7")
		if got := f.idx.Stats().SignedOut; got != 3 {
			t.Errorf("Stats().SignedOut = %d, want 3", got)
		}
	})
}

// hookStore runs a function before the first Create or the first
// conditional Delete it is given, as another request would between the
// steps of a key cycle.
type hookStore struct {
	session.Store
	beforeCreate, beforeDelete func()
}

func (h *hookStore) Create(ctx context.Context, rec session.Record) error {
	if f := h.beforeCreate; f != nil {
		h.beforeCreate = nil
		f()
	}
	return h.Store.Create(ctx, rec)
}

func (h *hookStore) Delete(ctx context.Context, key, old string) error {
	if f := h.beforeDelete; f != nil && old != "" {
		h.beforeDelete = nil
		f()
	}
	return h.Store.Delete(ctx, key, old)
}

// TestSignOutCatchesAKeyCycleInFlight: signing out a device while it is
// moving to a new key (a login's or a password change's cycle), at each
// step of the move, leaves nothing of the device: the cycle fails, or its
// new key is ended too.
func TestSignOutCatchesAKeyCycleInFlight(t *testing.T) {
	for _, step := range []string{"before the new record", "before the old record goes"} {
		t.Run(step, func(t *testing.T) {
			fixtures(t, func(t *testing.T, f *fixture) {
				ctx := context.Background()
				mine := f.login(ctx, "7", "")
				moving := f.login(ctx, "7", "")
				hooked := &hookStore{Store: f.store}
				m, err := session.New(session.Config{Store: hooked, SecretKey: secret, Now: f.clock.Now, Watcher: f.idx, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				signOut := func() {
					if _, err := f.list.SignOutOthers(ctx, "7", mine); err != nil {
						t.Errorf("SignOutOthers: %v", err)
					}
				}
				if step == "before the new record" {
					hooked.beforeCreate = signOut
				} else {
					hooked.beforeDelete = signOut
				}
				s := m.Open(ctx, moving)
				s.CycleKey()
				err = s.Save()
				if !errors.Is(err, session.ErrInterrupted) {
					t.Errorf("the cycle of a device signed out meanwhile: %v, want ErrInterrupted", err)
				}
				f.wantListed("7", mine)
				if _, _, err := f.m.Peek(ctx, s.Key()); !errors.Is(err, session.ErrNotFound) {
					t.Errorf("the cycle's new key loads: %v", err)
				}
			})
		})
	}
}

// hookBackend runs a function after the first listing of an owner's
// entries, before the caller acts on it.
type hookBackend struct {
	usersessions.Backend
	afterOwned func()
}

func (h *hookBackend) Owned(ctx context.Context, owner string) ([]usersessions.Entry, error) {
	es, err := h.Backend.Owned(ctx, owner)
	if f := h.afterOwned; f != nil {
		h.afterOwned = nil
		f()
	}
	return es, err
}

// TestSignOutCatchesAKeyCycleThatCompletes: a device that completes a
// move to a new key after the sign-out listed its sessions, and before
// it deleted them, is caught under its new key by the next pass.
func TestSignOutCatchesAKeyCycleThatCompletes(t *testing.T) {
	fixtures(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		mine := f.login(ctx, "7", "")
		moving := f.login(ctx, "7", "")
		var moved string
		hb := &hookBackend{Backend: f.idx.Backend(), afterOwned: func() {
			s := f.m.Open(ctx, moving)
			s.CycleKey()
			if err := s.Save(); err != nil {
				t.Errorf("the cycle: %v", err)
			}
			moved = s.Key()
		}}
		idx, err := usersessions.New(hb, usersessions.Config{Label: userOf, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		n, err := idx.Sessions(f.m).SignOutOthers(ctx, "7", mine)
		if err != nil || n != 1 {
			t.Errorf("SignOutOthers = %d, %v; want 1 (the moved session)", n, err)
		}
		if _, _, err := f.m.Peek(ctx, moved); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("the session moved during the sign-out survived it: %v", err)
		}
		f.wantListed("7", mine)
	})
}
