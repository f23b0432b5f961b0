package session

import (
	"encoding/json"
	"strconv"
	"time"
)

// startKey is where the clock of the absolute timeout lives in the data:
// the Unix time, in seconds, at which the session was first stored, or
// last logged in (RestartAbsoluteTimeout). It is written only when
// Config.AbsoluteTimeout is on, so that by default the data is exactly
// Django's.
const startKey = "_session_start"

// refreshShare is the part of the idle timeout by which a session's
// stored expiry may fall behind before a request that uses the session
// writes it again: a session is written at most once per tenth of the
// timeout for its activity, and ends between nine tenths of the timeout
// and the whole of it after its last use.
const refreshShare = 10

// timeouts reports whether an idle or absolute timeout is on.
func (m *Manager) timeouts() bool { return m.cfg.IdleTimeout > 0 || m.cfg.AbsoluteTimeout > 0 }

// started returns the start of the absolute timeout's clock kept in data.
func started(data map[string]any) (time.Time, bool) {
	n, ok := asInt64(data[startKey])
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// unixNumber is t in Unix seconds, as the data keeps it.
func unixNumber(t time.Time) json.Number { return json.Number(strconv.FormatInt(t.Unix(), 10)) }

// recordExpiry is when a record of data written at now expires: Django's
// expiry date (get_expiry_date), lowered to now + IdleTimeout and to the
// session's start + AbsoluteTimeout. The timeouts live in expire_date, so
// that a Django site sharing the sessions honours them too.
func (m *Manager) recordExpiry(data map[string]any, now time.Time) time.Time {
	exp := m.expiryDate(data, now)
	if d := m.cfg.IdleTimeout; d > 0 {
		if t := now.Add(d); t.Before(exp) {
			exp = t
		}
	}
	if d := m.cfg.AbsoluteTimeout; d > 0 {
		if st, ok := started(data); ok {
			if t := st.Add(d); t.Before(exp) {
				exp = t
			}
		}
	}
	return exp
}

// pastAbsolute reports whether the session of data has outlived its
// absolute timeout at now. Load refuses such a session whatever its
// expire_date says (a Django site that wrote the session again moved its
// expire_date, not its start).
func (m *Manager) pastAbsolute(data map[string]any, now time.Time) bool {
	d := m.cfg.AbsoluteTimeout
	if d <= 0 {
		return false
	}
	st, ok := started(data)
	return ok && !st.Add(d).After(now)
}

// refreshDue reports whether a stored session that a request used, with
// data and the expiry it was loaded with, must be written again though
// the request did not change it: with IdleTimeout, when its expiry has
// fallen more than a tenth of the timeout behind what a write now would
// give (the request's use moves the idle deadline); with AbsoluteTimeout,
// when its data has no clock yet (stored before the setting was on, or by
// Django: the clock starts at the first use seen here).
func (m *Manager) refreshDue(data map[string]any, expires, now time.Time) bool {
	if m.cfg.AbsoluteTimeout > 0 {
		if _, ok := started(data); !ok {
			return true
		}
	}
	d := m.cfg.IdleTimeout
	if d <= 0 {
		return false
	}
	return expires.Before(m.recordExpiry(data, now).Add(-d / refreshShare))
}

// startClock gives a session about to be stored the clock of its absolute
// timeout, if it has none yet; the caller holds s.mu.
func (s *Session) startClock() {
	if s.m.cfg.AbsoluteTimeout <= 0 {
		return
	}
	if _, ok := started(s.data); !ok {
		s.change(op{kind: opSetDefault, key: startKey, value: unixNumber(s.m.cfg.Now())})
	}
}

// RestartAbsoluteTimeout restarts the clock of Config.AbsoluteTimeout: the
// session ends that long from now, whatever its activity. Call it at
// login (auth.Login does): the absolute timeout counts from the login,
// not from other key cycles. Without AbsoluteTimeout it does nothing (the
// data stays Django's).
func (s *Session) RestartAbsoluteTimeout() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	if s.m.cfg.AbsoluteTimeout > 0 {
		s.set(startKey, unixNumber(s.m.cfg.Now()))
	}
}

// Deadlines are when a session ends by its timeouts (see
// [Session.Deadlines]); a zero time is a timeout that is off.
type Deadlines struct {
	// Idle is when the session ends if it is not used again: now plus
	// Config.IdleTimeout (the request using it is activity; its stored
	// expiry may run up to a tenth of the timeout earlier).
	Idle time.Time
	// Absolute is the session's start (its login) plus
	// Config.AbsoluteTimeout, whatever its activity.
	Absolute time.Time
}

// Deadlines returns when the session ends by Config.IdleTimeout and
// Config.AbsoluteTimeout, for display (the session inspector shows them).
// A session whose clock has not started (not stored yet) starts it when
// it is saved: its absolute deadline counts from now.
func (s *Session) Deadlines() Deadlines {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
	var d Deadlines
	now := s.m.cfg.Now()
	if t := s.m.cfg.IdleTimeout; t > 0 {
		d.Idle = now.Add(t)
	}
	if t := s.m.cfg.AbsoluteTimeout; t > 0 {
		st, ok := started(s.data)
		if !ok {
			st = now
		}
		d.Absolute = st.Add(t)
	}
	return d
}
