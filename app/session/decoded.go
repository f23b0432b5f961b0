package session

import "sync"

// decodedCache remembers the decoded data of recently loaded or saved
// records, keyed by session key and checked against the stored string:
// decoding (HMAC, base64, maybe zlib, JSON) is the dearest part of a load,
// and a session that did not change decodes to the same data. Values are
// deep-copied in and out, so a handler changing a nested value of its
// session cannot reach another request's copy.
type decodedCache struct {
	max     int
	mu      sync.Mutex
	entries map[string]decodedEntry
}

type decodedEntry struct {
	raw  string
	data map[string]any
}

func (c *decodedCache) get(key, raw string) (map[string]any, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok || e.raw != raw {
		return nil, false
	}
	return deepCopy(e.data).(map[string]any), true
}

func (c *decodedCache) put(key, raw string, data map[string]any) {
	if c.max <= 0 {
		return
	}
	e := decodedEntry{raw: raw, data: deepCopy(data).(map[string]any)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]decodedEntry, min(c.max, 4096))
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = e
}

// deepCopy copies the maps and slices of a decoded JSON value; strings,
// numbers, booleans and nil are immutable and shared.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
