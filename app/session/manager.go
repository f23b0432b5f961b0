package session

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Manager ties a [Config] to the sessions it serves: it builds the
// middleware and opens sessions outside HTTP. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	signer *codec // the data of stored sessions
	// cookies signs the cookie of the SignedCookies engine (nil otherwise).
	cookies *codec
	// saving serializes the saves of one session key within this process.
	// Correctness never depends on it, since the store's compare-and-swap
	// covers other processes too, but without it many concurrent saves of
	// one session would each retry against all the others. It is a lock
	// per key, waited for within the request's store budget: sessions
	// that merely hash alike never wait for each other.
	saving keyLocks

	decoded decodedCache

	// store is cfg.Store, counted (see Stats); nil with SignedCookies.
	store    Store
	counters counters
}

// New validates cfg, fills its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, signer: newCodec(cfg, SessionSalt)}
	if cfg.SignedCookies {
		m.cookies = newCodec(cfg, CookieSalt)
	}
	m.decoded.max = cfg.DecodedCacheSize
	if cfg.Store != nil {
		m.store = countingStore{Store: cfg.Store, c: &m.counters}
	}
	return m, nil
}

// Config returns the manager's configuration, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// Open returns the session with key outside of a request, like Django's
// SessionStore(session_key=key): it loads on first use and is written only
// by Save. An invalid or unknown key gives an empty session with a new key
// on save.
//
// The session's store calls carry ctx's values but not its cancellation,
// and are bounded by Config.StoreTimeout per session: a session kept after
// its request ended (a background job, a goroutine) can still be saved.
func (m *Manager) Open(ctx context.Context, key string) *Session {
	s := &Session{m: m, ctx: ctx, opened: true}
	if m.validKey(key) {
		s.key = key
	}
	return s
}

// validKey reports whether key, from a cookie, can name a session: a
// session key of the Store (see [ValidKey]), or with SignedCookies a
// signed value of Django's shape.
func (m *Manager) validKey(key string) bool {
	if m.cookies != nil {
		return validSignedValue(key)
	}
	return ValidKey(key)
}

// Encode signs data in Django's session format.
func (m *Manager) Encode(data map[string]any) (string, error) {
	signed, _, err := m.signer.dumps(data, m.cfg.Now())
	return signed, err
}

// Decode verifies and decodes stored session data. Errors wrap
// signing.ErrBadSignature or signing.ErrMalformed.
func (m *Manager) Decode(raw string) (map[string]any, error) {
	data, _, err := m.signer.loads(raw)
	return data, err
}

// Peek returns the live record of key and its data as a request loading
// it would see them, without using the session: it is not counted as
// activity (no refresh of a timeout), and the Watcher is not told. A
// missing or expired record, or one past its absolute timeout, is
// ErrNotFound; data that fails its signature or does not decode is an
// error wrapping signing.ErrBadSignature or signing.ErrMalformed. It is
// for looking at sessions other than the request's (the list of a
// user's sessions), and needs a Store (not SignedCookies). ctx bounds the
// load.
func (m *Manager) Peek(ctx context.Context, key string) (Record, map[string]any, error) {
	if m.store == nil {
		return Record{}, nil, errors.New("session: Peek needs a Store: signed cookies keep no session on the server")
	}
	if !ValidKey(key) {
		return Record{}, nil, ErrNotFound
	}
	rec, err := m.live(ctx, key)
	if err != nil {
		return Record{}, nil, err
	}
	data, ok := m.decoded.get(rec.Key, rec.Data)
	if !ok {
		if data, _, err = m.signer.loads(rec.Data); err != nil {
			return Record{}, nil, fmt.Errorf("session: decode %s: %w", KeyHash(key), err)
		}
	}
	if m.pastAbsolute(data, m.cfg.Now()) {
		return Record{}, nil, ErrNotFound
	}
	return rec, data, nil
}

// fetch loads a live record within the session's store budget (see
// live).
func (s *Session) fetch(key string) (Record, error) {
	ctx := s.storeCall()
	defer s.endCall(ctx)
	return s.m.live(ctx, key)
}

// live loads the record of key; an expired one counts as not found
// whatever the store's clock says.
func (m *Manager) live(ctx context.Context, key string) (Record, error) {
	rec, err := m.store.Load(ctx, key)
	if err != nil {
		if isNotFound(err) {
			return Record{}, err
		}
		return Record{}, fmt.Errorf("session: load %s: %w", KeyHash(key), err)
	}
	if !rec.Expires.After(m.cfg.Now()) {
		return Record{}, ErrNotFound
	}
	return rec, nil
}

// decode turns a record into data; tampered or corrupt data gives an
// empty session and a warning (Django: "Session data corrupted").
func (m *Manager) decode(rec Record) map[string]any {
	if data, ok := m.decoded.get(rec.Key, rec.Data); ok {
		return data
	}
	data, _, err := m.signer.loads(rec.Data)
	if err != nil {
		m.cfg.Logger.Warn("session data corrupted", "key_hash", KeyHash(rec.Key), "error", err)
		return map[string]any{}
	}
	m.decoded.put(rec.Key, rec.Data, data)
	return data
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func (m *Manager) cookieAge() int { return int(m.cfg.CookieAge / time.Second) }

// expiryAge follows Django's get_expiry_age: an integer expiry is returned
// as is (seconds of inactivity), a datetime gives the whole seconds left,
// floored, and anything falsy the cookie age.
func (m *Manager) expiryAge(data map[string]any, now time.Time) int {
	switch v := data[expiryKey].(type) {
	case string:
		if t, ok := parseISO(v); ok {
			return int(math.Floor(t.Sub(now).Seconds()))
		}
	default:
		if n, ok := asInt64(v); ok && n != 0 {
			return int(max(min(n, math.MaxInt32), math.MinInt32))
		}
	}
	return m.cookieAge()
}

// expiryDate follows Django's get_expiry_date.
func (m *Manager) expiryDate(data map[string]any, now time.Time) time.Time {
	if v, ok := data[expiryKey].(string); ok {
		if t, ok := parseISO(v); ok {
			return t
		}
	}
	return now.Add(time.Duration(m.expiryAge(data, now)) * time.Second)
}

// expireAtBrowserClose follows Django's get_expire_at_browser_close.
func (m *Manager) expireAtBrowserClose(data map[string]any) bool {
	v, ok := data[expiryKey]
	if !ok || v == nil {
		return m.cfg.ExpireAtBrowserClose
	}
	n, isInt := asInt64(v)
	return isInt && n == 0
}

// maxAttempts bounds the compare-and-swap loop of a save. Every failed
// attempt means another save of the same session succeeded, so the loop
// makes progress; the bound only guards against a broken store.
const maxAttempts = 1000

// persist writes the pending changes; the caller holds s.mu. Every wait
// for the store in it (the save lock of the key, each store call) comes
// out of the session's store budget (see storeCall).
//
// A new session is created (never upserted) under a fresh key. An existing
// one is updated by compare-and-swap against the data it was loaded with;
// when another request saved first, the session reloads the record,
// replays this request's operations on it and tries again. A deleted
// record is never brought back, by an update or by a key cycle: that is
// ErrInterrupted.
func (s *Session) persist(force bool) error {
	if s.err != nil {
		return s.err
	}
	m := s.m
	if m.cookies != nil {
		return s.persistCookie()
	}
	if s.deleteKey != "" {
		if err := s.storeDelete(s.deleteKey, ""); err != nil {
			return fmt.Errorf("session: delete %s: %w", KeyHash(s.deleteKey), err)
		}
		s.watchRemoved(s.deleteKey)
		s.deleteKey = ""
	}
	if !s.dirty && !force {
		return nil
	}
	if s.rowKey == "" && len(s.data) == 0 {
		// Empty sessions are never stored (CVE-2015-5963).
		s.key, s.ops, s.dirty = "", s.ops[:0], false
		return nil
	}
	s.startClock()
	if s.rowKey != "" {
		ctx := s.storeCall()
		unlock, err := m.saving.lock(ctx, s.rowKey)
		s.endCall(ctx)
		if err != nil {
			return fmt.Errorf("session: save %s: %w", KeyHash(s.rowKey), err)
		}
		defer unlock()
	}
	for attempt := 1; ; attempt++ {
		if attempt > maxAttempts {
			return fmt.Errorf("session: save %s: gave up after %d conflicting attempts", KeyHash(s.rowKey), maxAttempts)
		}
		if attempt > 2 {
			// Several requests are racing on this session: spread them out.
			time.Sleep(time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(100*time.Microsecond))))
		}
		now := m.cfg.Now()
		data, err := m.encode(s.key, s.data, now)
		if err != nil {
			s.err = err
			return err
		}
		rec := Record{Data: data, Expires: m.recordExpiry(s.data, now)}
		switch {
		case s.rowKey == "":
			if err := s.create(rec, ""); err != nil {
				return err
			}
		case s.cycle:
			// The new record first, then the old one goes, by a
			// compare-and-delete: a session is never without a record
			// while it moves, and the move counts only if the old record
			// is still the version this request read.
			err := s.create(rec, s.rowKey)
			if err != nil {
				return err
			}
			err = s.storeDelete(s.rowKey, s.raw)
			if errors.Is(err, ErrConflict) {
				// The old record changed after we read it: take the new
				// record back, merge the change and move again (to the
				// same new key: the watcher's entry for it stays).
				if err := s.storeDelete(s.key, ""); err != nil {
					return fmt.Errorf("session: cycle key: %w", err)
				}
				if err := s.reload(); err != nil {
					s.watchRemoved(s.key)
					return err
				}
				continue
			}
			if isNotFound(err) {
				// The old record was deleted meanwhile (a logout, a
				// revoke): the new one would bring the session back.
				// Take it back and fail as an update would.
				if err := s.storeDelete(s.key, ""); err != nil {
					return fmt.Errorf("session: cycle key: remove %s after %s was deleted: %w", KeyHash(s.key), KeyHash(s.rowKey), err)
				}
				s.watchRemoved(s.key)
				return s.interrupted(s.rowKey)
			}
			if err != nil {
				return fmt.Errorf("session: cycle key: delete %s: %w", KeyHash(s.rowKey), err)
			}
			s.watchRemoved(s.rowKey)
		default:
			rec.Key = s.rowKey
			if err := s.watchWrite(Write{Key: s.rowKey, Expires: rec.Expires}); err != nil {
				return err
			}
			ctx := s.storeCall()
			err := m.store.Update(ctx, rec, s.raw)
			s.endCall(ctx)
			if errors.Is(err, ErrConflict) {
				if err := s.reload(); err != nil {
					return err
				}
				continue
			}
			if isNotFound(err) {
				return s.interrupted(s.rowKey)
			}
			if err != nil {
				return fmt.Errorf("session: update %s: %w", KeyHash(s.rowKey), err)
			}
		}
		s.rowKey, s.raw, s.baseExpires = s.key, data, rec.Expires
		s.watchLoaded(false)
		m.decoded.put(s.key, data, s.data)
		s.cycle, s.ops, s.dirty = false, s.ops[:0], false
		return nil
	}
}

// interrupted counts and logs a save that found the record it was based
// on (key) deleted by another request, and returns ErrInterrupted.
func (s *Session) interrupted(key string) error {
	s.m.counters.interrupted.Add(1)
	s.m.cfg.Logger.Warn("session deleted during request", "key_hash", KeyHash(key))
	return ErrInterrupted
}

// storeDelete deletes a record within the session's store budget.
func (s *Session) storeDelete(key, old string) error {
	ctx := s.storeCall()
	defer s.endCall(ctx)
	return s.m.store.Delete(ctx, key, old)
}

// create stores rec under s.key (a new key when it has none or the key is
// taken) and sets s.key; from is the key a key cycle moves from, "" for a
// new session. The watcher hears of each key before it is created.
func (s *Session) create(rec Record, from string) error {
	for range 10 {
		if s.key == "" {
			s.key = NewKey()
		}
		rec.Key = s.key
		if err := s.watchWrite(Write{Key: s.key, Create: true, From: from, Expires: rec.Expires}); err != nil {
			return err
		}
		ctx := s.storeCall()
		err := s.m.store.Create(ctx, rec)
		s.endCall(ctx)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrExists) {
			return fmt.Errorf("session: create %s: %w", KeyHash(s.key), err)
		}
		s.key = ""
	}
	return errors.New("session: create: every new key was taken; is the store broken?")
}

// reload re-reads the record the session is based on and replays the
// pending operations on it.
func (s *Session) reload() error {
	rec, err := s.fetch(s.rowKey)
	if isNotFound(err) {
		return s.interrupted(s.rowKey)
	}
	if err != nil {
		return err
	}
	s.raw, s.data, s.baseExpires = rec.Data, s.m.decode(rec), rec.Expires
	s.watchLoaded(false)
	for _, o := range s.ops {
		o.apply(s.data)
	}
	return nil
}

// storeCall returns the context of one store call; endCall ends it when
// the call returns. The context carries the request's values but not its
// cancellation (a client that goes away must not cut a save in half, and
// a session saved after its request ended still saves), and its deadline
// is what is left of the session's store budget, Config.StoreTimeout:
// every wait for the store, in all the calls of a request, comes out of
// that one budget, so a request meets a store outage with a 503 within
// the budget instead of queueing for its length. It costs no timer unless
// the call waits (see callCtx). The caller holds s.mu.
func (s *Session) storeCall() *callCtx {
	return newCallCtx(s.ctx, time.Now(), s.m.cfg.StoreTimeout-s.spent)
}

// endCall ends a store call's context and charges its time to the
// session's budget.
func (s *Session) endCall(ctx *callCtx) {
	ctx.end()
	s.spent += time.Since(ctx.start)
}

// encode signs data for the store, refusing data larger than MaxSize:
// what could not be read back is never written.
func (m *Manager) encode(key string, data map[string]any, now time.Time) (string, error) {
	signed, size, err := m.signer.dumps(data, now)
	if err != nil {
		return "", err
	}
	if size > m.cfg.MaxSize {
		return "", fmt.Errorf("%w: session %s holds %d bytes of JSON, over the limit of %d (Config.MaxSize)", ErrTooLarge, KeyHash(key), size, m.cfg.MaxSize)
	}
	return signed, nil
}

// keyLocks is a lock per session key, created on demand and dropped when
// nobody holds or waits for it. Waiting honours a context.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while locked
	refs int           // holders and waiters
}

// lock locks key, or returns ctx's error if ctx ends first. The returned
// function unlocks it.
func (l *keyLocks) lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.held == nil {
		l.held = make(map[string]*keyLock)
	}
	k := l.held[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.held[key] = k
	}
	k.refs++
	l.mu.Unlock()
	unlock := func() {
		<-k.ch
		l.release(key, k)
	}
	select {
	case k.ch <- struct{}{}:
		// Free: taken without asking for ctx.Done, which would start
		// the context's timer (see callCtx).
		return unlock, nil
	default:
	}
	select {
	case k.ch <- struct{}{}:
		return unlock, nil
	case <-ctx.Done():
		l.release(key, k)
		return nil, fmt.Errorf("wait for another save of this session: %w", ctx.Err())
	}
}

func (l *keyLocks) release(key string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.held, key)
	}
}
