package memstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
	"github.com/djangosessions/gosessions/app/session/sessiontest"
)

// clock is a settable clock for the expiry of a store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func rec(key string, expires time.Time) session.Record {
	return session.Record{Key: key, Data: "data of " + key, Expires: expires}
}

// TestMaxEntries: however many sessions are created, the store holds at
// most its bound, the most recent ones; the others are evicted and never
// load again.
func TestMaxEntries(t *testing.T) {
	s := memstore.New(nil, memstore.WithMaxEntries(100))
	exp := time.Now().Add(time.Hour)
	const n = 10000
	for i := range n {
		if err := s.Create(t.Context(), rec(fmt.Sprint(i), exp)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 100 {
		t.Errorf("after %d sessions the store holds %d records, want its bound, 100", n, got)
	}
	st := s.Stats()
	if st.Evicted != n-100 || st.Len != 100 || st.Max != 100 || st.Writes != n {
		t.Errorf("stats %+v, want %d evicted, 100 held, bound 100, %d writes", st, n-100, n)
	}
	for _, i := range []int{0, 1, n - 101} {
		if _, err := s.Load(t.Context(), fmt.Sprint(i)); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("evicted session %d: Load = %v, want ErrNotFound", i, err)
		}
	}
	for _, i := range []int{n - 100, n - 1} {
		if _, err := s.Load(t.Context(), fmt.Sprint(i)); err != nil {
			t.Errorf("recent session %d: Load = %v", i, err)
		}
	}
}

// TestDefaultMaxEntries: a store made without WithMaxEntries is bounded
// too, by DefaultMaxEntries.
func TestDefaultMaxEntries(t *testing.T) {
	s := memstore.New(nil)
	exp := time.Now().Add(time.Hour)
	for i := range memstore.DefaultMaxEntries + 10 {
		if err := s.Create(t.Context(), rec(fmt.Sprint(i), exp)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != memstore.DefaultMaxEntries {
		t.Errorf("Len = %d, want DefaultMaxEntries (%d)", got, memstore.DefaultMaxEntries)
	}
}

// TestLeastRecentlyUsed: loads and updates count as uses; the session
// evicted is the one used least recently, not the oldest created.
func TestLeastRecentlyUsed(t *testing.T) {
	ctx := t.Context()
	s := memstore.New(nil, memstore.WithMaxEntries(3))
	exp := time.Now().Add(time.Hour)
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Create(ctx, rec(k, exp)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Load(ctx, "a"); err != nil { // order now a, c, b
		t.Fatal(err)
	}
	if err := s.Create(ctx, rec("d", exp)); err != nil { // evicts b
		t.Fatal(err)
	}
	c := rec("c", exp)
	next := c
	next.Data = "c2"
	if err := s.Update(ctx, next, c.Data); err != nil { // order c, d, a
		t.Fatal(err)
	}
	if err := s.Create(ctx, rec("e", exp)); err != nil { // evicts a
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true, "e": true} {
		_, err := s.Load(ctx, k)
		if got := err == nil; got != want {
			t.Errorf("Load(%s) = %v, want present %v", k, err, want)
		}
	}
}

// TestEvictedNeverComesBack: a session evicted while a request holds it
// is gone, as a deleted one is: the request's save is refused with
// ErrInterrupted (Django's SessionInterrupted) and writes nothing, and
// the store's own Update finds no record.
func TestEvictedNeverComesBack(t *testing.T) {
	ctx := t.Context()
	s := memstore.New(nil, memstore.WithMaxEntries(1))
	m, err := session.New(session.Config{Store: s, SecretKey: "memstore-bound-test"})
	if err != nil {
		t.Fatal(err)
	}
	key := sessiontest.NewSession(t, m, map[string]any{"user": "alice"})
	held := m.Open(ctx, key)
	if got := held.GetString("user", ""); got != "alice" {
		t.Fatalf("the session reads %q", got)
	}
	stored, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	sessiontest.NewSession(t, m, map[string]any{"user": "bob"}) // evicts alice's
	held.Set("visits", 1)
	if err := held.Save(); !errors.Is(err, session.ErrInterrupted) {
		t.Errorf("Save of an evicted session = %v, want ErrInterrupted", err)
	}
	if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the evicted session loads after a save: %v", err)
	}
	if err := s.Update(ctx, stored, stored.Data); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Update of an evicted record = %v, want ErrNotFound", err)
	}
	if _, err := s.Load(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the evicted session loads after an Update: %v", err)
	}
}

// TestSweep: expired sessions are removed by the store's own calls,
// without DeleteExpired and without a goroutine, within two passes' worth
// of calls; live ones stay.
func TestSweep(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	s := memstore.New(c.now, memstore.WithMaxEntries(1000))
	for i := range 600 {
		exp := c.now().Add(time.Minute)
		if i%6 == 0 {
			exp = c.now().Add(time.Hour)
		}
		if err := s.Create(ctx, rec(fmt.Sprint(i), exp)); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(2 * time.Minute) // 500 expired, 100 live
	for range 600 {            // 2 records examined per call: two passes
		if _, err := s.Load(ctx, "no such session"); !errors.Is(err, session.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got != 100 {
		t.Errorf("after 600 calls the store holds %d records, want the 100 live ones", got)
	}
	if st := s.Stats(); st.Expired != 500 || st.Evicted != 0 {
		t.Errorf("stats %+v, want 500 expired and none evicted", st)
	}
	if got := s.Live(); got != 100 {
		t.Errorf("Live = %d, want 100", got)
	}
}

// TestSweepKeepsUp: under a steady stream of short sessions the sweep,
// not the bound, keeps the store small: expired records do not pile up
// to the bound.
func TestSweepKeepsUp(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	s := memstore.New(c.now, memstore.WithMaxEntries(10000))
	maxLen := 0
	for i := range 50000 {
		c.advance(time.Second)
		if err := s.Create(ctx, rec(fmt.Sprint(i), c.now().Add(100*time.Second))); err != nil {
			t.Fatal(err)
		}
		maxLen = max(maxLen, s.Len())
	}
	t.Logf("at most %d records held, 100 live", maxLen)
	// 100 live at any time; expired ones wait at most about two passes.
	if maxLen > 400 {
		t.Errorf("the store grew to %d records with 100 live ones", maxLen)
	}
	if st := s.Stats(); st.Evicted != 0 {
		t.Errorf("%d sessions evicted: the sweep did not keep up", st.Evicted)
	}
}

// TestCreateOverExpiredReclaims: an expired record does not hold its key.
func TestCreateOverExpiredReclaims(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	s := memstore.New(c.now)
	if err := s.Create(ctx, rec("k", c.now().Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	fresh := rec("k", c.now().Add(time.Hour))
	fresh.Data = "fresh"
	if err := s.Create(ctx, fresh); err != nil {
		t.Fatalf("Create over an expired record = %v", err)
	}
	if got, err := s.Load(ctx, "k"); err != nil || got.Data != "fresh" {
		t.Errorf("Load = %+v, %v; want the fresh record", got, err)
	}
}
