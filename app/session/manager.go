package session

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Manager ties a [Config] to the sessions it serves: it builds the
// middleware and opens sessions outside HTTP. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	signer *Signer
	// saving serializes the saves of one session key within this process
	// (striped by key hash). Correctness never depends on it, since the
	// store's compare-and-swap covers other processes too, but without it
	// many concurrent saves of one session would each retry against all
	// the others.
	saving [64]sync.Mutex

	decoded decodedCache
}

// New validates cfg, fills its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, signer: NewSigner(cfg.SecretKey, cfg.SecretKeyFallbacks, SessionSalt)}
	m.decoded.max = cfg.DecodedCacheSize
	return m, nil
}

// ToMiddleware validates cfg and returns the session middleware.
func (cfg Config) ToMiddleware() (echo.MiddlewareFunc, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return m.Middleware(), nil
}

// Config returns the manager's configuration, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// Signer returns the signer that encodes session data.
func (m *Manager) Signer() *Signer { return m.signer }

// Open returns the session with key outside of a request, like Django's
// SessionStore(session_key=key): it loads on first use and is written only
// by Save. An invalid or unknown key gives an empty session with a new key
// on save.
func (m *Manager) Open(ctx context.Context, key string) *Session {
	s := &Session{m: m, ctx: ctx}
	if ValidKey(key) {
		s.key = key
	}
	return s
}

// Encode signs data in Django's session format.
func (m *Manager) Encode(data map[string]any) (string, error) {
	return m.signer.Dumps(data, m.cfg.Now())
}

// Decode verifies and decodes stored session data.
func (m *Manager) Decode(raw string) (map[string]any, error) {
	return m.signer.Loads(raw)
}

// fetch loads a live record; expired records count as not found whatever
// the store's clock says.
func (m *Manager) fetch(ctx context.Context, key string) (Record, error) {
	rec, err := m.cfg.Store.Load(ctx, key)
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
	data, err := m.signer.Loads(rec.Data)
	if err != nil {
		m.cfg.Logger.Warn("session data corrupted", "key_hash", KeyHash(rec.Key), "error", err)
		return map[string]any{}
	}
	m.decoded.put(rec.Key, rec.Data, data)
	return data
}

// stripe picks the save lock of key (FNV-1a).
func stripe(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return h % 64
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

// persist writes the pending changes; the caller holds s.mu.
//
// A new session is created (never upserted) under a fresh key. An existing
// one is updated by compare-and-swap against the data it was loaded with;
// when another request saved first, the session reloads the record,
// replays this request's operations on it and tries again. A deleted
// record is never brought back: that is ErrInterrupted.
func (s *Session) persist(ctx context.Context, force bool) error {
	if s.err != nil {
		return s.err
	}
	m := s.m
	if s.deleteKey != "" {
		if err := m.cfg.Store.Delete(ctx, s.deleteKey, ""); err != nil {
			return fmt.Errorf("session: delete %s: %w", KeyHash(s.deleteKey), err)
		}
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
	if s.rowKey != "" {
		mu := &m.saving[stripe(s.rowKey)]
		mu.Lock()
		defer mu.Unlock()
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
		data, err := m.signer.Dumps(s.data, now)
		if err != nil {
			s.err = err
			return err
		}
		rec := Record{Data: data, Expires: m.expiryDate(s.data, now)}
		switch {
		case s.rowKey == "":
			if err := s.create(ctx, rec); err != nil {
				return err
			}
		case s.cycle:
			err := s.create(ctx, rec)
			if err != nil {
				return err
			}
			err = m.cfg.Store.Delete(ctx, s.rowKey, s.raw)
			if errors.Is(err, ErrConflict) {
				// The old record changed after we read it: take the new
				// record back, merge the change and move again.
				if err := m.cfg.Store.Delete(ctx, s.key, ""); err != nil {
					return fmt.Errorf("session: cycle key: %w", err)
				}
				if err := s.reload(ctx); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("session: cycle key: delete %s: %w", KeyHash(s.rowKey), err)
			}
		default:
			rec.Key = s.rowKey
			err := m.cfg.Store.Update(ctx, rec, s.raw)
			if errors.Is(err, ErrConflict) {
				if err := s.reload(ctx); err != nil {
					return err
				}
				continue
			}
			if isNotFound(err) {
				m.cfg.Logger.Warn("session deleted during request", "key_hash", KeyHash(s.rowKey))
				return ErrInterrupted
			}
			if err != nil {
				return fmt.Errorf("session: update %s: %w", KeyHash(s.rowKey), err)
			}
		}
		s.rowKey, s.raw = s.key, data
		m.decoded.put(s.key, data, s.data)
		s.cycle, s.ops, s.dirty = false, s.ops[:0], false
		return nil
	}
}

// create stores rec under s.key (a new key when it has none or the key is
// taken) and sets s.key.
func (s *Session) create(ctx context.Context, rec Record) error {
	for range 10 {
		if s.key == "" {
			s.key = NewKey()
		}
		rec.Key = s.key
		err := s.m.cfg.Store.Create(ctx, rec)
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
func (s *Session) reload(ctx context.Context) error {
	rec, err := s.m.fetch(ctx, s.rowKey)
	if isNotFound(err) {
		s.m.cfg.Logger.Warn("session deleted during request", "key_hash", KeyHash(s.rowKey))
		return ErrInterrupted
	}
	if err != nil {
		return err
	}
	s.raw, s.data = rec.Data, s.m.decode(rec)
	for _, o := range s.ops {
		o.apply(s.data)
	}
	return nil
}
