package engine

// Stats are the figures of an opened engine's layers, read when metrics
// are scraped: counters since the engine opened, and gauges of now.
type Stats struct {
	// Caches has an entry per cache layer, from the request down: the
	// Redis cache of cached_db, the database store's in-process cache,
	// the process memory of the cache engine without CACHE_URL.
	Caches []CacheStats
	// Writes are the writes of the layer that keeps the records; nil
	// when that layer does not count them (Redis, the cookie).
	Writes *WriteStats
}

// CacheStats are the figures of one cache layer. A figure the layer does
// not keep is -1.
type CacheStats struct {
	// Layer names the cache, as a metric label: "redis" (cached_db's
	// shared cache), "process" (the database store's in-process cache),
	// "memory" (the cache engine's process memory).
	Layer string
	// Hits and Misses count the loads the layer answered, and those it
	// did not (passed to the layer below, or not found).
	Hits, Misses int64
	// Len is the number of sessions held now (-1: Redis, which does not
	// count them cheaply).
	Len int64
	// Evicted counts the sessions dropped to stay within the layer's
	// bound, least recently used first.
	Evicted int64
	// Expired counts the expired sessions the layer removed by itself.
	Expired int64
	// Fallbacks counts the operations served by the layer below because
	// this one failed or was being bypassed.
	Fallbacks int64
}

// WriteStats are the writes of the layer that keeps the records.
type WriteStats struct {
	// Commits counts write transactions: a group commit's on a database,
	// one per write in process memory.
	Commits int64
	// Writes counts the writes (creates, updates, and on a database
	// deletes) in them.
	Writes int64
	// Rollbacks counts groups rolled back because one write failed, then
	// run one by one (PostgreSQL).
	Rollbacks int64
}
