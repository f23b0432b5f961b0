package usersessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djangosessions/gosessions/app/session"
)

// Defaults of Config.
const (
	// DefaultSeenEvery: a session's last seen is written at most once a
	// minute per process, whatever its traffic.
	DefaultSeenEvery = time.Minute
	// DefaultGrace: an entry written within the last ten minutes is kept
	// even when its session is not found (see Config.Grace).
	DefaultGrace = 10 * time.Minute
	// DefaultRemember: the sessions a process remembers having indexed.
	DefaultRemember = 10000
)

// reviveMargin: a write based on a record that expires within this
// margin, or has expired (Update does not check expiry, so a request that
// read the session before it expired may save it after), writes its
// entry again, since a reader may have dropped it meanwhile. It covers
// the time from the index write to the store write and the clock
// difference between processes.
const reviveMargin = time.Minute

// Config holds the settings of an [Index].
type Config struct {
	// Label returns the owner of a session's data, "" for none: package
	// auth's is the logged-in user's id (auth.UserIDOf). Required. It
	// must be the label the session manager's Watcher (this Index) is
	// given, and quick: it runs on every load and save.
	Label func(data map[string]any) string
	// Now is the clock of the entries' times and of the grace period.
	// Default time.Now.
	Now func() time.Time
	// SeenEvery bounds how often a request that uses a session writes
	// its entry (its last seen, address and browser): at most once per
	// SeenEvery per session and process, so that a read does not become
	// a write on every request. Default DefaultSeenEvery.
	SeenEvery time.Duration
	// Grace is how long an entry is kept after its last write even when
	// its session is not found: an entry is written before its record,
	// so a young entry's record may be about to be created, or about to
	// be saved again by a request that read it before it expired. It must
	// exceed the longest a save takes from its index write to its store
	// write (the session manager's StoreTimeout), plus the difference
	// between the clocks of the site's processes. Dead entries younger
	// than it are not listed, only kept. Default DefaultGrace.
	Grace time.Duration
	// Remember is how many sessions this process remembers having
	// indexed: an update of one of them writes nothing to the index.
	// Default DefaultRemember.
	Remember int
	// Logger receives the failures that do not fail a request (a last
	// seen not written). Default: discard.
	Logger *slog.Logger
}

// Index is the per-user index of sessions on one Backend. It is the
// session manager's [session.Watcher] (session.Config.Watcher), which
// feeds it: every session whose data has an owner (a login) is indexed
// before its record is written, and removed after the record is gone.
// [Index.Sessions] reads and ends an owner's sessions. It is safe for
// concurrent use.
type Index struct {
	b     Backend
	cfg   Config
	known known

	puts, skipped, dropped, signedOut atomic.Int64
}

// New returns an index on b.
func New(b Backend, cfg Config) (*Index, error) {
	if b == nil {
		return nil, errors.New("usersessions: New needs a Backend")
	}
	if cfg.Label == nil {
		return nil, errors.New("usersessions: Config.Label is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SeenEvery <= 0 {
		cfg.SeenEvery = DefaultSeenEvery
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Remember <= 0 {
		cfg.Remember = DefaultRemember
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Index{b: b, cfg: cfg, known: known{max: cfg.Remember, keys: map[string]knownEntry{}}}, nil
}

// Backend returns the index's backend.
func (x *Index) Backend() Backend { return x.b }

// Label implements session.Watcher: Config.Label.
func (x *Index) Label(data map[string]any) string { return x.cfg.Label(data) }

// Writing implements session.Watcher: the entry of the session is
// written before its record. A new record (a new session, a key cycle's)
// always writes it, a cycle's carrying over the device of the old one;
// an update writes it unless this process remembers having indexed the
// session under the same owner and the record it updates is not about to
// expire (a request reviving an expired record writes it again).
func (x *Index) Writing(ctx context.Context, w session.Write) error {
	if len(w.Label) > maxOwner {
		return fmt.Errorf("usersessions: an owner of %d bytes, over %d", len(w.Label), maxOwner)
	}
	now := x.cfg.Now()
	if !w.Create && w.Before == w.Label && w.BaseExpires.After(now.Add(reviveMargin)) && x.known.has(w.Key, w.Label) {
		x.skipped.Add(1)
		return nil
	}
	e := x.entry(ctx, w.Label, w.Key, now)
	if w.Create && w.From != "" && w.Before == w.Label {
		old, ok, err := x.b.Get(ctx, w.Label, w.From)
		if err != nil {
			return err
		}
		if ok {
			e.Device, e.Created = old.Device, old.Created
			if e.IP == "" && e.UserAgent == "" {
				e.IP, e.UserAgent = old.IP, old.UserAgent
			}
		}
	}
	if err := x.b.Put(ctx, e); err != nil {
		return err
	}
	x.puts.Add(1)
	x.known.put(w.Key, w.Label, now)
	return nil
}

// Seen implements session.Watcher: at most once per Config.SeenEvery per
// session and process, the entry's last seen, address and browser are
// written; a session indexed by nobody yet (logged in by Django) is
// indexed here.
func (x *Index) Seen(ctx context.Context, key, label string) {
	if len(label) > maxOwner {
		return
	}
	now := x.cfg.Now()
	if x.known.recent(key, label, now, x.cfg.SeenEvery) {
		return
	}
	if err := x.b.Put(ctx, x.entry(ctx, label, key, now)); err != nil {
		x.cfg.Logger.Warn("usersessions: the last use of a session was not recorded", "key_hash", session.KeyHash(key), "error", err)
		return
	}
	x.puts.Add(1)
	x.known.put(key, label, now)
}

// Removed implements session.Watcher: the session's entries go, its
// record being gone. A failure leaves them for the readers to drop.
func (x *Index) Removed(ctx context.Context, key string) {
	x.known.forget(key)
	if err := x.b.RemoveKey(ctx, key); err != nil {
		x.cfg.Logger.Warn("usersessions: a removed session stays in the index until a reader drops it", "key_hash", session.KeyHash(key), "error", err)
	}
}

// Ensure indexes the session of key holding data if it has an owner and
// no entry yet (manage sessions reindex), and reports whether it did.
func (x *Index) Ensure(ctx context.Context, key string, data map[string]any) (bool, error) {
	owner := x.cfg.Label(data)
	if owner == "" || len(owner) > maxOwner {
		return false, nil
	}
	if _, ok, err := x.b.Get(ctx, owner, key); err != nil || ok {
		return false, err
	}
	if err := x.b.Put(ctx, x.entry(ctx, owner, key, x.cfg.Now())); err != nil {
		return false, err
	}
	x.puts.Add(1)
	return true, nil
}

// entry is a new entry of owner's session key, at now, with the client
// of ctx and a new device id.
func (x *Index) entry(ctx context.Context, owner, key string, now time.Time) Entry {
	c := clientFrom(ctx)
	return Entry{
		Owner: owner, Key: key, Device: newDevice(),
		Created: now, LastSeen: now, Touched: now,
		IP: trim(c.IP, maxIP), UserAgent: trim(c.UserAgent, maxUserAgent),
	}
}

// newDevice returns a new opaque device id: 16 hexadecimal digits from
// crypto/rand, unrelated to any session key.
func newDevice() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Stats are the index's counters since it was made.
type Stats struct {
	// Puts counts entries written (new, or their last seen).
	Puts int64
	// Skipped counts writes of indexed sessions that needed no index
	// write (this process had indexed them).
	Skipped int64
	// Dropped counts dead entries readers removed.
	Dropped int64
	// SignedOut counts sessions ended by Sessions' sign-outs.
	SignedOut int64
}

// Stats returns the index's counters.
func (x *Index) Stats() Stats {
	return Stats{Puts: x.puts.Load(), Skipped: x.skipped.Load(), Dropped: x.dropped.Load(), SignedOut: x.signedOut.Load()}
}

// known remembers the sessions this process indexed: key, owner and when
// it last wrote the entry. Correctness never depends on it: a session
// forgotten is indexed again (one more write).
type known struct {
	max  int
	mu   sync.Mutex
	keys map[string]knownEntry
}

type knownEntry struct {
	owner string
	put   time.Time
}

func (k *known) has(key, owner string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.keys[key]
	return ok && e.owner == owner
}

// recent reports whether the entry of key and owner was written less
// than every ago.
func (k *known) recent(key, owner string, now time.Time, every time.Duration) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.keys[key]
	return ok && e.owner == owner && now.Sub(e.put) < every
}

func (k *known) put(key, owner string, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys) >= k.max {
		// Forget half, in map order (as good as random here).
		n := len(k.keys) / 2
		for key := range k.keys {
			if n == 0 {
				break
			}
			delete(k.keys, key)
			n--
		}
	}
	k.keys[key] = knownEntry{owner: owner, put: now}
}

func (k *known) forget(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, key)
}

// short is the first characters of a key, for errors.
func short(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return key
}
