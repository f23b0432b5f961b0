// Package redisstore keeps sessions in Redis, through go-redis v9, in two
// ways Django users know:
//
//   - [Store] is Django's cache engine: Redis holds the sessions, with the
//     same [session.Store] contract as the database (create only if
//     absent, compare-and-swap updates, no resurrection, no lost update
//     across processes).
//   - [CachedStore] is Django's cached_db engine: the database store is the
//     record, and Redis a write-through cache in front of it that never
//     serves what an acknowledged write replaced.
//
// Sharing sessions with Django's cache engines is not a goal: Django
// pickles its cache values, which Go must not unpickle. A Go site and a
// Django site share sessions through the database (package dbstore, or
// CachedStore in front of it).
//
// # Store: the contract on Redis
//
// A record is a hash under the key <prefix><session key> (prefix
// [DefaultPrefix], [WithPrefix]) with the fields "data" (the signed
// session data, opaque) and "expires" (microseconds since the Unix epoch:
// whole seconds and milliseconds come back exactly). Each operation is
// one round trip:
//
//	Load    HMGET; the expiry is checked against the store's clock
//	Create  script: refuse if a live record has the key (ErrExists), else HSET + PEXPIRE
//	Update  script: ErrNotFound if no record, ErrConflict if data != old, else HSET + PEXPIRE
//	Delete  DEL, or a script that deletes only while data == old (ErrConflict;
//	        ErrNotFound if no record)
//
// Scripts run by EVALSHA, and by EVAL when Redis does not know them yet.
// A record whose expiry is not after the store's clock ([WithClock], the
// session manager's clock; never Redis's TIME) does not load, like the
// database's expire_date > now. The key's TTL is the expiry plus a grace
// period ([WithGrace], 1 h by default) so that Redis frees the memory
// by itself, while a host whose clock lags still finds what it considers
// live; there is nothing for clearsessions to do. Create over an expired record replaces it, and Update of a
// record past its grace finds nothing: the two latitudes the Store
// contract gives stores that reclaim expired records.
//
// Create, Update and the conditional Delete run at most once: go-redis resends a command after a
// read timeout, and a compare-and-swap run twice would report its own
// write as a conflict, making the manager apply the request's changes
// twice. A reply that never comes is a fault (the middleware answers
// 503), as a lost COMMIT reply is for a database.
//
// [Store.Each] walks the records with SCAN (for manage sessions) and
// [Store.Check] pings Redis (for readiness probes).
//
// # CachedStore: layout and protocol
//
// Keys: <prefix>gen holds the generation, a counter; an entry lives under
// <prefix><generation>:<session key> (prefix [DefaultCachePrefix]) and is
// either "v<expiry µs>:<data>" or a tombstone "t<random token>". Every
// script reads the generation and the entry in one round trip, so
// incrementing the generation empties the cache of every instance at once.
//
//	Load          entry → hit (if not expired by the store's clock)
//	              tombstone or expired entry → the database, no fill
//	              nothing → the database, then fill: SET NX, only if the
//	              generation is the one the miss saw and the miss began
//	              less than a third of the tombstone TTL ago
//	Create/Update 1. tombstone T (own random token), 2. the database write,
//	              3. if the entry is still T: the new entry, else a fresh
//	              tombstone; if the database refused the write: delete T
//	Delete        the database delete, then a tombstone
//
// Tombstones live [WithTombstoneTTL] (30 s by default); an
// entry lives min(the record's expiry, [WithMaxAge] (5 min by
// default)), and at least the tombstone TTL when a write made it.
//
// Why it holds: a reader that read the database before a write can only
// fill while its key is empty, but the write's tombstone T is there from
// before the database write until its entry or tombstone replaces it,
// and those live longer than the slowest fill allowed. Step 3 writes the
// new entry only over its own token: if any other write or fill touched
// the key meanwhile, it leaves a tombstone. So cache steps of several
// writers that Redis runs out of order, twice, or late can never leave an
// entry older than the database; at worst a tombstone, which sends
// readers to the database.
//
// # CachedStore: the guarantees
//
//   - No lost update: the database decides every compare-and-swap; Redis
//     is never the record.
//   - Read your acknowledged writes, anywhere: once Create, Update or
//     Delete has returned on any instance (any process, any host), every
//     Load that starts afterwards on any instance returns that write or a
//     later one, and a deleted session is never loaded again, from the
//     cache or the database. Between the database commit and the return,
//     readers may see the old or the new record, as with a database.
//   - An expired record never loads (the entry carries the expiry).
//
// The windows, exactly:
//
//   - A write that bypassed the cache (Django on the same database, raw
//     SQL, a restore) is served stale for at most WithMaxAge from the time
//     the stale entry was cached. A write through the store that then
//     conflicts in the database clears the entry.
//   - Redis failing (an error, a timeout): see below. A write whose cache
//     step failed, or that was made while this instance bypassed Redis,
//     is invisible to instances that still read Redis (a network
//     partition, or Redis back before this instance noticed) until this
//     instance bumps the generation: at most one probe interval (1 s)
//     after Redis answers it again, and never longer than WithMaxAge
//     after the replaced entry was cached.
//   - Redis must not lose acknowledged writes while it keeps data:
//     restarting from an older snapshot (RDB, AOF with everysec) or
//     failing over to a replica that lagged brings back entries that
//     writes had replaced, and no instance may notice (go-redis reconnects
//     quietly): stale for at most WithMaxAge. Hence: run the cache
//     without persistence (a restart comes back empty, which is safe) or
//     with appendfsync always, and without failover to lagging replicas.
//   - Eviction: if Redis evicts a fresh entry or a tombstone less than
//     the fill window (10 s by default) after a write, a reader whose
//     database read preceded that write can cache the old record: stale
//     for at most WithMaxAge. With maxmemory-policy noeviction that cannot
//     happen: a full Redis makes writes fail, and the store falls back to
//     the database and bumps the generation once it can write again.
//   - A database write slower than the tombstone TTL minus the fill
//     window (20 s by default) might land after its tombstone expired: the
//     store notices and bumps the generation, as for a failed step.
//
// # When Redis is down
//
// [Store] returns the error: Redis is the record. The site answers 503,
// and the sessions come back with Redis (as far as its persistence kept
// them).
//
// [CachedStore] serves from the database: the first call that fails pays
// the client's timeout, then the store bypasses Redis entirely (no
// timeout per request) while a goroutine pings it with backoff (50 ms
// doubling to 1 s); at the first answer it bumps the generation if a write
// went to the database without its cache step, and uses Redis again.
// Every request served from the database alone is counted in
// [CachedStore.Stats] (Fallbacks), and logged at most once per 10 s
// ([WithLogger]).
//
// # Client settings
//
// The client is the caller's, and its timeouts bound every call. go-redis
// waits 5 s to dial and 3 s to read by default; sessions want about a
// second in total: DialTimeout 1 s, ReadTimeout and WriteTimeout 500 ms,
// PoolTimeout 1 s, and ContextTimeoutEnabled so that the request's
// deadline bounds its Redis calls too. [ParseURL] parses CACHE_URL with
// these defaults.
//
// # Redis settings
//
// For Store (Redis is the record): persistence on (appendonly yes;
// appendfsync everysec loses at most a second of writes in a crash,
// always none), and maxmemory-policy noeviction: every key has a TTL, so
// the volatile-* and allkeys-* policies would log users out to free
// memory. Restoring an older snapshot brings back sessions deleted since
// (logouts), as restoring a database backup would.
//
// For CachedStore: no persistence (save "", appendonly no) and
// maxmemory-policy noeviction, as explained above; an evicting policy
// (allkeys-lru) works within the stated bound.
//
// Store works on Redis Cluster (each script touches one key, and Each
// walks every primary). CachedStore needs a single primary (standalone or
// Sentinel): its scripts derive the entry's key from the generation.
package redisstore
