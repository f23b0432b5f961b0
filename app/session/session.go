package session

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// expiryKey is where Django keeps a per-session expiry in the data.
const expiryKey = "_session_expiry"

type opKind uint8

const (
	opSet opKind = iota
	opDelete
	opClear
	opSetDefault
	opIncr
)

// op is one change a request made to its session. A save replays the ops
// of the request on the freshest stored data, so concurrent requests that
// touch different keys (or increment the same counter) all keep their
// changes.
type op struct {
	kind  opKind
	key   string
	value any
	n     int64
}

func (o op) apply(m map[string]any) {
	switch o.kind {
	case opSet:
		m[o.key] = o.value
	case opDelete:
		delete(m, o.key)
	case opClear:
		clear(m)
	case opSetDefault:
		if _, ok := m[o.key]; !ok {
			m[o.key] = o.value
		}
	case opIncr:
		m[o.key] = json.Number(strconv.FormatInt(addInt(m[o.key], o.n), 10))
	}
}

// addInt adds n to an integer value; a missing or non-integer value counts
// as zero. The sum saturates instead of wrapping.
func addInt(v any, n int64) int64 {
	cur, _ := asInt64(v)
	if n > 0 && cur > math.MaxInt64-n {
		return math.MaxInt64
	}
	if n < 0 && cur < math.MinInt64-n {
		return math.MinInt64
	}
	return cur + n
}

// Session is one request's session: a dictionary of JSON values with
// Django's API. It loads from the store on first use and is saved by the
// middleware when the response starts. Its methods are safe for concurrent
// use.
//
// Values read back in their JSON form: numbers are json.Number (use
// [Session.GetInt], [Session.GetFloat] or [Get]), objects map[string]any,
// arrays []any. Changing a map or slice obtained from the session does not
// mark it modified: call [Session.MarkModified] with its key, or set the
// key again.
type Session struct {
	m   *Manager
	ctx context.Context

	mu        sync.Mutex
	key       string // current key; "" when the session has none yet
	hadCookie bool   // the request carried a session cookie
	loaded    bool
	err       error          // a load or encoding fault: blocks every write
	data      map[string]any // current view of the data
	rowKey    string         // key of the stored record this view is based on
	raw       string         // that record's data, the compare-and-swap token
	ops       []op           // changes not yet saved
	dirty     bool           // something to write: ops, a flush or a key cycle
	deleteKey string         // record to delete at save (flush)
	cycle     bool           // the record moves to key at save (cycle_key)
	accessed  bool
	modified  bool
	spent     time.Duration // store time used, out of Config.StoreTimeout
	opened    bool          // made by Manager.Open: each Save has a fresh budget
}

// load reads the session from the store on first use; the caller holds mu.
func (s *Session) load() {
	s.accessed = true
	if s.loaded {
		return
	}
	s.loaded = true
	s.data = map[string]any{}
	if s.key == "" {
		return
	}
	if s.m.cookies != nil {
		s.loadCookie()
		return
	}
	rec, err := s.fetch(s.key)
	switch {
	case err == nil:
		s.rowKey, s.raw, s.data = rec.Key, rec.Data, s.m.decode(rec)
	case isNotFound(err):
		// Unknown or expired keys are never adopted: a fresh session.
		s.key = ""
	default:
		s.err = err
	}
}

func (s *Session) change(o op) {
	o.apply(s.data)
	if o.kind == opClear {
		s.ops = s.ops[:0]
	}
	s.ops = append(s.ops, o)
	s.modified = true
	s.dirty = true
}

// Key returns the session key, or "" for a session not stored yet. After
// CycleKey it is the new key.
func (s *Session) Key() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// Err returns the store fault that stopped this session from loading or a
// value from encoding, if any. The middleware reports it through the error
// hook and never saves such a session; handlers may check it earlier.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Lookup returns the value for key and whether it is present (Django's
// session[key], without the KeyError).
func (s *Session) Lookup(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	v, ok := s.data[key]
	return v, ok
}

// Get returns the value for key, or def when it is absent (Django's
// session.get(key, default)).
func (s *Session) Get(key string, def any) any {
	if v, ok := s.Lookup(key); ok {
		return v
	}
	return def
}

// Has reports whether key is present (Django's key in session).
func (s *Session) Has(key string) bool {
	_, ok := s.Lookup(key)
	return ok
}

// Set stores value under key (session[key] = value). The value must be
// representable in JSON; otherwise the session records the error and will
// not be saved (see Err).
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(key, value)
}

func (s *Session) set(key string, value any) {
	s.load()
	v, err := normalize(value)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("%w: key %q: %v", ErrValue, key, err)
		}
		return
	}
	s.change(op{kind: opSet, key: key, value: v})
}

// Update sets every pair of values (session.update(d)). Like Django it
// marks the session modified even when values is empty.
func (s *Session) Update(values map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	for _, k := range slices.Sorted(maps.Keys(values)) {
		s.set(k, values[k])
	}
	s.modified = true
}

// SetDefault returns the value for key, storing value first when key is
// absent (session.setdefault(key, value)).
func (s *Session) SetDefault(key string, value any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if v, ok := s.data[key]; ok {
		return v
	}
	v, err := normalize(value)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("%w: key %q: %v", ErrValue, key, err)
		}
		return nil
	}
	s.change(op{kind: opSetDefault, key: key, value: v})
	return v
}

// Delete removes key (del session[key]). A missing key is not an error and
// leaves the session unmodified.
func (s *Session) Delete(key string) {
	s.Pop(key, nil)
}

// Pop removes key and returns its value, or def when it is absent
// (session.pop(key, default)).
func (s *Session) Pop(key string, def any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	v, ok := s.data[key]
	if !ok {
		return def
	}
	s.change(op{kind: opDelete, key: key})
	return v
}

// MarkModified records that the value under key was changed in place, a
// map or slice obtained from the session and then modified: Django's
// request.session.modified = True, for one key. The value as it is now
// is saved as if set again (session[key] = value), and only that key is
// written: a request that changed another key concurrently keeps its
// change, which a flag for the whole session could not promise (see
// the package's "No lost updates").
//
// The value is taken when MarkModified is called, exactly as Set takes
// it: the session keeps a copy, so a change made afterwards to the map or
// slice the handler holds is not the session's. To change it again, Get
// it again, change it and mark it again. A missing key records nothing; a
// value JSON cannot represent is an error, as for Set (see Err).
func (s *Session) MarkModified(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	v, ok := s.data[key]
	if !ok {
		return
	}
	s.set(key, v)
}

// Incr adds n to the integer under key (a missing or non-integer value
// counts as 0) and returns the new value as this request sees it. The
// addition is saved as an increment, not as the value: N concurrent
// increments of one session, in any number of processes, add exactly N.
// Call Save to learn the value that was actually stored.
func (s *Session) Incr(key string, n int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.change(op{kind: opIncr, key: key, n: n})
	v, _ := asInt64(s.data[key])
	return v
}

// Keys returns the keys, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return slices.Sorted(maps.Keys(s.data))
}

// Items returns a copy of the data (session.items()).
func (s *Session) Items() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return maps.Clone(s.data)
}

// Len returns the number of keys.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return len(s.data)
}

// Clear removes every key but keeps the session key (session.clear()): the
// record is saved empty and the cookie stays.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.change(op{kind: opClear})
}

// Flush removes the data and the stored record and drops the key
// (session.flush()), as on logout: the old cookie no longer opens anything,
// and the response deletes it (or replaces it, if data is set afterwards).
// The record is deleted when the response starts, and not at all if the
// response is a server error.
func (s *Session) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.rowKey != "" {
		s.deleteKey = s.rowKey
	}
	s.data = map[string]any{}
	s.ops = s.ops[:0]
	s.rowKey, s.raw, s.key, s.cycle = "", "", "", false
	s.modified = true
	s.dirty = true
}

// CycleKey gives the session a new key and keeps its data
// (session.cycle_key()). Call it when privileges change, at login above
// all: an attacker who planted a known session key in the victim's browser
// (session fixation) is left holding a key that no longer exists. The old
// record is deleted when the new one is written.
//
// The new key is chosen now, so that Key returns it at once (a login hook
// can record it), also for a session not stored yet, whose first save
// creates its record under it (or, in the unlikely case that another
// session took it meanwhile, under another fresh key). With SignedCookies
// the key is the signed data, made when the session is saved.
func (s *Session) CycleKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	s.modified = true
	if s.rowKey == "" {
		// Nothing stored yet: no record to move, only a key to choose
		// (which the save drops if the session stays empty).
		if s.m.cookies == nil {
			s.key = NewKey()
			s.dirty = true
		}
		return
	}
	s.key = NewKey()
	s.cycle = true
	s.dirty = true
}

// SetExpiry sets the session to expire after seconds of inactivity
// (set_expiry(int)); 0 means when the browser closes, and a negative value
// expires it at once.
func (s *Session) SetExpiry(seconds int) {
	s.Set(expiryKey, seconds)
}

// SetExpiryAt sets the session to expire at t (set_expiry(datetime)).
func (s *Session) SetExpiryAt(t time.Time) {
	s.Set(expiryKey, isoformat(t))
}

// ResetExpiry returns the session to the default expiry policy
// (set_expiry(None)).
func (s *Session) ResetExpiry() {
	s.Delete(expiryKey)
}

// ExpiryAge returns the seconds until the session expires, counted from
// now (get_expiry_age()); an expiry in the past is negative.
func (s *Session) ExpiryAge() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.m.expiryAge(s.data, s.m.cfg.Now())
}

// ExpiryDate returns when the session expires if it is saved now
// (get_expiry_date()).
func (s *Session) ExpiryDate() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.m.expiryDate(s.data, s.m.cfg.Now())
}

// ExpireAtBrowserClose reports whether the cookie lasts only until the
// browser closes (get_expire_at_browser_close()).
func (s *Session) ExpireAtBrowserClose() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	return s.m.expireAtBrowserClose(s.data)
}

// CookieAge returns the default session lifetime in seconds, the
// manager's CookieAge (get_session_cookie_age()): the expiry age of a
// session without an expiry of its own.
func (s *Session) CookieAge() int {
	return s.m.cookieAge()
}

// IsEmpty reports whether the session has neither a key nor data. It does
// not load the session.
func (s *Session) IsEmpty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isEmpty()
}

func (s *Session) isEmpty() bool {
	return s.key == "" && (!s.loaded || len(s.data) == 0)
}

// Modified reports whether the session was changed during this request.
func (s *Session) Modified() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modified
}

// Accessed reports whether the session was read or written during this
// request.
func (s *Session) Accessed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessed
}

// Save writes the pending changes now instead of when the response starts
// (Django's session.save()), and returns a store fault or ErrInterrupted.
// Afterwards the session holds the data as stored, including changes that
// concurrent requests saved first.
//
// Save works after the response was sent, too (a goroutine that kept the
// session): its store calls carry the request's values but not its
// cancellation. A session opened with Manager.Open gets a fresh store
// budget (Config.StoreTimeout) at each Save.
func (s *Session) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.opened {
		s.spent = 0
	}
	return s.persist(false)
}

// Django's test-cookie keys: set_test_cookie stores "worked" under
// "testcookie".
const (
	testCookieKey   = "testcookie"
	testCookieValue = "worked"
)

// SetTestCookie stores a marker in the session (set_test_cookie()), so
// that a later request can tell, with [Session.TestCookieWorked], whether
// the browser sent the session cookie back: a login page sets it on GET and
// checks it on POST to say "please enable cookies" instead of failing
// silently.
func (s *Session) SetTestCookie() {
	s.Set(testCookieKey, testCookieValue)
}

// TestCookieWorked reports whether the marker set by SetTestCookie came back
// (test_cookie_worked()).
func (s *Session) TestCookieWorked() bool {
	v, ok := s.Lookup(testCookieKey)
	return ok && v == testCookieValue
}

// DeleteTestCookie removes the marker (delete_test_cookie()). Unlike
// Django's, it is not an error when the marker is absent.
func (s *Session) DeleteTestCookie() {
	s.Delete(testCookieKey)
}
