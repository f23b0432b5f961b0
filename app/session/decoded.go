package session

import (
	"encoding/json"
	"strings"
	"sync"
	"unique"
)

// decodedCache remembers the decoded data of recently loaded or saved
// records, keyed by session key and checked against the stored string:
// decoding (HMAC, base64, maybe zlib, JSON) is the dearest part of a load,
// and a session that did not change decodes to the same data. Values are
// deep-copied in and out, so a handler changing a nested value of its
// session cannot reach another request's copy.
//
// An entry is kept small, since a cache of thousands of sessions is
// mostly these entries: the data as a slice of fields rather than a map
// (a map of a few keys costs some 300 bytes before its contents), names
// and short strings and numbers interned (every session has the same
// names, and mostly the same few values), and the key copied out of the
// request it came with.
type decodedCache struct {
	max     int
	mu      sync.Mutex
	entries map[string]decodedEntry
}

type decodedEntry struct {
	raw    string // the stored data this entry is the decoding of
	fields []field
}

// field is one key of a session and its value.
type field struct {
	name  string
	value any
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
	data := make(map[string]any, len(e.fields))
	for _, f := range e.fields {
		data[f.name] = deepCopy(f.value)
	}
	return data, true
}

func (c *decodedCache) put(key, raw string, data map[string]any) {
	if c.max <= 0 {
		return
	}
	fields := make([]field, 0, len(data))
	for name, v := range data {
		fields = append(fields, field{name: unique.Make(name).Value(), value: compact(v)})
	}
	e := decodedEntry{raw: raw, fields: fields}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]decodedEntry, min(c.max, 4096))
	}
	if _, ok := c.entries[key]; ok {
		c.entries[key] = e
		return
	}
	if len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[strings.Clone(key)] = e
}

// maxInterned is the longest string or number that compact interns: the
// short values many sessions share (names, roles, small counts), not
// every long token.
const maxInterned = 32

// compact returns a deep copy of a decoded JSON value for the cache,
// with short strings and numbers interned as values: sessions holding
// the same short value then share one copy of it, boxed once.
func compact(v any) any {
	switch x := v.(type) {
	case string:
		if len(x) <= maxInterned {
			return unique.Make[any](x).Value()
		}
	case json.Number:
		if len(x) <= maxInterned {
			return unique.Make[any](x).Value()
		}
	case bool, nil:
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = compact(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = compact(e)
		}
		return s
	}
	return v
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
