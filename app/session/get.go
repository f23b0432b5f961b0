package session

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
)

// GetString returns the string under key, or def when the key is absent or
// holds another type.
func (s *Session) GetString(key, def string) string {
	if v, ok := s.Lookup(key); ok {
		if str, ok := v.(string); ok {
			return str
		}
	}
	return def
}

// GetInt returns the integer under key, or def when the key is absent or
// holds something that is not an integral number that fits an int.
func (s *Session) GetInt(key string, def int) int {
	if v, ok := s.Lookup(key); ok {
		if i, ok := asInt64(v); ok && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
	}
	return def
}

// GetFloat returns the number under key as a float64, or def.
func (s *Session) GetFloat(key string, def float64) float64 {
	if v, ok := s.Lookup(key); ok {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				return f
			}
		}
	}
	return def
}

// GetBool returns the boolean under key, or def.
func (s *Session) GetBool(key string, def bool) bool {
	if v, ok := s.Lookup(key); ok {
		if b, ok := v.(bool); ok {
			return b
		}
	}
	return def
}

// GetTime returns the time under key, stored as an ISO 8601 string (how
// Set stores a time.Time, and how Django code usually stores one), or def.
func (s *Session) GetTime(key string, def time.Time) time.Time {
	if v, ok := s.Lookup(key); ok {
		if str, ok := v.(string); ok {
			if t, ok := parseISO(str); ok {
				return t
			}
		}
	}
	return def
}

// Get returns the value under key converted to T, and whether that worked.
// A value already of type T is returned as is; anything else goes through
// JSON, so a struct stored with Set reads back into the same struct type,
// and a stored number into any Go number type that holds it.
func Get[T any](s *Session, key string) (T, bool) {
	var zero T
	v, ok := s.Lookup(key)
	if !ok {
		return zero, false
	}
	if t, ok := v.(T); ok {
		return t, true
	}
	data, err := json.Marshal(v)
	if err != nil {
		return zero, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out T
	if err := dec.Decode(&out); err != nil {
		return zero, false
	}
	return out, true
}
