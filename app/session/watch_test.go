package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djangosessions/gosessions/app/session"
	"github.com/djangosessions/gosessions/app/session/memstore"
)

// recorder is a Watcher that labels a session by its "user" and records
// what it is told, checking the order the contract promises against the
// store at each call: a record is written only after Writing named it,
// and Removed comes only once the record is gone.
type recorder struct {
	t     *testing.T
	store *memstore.Store

	mu     sync.Mutex
	events []string
	refuse error // Writing fails with it when set
}

func (w *recorder) Label(data map[string]any) string {
	u, _ := data["user"].(string)
	return u
}

func (w *recorder) present(key string) bool {
	// A conditional delete with data no record holds tells a record that
	// exists (ErrConflict, expired or not) from none (ErrNotFound).
	err := w.store.Delete(context.Background(), key, "no record holds this")
	return errors.Is(err, session.ErrConflict)
}

func (w *recorder) Writing(ctx context.Context, wr session.Write) error {
	if ctx.Err() != nil {
		w.t.Errorf("Writing of %s with a done context", wr.Key)
	}
	if wr.Create && w.present(wr.Key) {
		w.t.Errorf("Writing(create %s) after the record exists", short(wr.Key))
	}
	w.log(fmt.Sprintf("writing key=%s create=%v from=%s label=%s before=%s", short(wr.Key), wr.Create, short(wr.From), wr.Label, wr.Before))
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refuse
}

func (w *recorder) Seen(ctx context.Context, key, label string) {
	w.log(fmt.Sprintf("seen key=%s label=%s", short(key), label))
}

func (w *recorder) Removed(ctx context.Context, key string) {
	if w.present(key) {
		w.t.Errorf("Removed(%s) while the record exists", short(key))
	}
	w.log("removed key=" + short(key))
}

func (w *recorder) log(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, s)
}

// take returns the events so far and forgets them.
func (w *recorder) take() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.Join(w.events, "\n")
	w.events = nil
	return s
}

func short(key string) string {
	if len(key) > 6 {
		return key[:6]
	}
	return key
}

func newWatched(t *testing.T) (*env, *recorder) {
	t.Helper()
	w := &recorder{t: t}
	v := newEnv(t, func(cfg *session.Config) { cfg.Watcher = w })
	w.store = v.mem
	return v, w
}

// TestWatcherHearsEveryWrite: the watcher hears of every write of a
// labelled session before it happens (a new session, an update, the new
// record of a key cycle, with the label of what it replaces), of every
// removal after it happened (a flush, the old key of a cycle), and of
// every load of a labelled session; an unlabelled session costs it
// nothing but the removal of its record.
func TestWatcherHearsEveryWrite(t *testing.T) {
	v, w := newWatched(t)
	ctx := context.Background()

	anon := v.newStored(map[string]any{"cart": "1"})
	if got := w.take(); got != "" {
		t.Errorf("an unlabelled session was watched:\n%s", got)
	}

	s := v.m.Open(ctx, anon)
	s.CycleKey()
	s.Set("user", "7") // a login
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	k1 := s.Key()
	want := fmt.Sprintf("writing key=%s create=true from=%s label=7 before=\nremoved key=%s", short(k1), short(anon), short(anon))
	if got := w.take(); got != want {
		t.Errorf("login:\n%s\nwant\n%s", got, want)
	}

	s = v.m.Open(ctx, k1)
	s.Incr("n", 1)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("seen key=%s label=7\nwriting key=%s create=false from= label=7 before=7", short(k1), short(k1))
	if got := w.take(); got != want {
		t.Errorf("update:\n%s\nwant\n%s", got, want)
	}

	s = v.m.Open(ctx, k1)
	s.Set("user", "8") // another user on the same key: the label changes
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("seen key=%s label=7\nwriting key=%s create=false from= label=8 before=7", short(k1), short(k1))
	if got := w.take(); got != want {
		t.Errorf("change of user:\n%s\nwant\n%s", got, want)
	}

	s = v.m.Open(ctx, k1)
	s.Flush()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("seen key=%s label=8\nremoved key=%s", short(k1), short(k1))
	if got := w.take(); got != want {
		t.Errorf("logout:\n%s\nwant\n%s", got, want)
	}

	// A new session logged in from its first save.
	s = v.m.Open(ctx, "")
	s.Set("user", "9")
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf("writing key=%s create=true from= label=9 before=", short(s.Key()))
	if got := w.take(); got != want {
		t.Errorf("new session:\n%s\nwant\n%s", got, want)
	}
}

// TestWatcherCycleAfterLogout: a key cycle that finds its old record
// deleted meanwhile takes its new record back, and the watcher hears of
// that removal too: the index is left with nothing of the session.
func TestWatcherCycleAfterLogout(t *testing.T) {
	v, w := newWatched(t)
	ctx := context.Background()
	key := v.newStored(map[string]any{"user": "7"})
	w.take()

	b := v.m.Open(ctx, key)
	b.Len()
	if err := v.mem.Delete(ctx, key, ""); err != nil { // a logout elsewhere
		t.Fatal(err)
	}
	b.CycleKey()
	if err := b.Save(); !errors.Is(err, session.ErrInterrupted) {
		t.Fatalf("cycle after a logout: %v, want ErrInterrupted", err)
	}
	newKey := b.Key()
	want := fmt.Sprintf("seen key=%s label=7\nwriting key=%s create=true from=%s label=7 before=7\nremoved key=%s", short(key), short(newKey), short(key), short(newKey))
	if got := w.take(); got != want {
		t.Errorf("events:\n%s\nwant\n%s", got, want)
	}
	if v.stored(newKey) != nil {
		t.Error("the cycle's new record is still there")
	}
}

// TestWatcherRefusesWrite: a watcher that cannot record a write stops
// it: the save fails with the watcher's error and nothing is written,
// so an index is never behind the store.
func TestWatcherRefusesWrite(t *testing.T) {
	v, w := newWatched(t)
	ctx := context.Background()
	down := errors.New("index down")
	w.refuse = down

	s := v.m.Open(ctx, "")
	s.Set("user", "7")
	if err := s.Save(); !errors.Is(err, down) {
		t.Fatalf("Save: %v, want the watcher's error", err)
	}
	if n := v.mem.Len(); n != 0 {
		t.Errorf("%d records stored after a refused write", n)
	}

	w.refuse = nil
	key := v.newStored(map[string]any{"user": "7", "n": 1})
	w.refuse = down
	s = v.m.Open(ctx, key)
	s.Set("n", 2)
	if err := s.Save(); !errors.Is(err, down) {
		t.Fatalf("update: %v, want the watcher's error", err)
	}
	if got := v.stored(key)["n"]; got != jsonNumber(1) {
		t.Errorf("n = %v after a refused update, want 1", got)
	}

	// Through the middleware: a 503, as for a store fault.
	v.handle("/login", func(c echo.Context, s *session.Session) error {
		s.Set("user", "8")
		return c.String(200, "ok")
	})
	if rec := v.do("/login", ""); rec.Code != 503 {
		t.Errorf("a write the watcher refused answers %d, want 503", rec.Code)
	}
}
