// Package sessiontest is the conformance suite of session.Store: every
// store runs the same cases, one per clause of the Store contract, from its
// own tests (the pattern of golang-migrate's database/testing), and the
// model check ([ModelCheck]), which runs random concurrent requests
// through several managers (and processes) and checks the history with a
// linearizability checker:
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, func(t *testing.T) session.Store {
//			return memstore.New(nil)
//		})
//	}
//
// The suite uses the real clock: expired records are created with an
// expiry in the past, so a store must expire by its own clock (time.Now by
// default), and nothing sleeps. Expiry times must come back exactly when
// they are whole seconds and to the millisecond otherwise. Record data is
// any UTF-8 text without NUL bytes, up to hundreds of kilobytes.
package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// Concurrency is the number of goroutines of the concurrent cases.
const Concurrency = 50

// Run runs the conformance suite. newStore returns an empty store for one
// subtest; it may register cleanups on the t it is given. Subtests do not
// run in parallel with each other, so a store may share its storage
// between calls as long as records of other subtests do not matter (every
// subtest uses fresh random keys).
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

var cases = []struct {
	name string
	run  func(t *testing.T, s session.Store)
}{
	{"LoadMissing", testLoadMissing},
	{"CreateLoad", testCreateLoad},
	{"CreateExisting", testCreateExisting},
	{"CreateOverExpired", testCreateOverExpired},
	{"UpdateSwaps", testUpdateSwaps},
	{"UpdateConflict", testUpdateConflict},
	{"UpdateNotFound", testUpdateNotFound},
	{"UpdateExpired", testUpdateExpired},
	{"DeleteUnconditional", testDeleteUnconditional},
	{"DeleteConditional", testDeleteConditional},
	{"DeleteConflict", testDeleteConflict},
	{"DeleteMissing", testDeleteMissing},
	{"DeleteConditionalMissing", testDeleteConditionalMissing},
	{"DeleteConditionalTwice", testDeleteConditionalTwice},
	{"ExpiredNeverLoads", testExpiredNeverLoads},
	{"RoundTrip", testRoundTrip},
	{"CancelledContext", testCancelledContext},
	{"ConcurrentCreate", testConcurrentCreate},
	{"ConcurrentUpdateOneWins", testConcurrentUpdateOneWins},
	{"ConcurrentIncrements", testConcurrentIncrements},
	{"CycleAfterLogoutInterrupted", testCycleAfterLogoutInterrupted},
	{"CycleAfterRevokeInterrupted", testCycleAfterRevokeInterrupted},
}

// record returns a live record with a fresh key, expiring in an hour, at a
// whole second (which every store can represent exactly).
func record(data string) session.Record {
	return session.Record{
		Key:     session.NewKey(),
		Data:    data,
		Expires: time.Now().Add(time.Hour).Truncate(time.Second),
	}
}

func create(t *testing.T, s session.Store, rec session.Record) {
	t.Helper()
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.Key, err)
	}
}

// wantRecord checks that key loads as want.
func wantRecord(t *testing.T, s session.Store, want session.Record) {
	t.Helper()
	got, err := s.Load(t.Context(), want.Key)
	if err != nil {
		t.Fatalf("Load(%s) after a write: %v", want.Key, err)
	}
	if got.Key != want.Key || got.Data != want.Data || !got.Expires.Equal(want.Expires) {
		t.Errorf("Load(%s) = {%s %.60q %v}, want {%s %.60q %v}", want.Key,
			got.Key, got.Data, got.Expires, want.Key, want.Data, want.Expires)
	}
}

// wantNotFound checks that key does not load.
func wantNotFound(t *testing.T, s session.Store, key string) {
	t.Helper()
	got, err := s.Load(t.Context(), key)
	if !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load(%s) = %+v, %v; want ErrNotFound", key, got, err)
	}
}

// wantErr checks a store result against a sentinel (nil for success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func testLoadMissing(t *testing.T, s session.Store) {
	wantNotFound(t, s, session.NewKey())
	wantNotFound(t, s, "")
}

func testCreateLoad(t *testing.T, s session.Store) {
	rec := record("data-1")
	create(t, s, rec)
	wantRecord(t, s, rec)

	// Expiry keeps at least millisecond precision, whatever the zone.
	frac := record("data-2")
	frac.Expires = frac.Expires.Add(123 * time.Millisecond).In(time.FixedZone("UTC+5", 5*3600))
	create(t, s, frac)
	got, err := s.Load(t.Context(), frac.Key)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Expires.Sub(frac.Expires); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("Load(%s).Expires = %v, want %v", frac.Key, got.Expires, frac.Expires)
	}
}

func testCreateExisting(t *testing.T, s session.Store) {
	rec := record("first")
	create(t, s, rec)
	second := rec
	second.Data = "second"
	second.Expires = rec.Expires.Add(time.Hour)
	wantErr(t, "Create on a taken key", s.Create(t.Context(), second), session.ErrExists)
	wantRecord(t, s, rec) // never an upsert
}

func testCreateOverExpired(t *testing.T, s session.Store) {
	rec := record("expired")
	rec.Expires = time.Now().Add(-time.Hour).Truncate(time.Second)
	create(t, s, rec)
	fresh := record("fresh")
	fresh.Key = rec.Key
	// The key is still taken (the database, until clearsessions) or
	// reclaimed (a store that drops expired records by itself); the
	// expired record never loads either way.
	switch err := s.Create(t.Context(), fresh); {
	case err == nil:
		wantRecord(t, s, fresh)
	case errors.Is(err, session.ErrExists):
		wantNotFound(t, s, rec.Key)
	default:
		t.Errorf("Create on the key of an expired record = %v, want nil or ErrExists", err)
	}
}

func testUpdateSwaps(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	next := rec
	next.Data = "v2"
	next.Expires = rec.Expires.Add(time.Hour)
	wantErr(t, "Update with the current data", s.Update(t.Context(), next, "v1"), nil)
	wantRecord(t, s, next)

	// Writing the same data again is still a successful swap.
	wantErr(t, "Update with unchanged data", s.Update(t.Context(), next, "v2"), nil)
	wantRecord(t, s, next)
}

func testUpdateConflict(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	next := rec
	next.Data = "v2"
	next.Expires = rec.Expires.Add(time.Hour)
	wantErr(t, "Update with stale data", s.Update(t.Context(), next, "v0"), session.ErrConflict)
	wantErr(t, "Update with empty old data", s.Update(t.Context(), next, ""), session.ErrConflict)
	wantRecord(t, s, rec)
}

func testUpdateNotFound(t *testing.T, s session.Store) {
	rec := record("v1")
	wantErr(t, "Update of a missing record", s.Update(t.Context(), rec, "v0"), session.ErrNotFound)
	wantNotFound(t, s, rec.Key) // Update never creates

	create(t, s, rec)
	wantErr(t, "Delete", s.Delete(t.Context(), rec.Key, ""), nil)
	wantErr(t, "Update of a deleted record", s.Update(t.Context(), rec, "v1"), session.ErrNotFound)
	wantNotFound(t, s, rec.Key) // a deleted session never comes back
}

func testUpdateExpired(t *testing.T, s session.Store) {
	// Update does not check expiry: the swap on an expired record works
	// and can make it live again, unless the store has reclaimed the
	// record already; then it is gone like a deleted one.
	rec := record("old")
	rec.Expires = time.Now().Add(-time.Hour).Truncate(time.Second)
	create(t, s, rec)
	next := record("new")
	next.Key = rec.Key
	switch err := s.Update(t.Context(), next, "old"); {
	case err == nil:
		wantRecord(t, s, next)
	case errors.Is(err, session.ErrNotFound):
		wantNotFound(t, s, rec.Key) // Update never creates
	default:
		t.Errorf("Update of an expired record = %v, want nil or ErrNotFound", err)
	}
	// A swap from stale data is refused whatever the store did.
	stale := next
	stale.Data = "newer"
	if err := s.Update(t.Context(), stale, "old"); err == nil {
		t.Error("Update from data that was replaced succeeded")
	}
}

func testDeleteUnconditional(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	wantErr(t, "Delete", s.Delete(t.Context(), rec.Key, ""), nil)
	wantNotFound(t, s, rec.Key)

	// The key is free again.
	create(t, s, rec)
	wantRecord(t, s, rec)
}

func testDeleteConditional(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	wantErr(t, "Delete with the current data", s.Delete(t.Context(), rec.Key, "v1"), nil)
	wantNotFound(t, s, rec.Key)
}

func testDeleteConflict(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	wantErr(t, "Delete with stale data", s.Delete(t.Context(), rec.Key, "v0"), session.ErrConflict)
	wantRecord(t, s, rec)
}

func testDeleteMissing(t *testing.T, s session.Store) {
	key := session.NewKey()
	wantErr(t, "Delete of a missing record", s.Delete(t.Context(), key, ""), nil)
	wantErr(t, "Delete of a missing record, again", s.Delete(t.Context(), key, ""), nil)
	wantNotFound(t, s, key)
}

// testDeleteConditionalMissing: a conditional Delete is a compare-and-
// delete, and like Update it tells a missing record (ErrNotFound) from a
// changed one (ErrConflict): a key cycle and a revoke need to know that
// the record they read is gone.
func testDeleteConditionalMissing(t *testing.T, s session.Store) {
	key := session.NewKey()
	wantErr(t, "conditional Delete of a never stored record", s.Delete(t.Context(), key, "v1"), session.ErrNotFound)
	wantNotFound(t, s, key)

	rec := record("v1")
	create(t, s, rec)
	wantErr(t, "Delete", s.Delete(t.Context(), rec.Key, ""), nil)
	wantErr(t, "conditional Delete of a deleted record", s.Delete(t.Context(), rec.Key, "v1"), session.ErrNotFound)
	wantNotFound(t, s, rec.Key) // and never created
}

// testDeleteConditionalTwice: the second of two conditional deletes of
// one record finds it gone.
func testDeleteConditionalTwice(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	wantErr(t, "first conditional Delete", s.Delete(t.Context(), rec.Key, "v1"), nil)
	wantErr(t, "second conditional Delete", s.Delete(t.Context(), rec.Key, "v1"), session.ErrNotFound)
	wantNotFound(t, s, rec.Key)
}

func testExpiredNeverLoads(t *testing.T, s session.Store) {
	for _, ago := range []time.Duration{time.Second, time.Hour, 400 * 24 * time.Hour} {
		rec := record("data")
		rec.Expires = time.Now().Add(-ago)
		create(t, s, rec)
		wantNotFound(t, s, rec.Key)
	}
	// A live record next to them still loads.
	live := record("live")
	create(t, s, live)
	wantRecord(t, s, live)
}

func testRoundTrip(t *testing.T, s session.Store) {
	for _, data := range []string{
		"x",
		"héllo wörld ✓ 日本語 🎉",
		`quotes ' " and \backslashes\ and %_ wildcards`,
		"lines\nand\ttabs\r\n",
		"eyJmb28iOiJiYXIifQ:1xWemM:u3_NL69wPAvD5sWeP3cY9w2qBSrvKSmM4OnnW8tmxEU",
		strings.Repeat("0123456789abcdef", 16<<10), // 256 KiB
	} {
		rec := record(data)
		create(t, s, rec)
		wantRecord(t, s, rec)
		next := rec
		next.Data = data + "·2"
		wantErr(t, "Update with the stored data", s.Update(t.Context(), next, data), nil)
		wantRecord(t, s, next)
		wantErr(t, "Delete with the stored data", s.Delete(t.Context(), rec.Key, next.Data), nil)
		wantNotFound(t, s, rec.Key)
	}
}

func testCancelledContext(t *testing.T, s session.Store) {
	rec := record("v1")
	create(t, s, rec)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A cancelled request is a fault, not a result: no sentinel, no write.
	faults := map[string]error{}
	_, faults["Load"] = s.Load(ctx, rec.Key)
	other := record("v2")
	faults["Create"] = s.Create(ctx, other)
	next := rec
	next.Data = "v2"
	faults["Update"] = s.Update(ctx, next, "v1")
	faults["Delete"] = s.Delete(ctx, rec.Key, "")
	for op, err := range faults {
		if err == nil || errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrExists) || errors.Is(err, session.ErrConflict) {
			t.Errorf("%s with a cancelled context = %v, want a fault", op, err)
		}
	}
	wantRecord(t, s, rec)
	wantNotFound(t, s, other.Key)
}

func testConcurrentCreate(t *testing.T, s session.Store) {
	recs := make([]session.Record, Concurrency)
	errs := make([]error, Concurrency)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = record(fmt.Sprintf("data-%d", i))
		wg.Go(func() { errs[i] = s.Create(t.Context(), recs[i]) })
	}
	wg.Wait()
	for i, rec := range recs {
		if errs[i] != nil {
			t.Errorf("concurrent Create %d: %v", i, errs[i])
			continue
		}
		wantRecord(t, s, rec)
	}
}

func testConcurrentUpdateOneWins(t *testing.T, s session.Store) {
	rec := record("v0")
	create(t, s, rec)
	var wins, conflicts atomic.Int64
	var wg sync.WaitGroup
	for i := range Concurrency {
		wg.Go(func() {
			next := rec
			next.Data = fmt.Sprintf("v1-%d", i)
			switch err := s.Update(t.Context(), next, "v0"); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, session.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("concurrent Update: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != Concurrency-1 {
		t.Errorf("%d concurrent swaps from one version: %d won, %d conflicted; want 1 and %d",
			Concurrency, wins.Load(), conflicts.Load(), Concurrency-1)
	}
}

// testConcurrentIncrements runs the whole save algorithm on the store:
// Concurrency requests increment one counter through session.Manager, and
// none of the increments is lost.
func testConcurrentIncrements(t *testing.T, s session.Store) {
	m := suiteManager(t, s)
	key := NewSession(t, m, map[string]any{"seed": true})
	Increment(t, []*session.Manager{m}, key, Concurrency)
}

// Increment saves n concurrent increments of the counter "n" of session
// key, spread over managers (one per simulated process), and fails t
// unless every manager then reads exactly n: no lost update.
func Increment(t *testing.T, managers []*session.Manager, key string, n int) {
	t.Helper()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		m := managers[i%len(managers)]
		wg.Go(func() {
			sess := m.Open(t.Context(), key)
			sess.Incr("n", 1)
			errs <- sess.Save()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Save of an increment: %v", err)
		}
	}
	for i, m := range managers {
		if got := m.Open(t.Context(), key).GetInt("n", 0); got != n {
			t.Errorf("manager %d reads %d after %d concurrent increments: %d lost updates", i+1, got, n, n-got)
		}
	}
}

// NewSession stores a session with data through m and returns its key.
func NewSession(t testing.TB, m *session.Manager, data map[string]any) string {
	t.Helper()
	sess := m.Open(context.Background(), "")
	sess.Update(data)
	if err := sess.Save(); err != nil {
		t.Fatalf("save a new session: %v", err)
	}
	if sess.Key() == "" {
		t.Fatal("a saved session has no key")
	}
	return sess.Key()
}

// testCycleAfterLogoutInterrupted: request B reads a logged-in session,
// request A logs it out (Flush), then B cycles its key (a login, a
// privilege change) and saves. B's save must fail with ErrInterrupted, as
// an update would, and leave nothing behind: neither key may hold the
// logged-out user, or the logout is undone.
func testCycleAfterLogoutInterrupted(t *testing.T, s session.Store) {
	m := suiteManager(t, s)
	key := NewSession(t, m, map[string]any{"_auth_user_id": "1"})
	b := m.Open(t.Context(), key)
	b.Len() // B reads the session
	a := m.Open(t.Context(), key)
	a.Flush()
	if err := a.Save(); err != nil {
		t.Fatalf("logout: %v", err)
	}
	b.CycleKey()
	err := b.Save()
	if !errors.Is(err, session.ErrInterrupted) {
		t.Errorf("CycleKey and Save after a logout = %v, want ErrInterrupted", err)
	}
	wantNoSession(t, m, key, "the logged-out key")
	wantNoSession(t, m, b.Key(), "the cycled key")
}

// testCycleAfterRevokeInterrupted is the same race with the operator's
// conditional delete (manage sessions revoke) in place of the logout.
func testCycleAfterRevokeInterrupted(t *testing.T, s session.Store) {
	m := suiteManager(t, s)
	key := NewSession(t, m, map[string]any{"_auth_user_id": "1"})
	b := m.Open(t.Context(), key)
	b.Len()
	rec, err := s.Load(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoke's conditional Delete", s.Delete(t.Context(), key, rec.Data), nil)
	b.CycleKey()
	b.Set("_auth_user_id", "2")
	if err := b.Save(); !errors.Is(err, session.ErrInterrupted) {
		t.Errorf("CycleKey and Save after a revoke = %v, want ErrInterrupted", err)
	}
	wantNoSession(t, m, key, "the revoked key")
	wantNoSession(t, m, b.Key(), "the cycled key")
}

// suiteManager is a session manager on s for the suite's cases.
func suiteManager(t *testing.T, s session.Store) *session.Manager {
	t.Helper()
	m, err := session.New(session.Config{Store: s, SecretKey: "sessiontest secret key", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wantNoSession checks that key opens an empty session.
func wantNoSession(t *testing.T, m *session.Manager, key, what string) {
	t.Helper()
	if key == "" {
		return
	}
	if data := m.Open(t.Context(), key).Items(); len(data) != 0 {
		t.Errorf("%s (%s) still holds %v", what, session.KeyHash(key), data)
	}
}
