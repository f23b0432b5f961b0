package usersessions

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// Memory is a Backend in this process's memory, for the cache engine
// without CACHE_URL, whose sessions live in the same process: the index
// is lost with them when it restarts.
type Memory struct {
	mu     sync.Mutex
	seq    int64
	owners map[string]map[string]*Entry // owner -> key -> entry
	keys   map[string]map[string]bool   // key -> owners
}

// NewMemory returns an empty Memory backend.
func NewMemory() *Memory {
	return &Memory{owners: map[string]map[string]*Entry{}, keys: map[string]map[string]bool{}}
}

// Put implements Backend.
func (m *Memory) Put(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byKey := m.owners[e.Owner]
	if byKey == nil {
		byKey = map[string]*Entry{}
		m.owners[e.Owner] = byKey
	}
	if cur := byKey[e.Key]; cur != nil {
		cur.LastSeen, cur.Touched = e.LastSeen, e.Touched
		if e.IP != "" {
			cur.IP = e.IP
		}
		if e.UserAgent != "" {
			cur.UserAgent = e.UserAgent
		}
		return nil
	}
	m.seq++
	e.Seq = m.seq
	byKey[e.Key] = &e
	if m.keys[e.Key] == nil {
		m.keys[e.Key] = map[string]bool{}
	}
	m.keys[e.Key][e.Owner] = true
	return nil
}

// Get implements Backend.
func (m *Memory) Get(ctx context.Context, owner, key string) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.owners[owner][key]; e != nil {
		return *e, true, nil
	}
	return Entry{}, false, ctx.Err()
}

// Owned implements Backend.
func (m *Memory) Owned(ctx context.Context, owner string) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for _, e := range m.owners[owner] {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, ctx.Err()
}

// RemoveKey implements Backend.
func (m *Memory) RemoveKey(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for owner := range m.keys[key] {
		m.remove(owner, key)
	}
	return nil
}

// remove removes the entry of owner and key; the caller holds m.mu.
func (m *Memory) remove(owner, key string) {
	delete(m.owners[owner], key)
	if len(m.owners[owner]) == 0 {
		delete(m.owners, owner)
	}
	delete(m.keys[key], owner)
	if len(m.keys[key]) == 0 {
		delete(m.keys, key)
	}
}

// Drop implements Backend.
func (m *Memory) Drop(ctx context.Context, owner, key string, before time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.owners[owner][key]
	if e == nil || !e.Touched.Before(before) {
		return false, nil
	}
	m.remove(owner, key)
	return true, nil
}

// Count implements Backend.
func (m *Memory) Count(ctx context.Context) (int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, byKey := range m.owners {
		n += int64(len(byKey))
	}
	return n, int64(len(m.owners)), nil
}

// Top implements Backend.
func (m *Memory) Top(ctx context.Context, n int) ([]OwnerCount, error) {
	m.mu.Lock()
	var all []OwnerCount
	for owner, byKey := range m.owners {
		all = append(all, OwnerCount{Owner: owner, Entries: int64(len(byKey))})
	}
	m.mu.Unlock()
	return top(all, n), nil
}

// top sorts counts, most entries first (then by owner), and keeps n.
func top(all []OwnerCount, n int) []OwnerCount {
	slices.SortFunc(all, func(a, b OwnerCount) int {
		if c := cmp.Compare(b.Entries, a.Entries); c != 0 {
			return c
		}
		return cmp.Compare(a.Owner, b.Owner)
	})
	return all[:min(n, len(all))]
}

// Sweep implements Backend.
func (m *Memory) Sweep(ctx context.Context, before, now time.Time, live func(ctx context.Context, key string) (bool, error)) (int64, error) {
	m.mu.Lock()
	var old []Entry
	for _, byKey := range m.owners {
		for _, e := range byKey {
			if e.Touched.Before(before) {
				old = append(old, *e)
			}
		}
	}
	m.mu.Unlock()
	var n int64
	for _, e := range old {
		ok, err := live(ctx, e.Key)
		if err != nil {
			return n, err
		}
		if ok {
			continue
		}
		dropped, err := m.Drop(ctx, e.Owner, e.Key, before)
		if err != nil {
			return n, err
		}
		if dropped {
			n++
		}
	}
	return n, nil
}
